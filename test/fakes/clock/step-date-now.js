// Preloaded into a real collector (`NODE_OPTIONS=--require …`): once the file named by
// RIGWATCH_TEST_CLOCK_STEP_FILE exists, Date.now jumps by RIGWATCH_TEST_CLOCK_STEP_MS (negative: back),
// the way an NTP step or a resumed VM moves the wall clock. performance.now (monotonic) is untouched.
// The test creates the file when it wants the step, so a slow start cannot move it. Plain JS: loaded
// by node itself, before any bundle.
'use strict';
const fs = require('node:fs');
const file = process.env.RIGWATCH_TEST_CLOCK_STEP_FILE;
const step = Number(process.env.RIGWATCH_TEST_CLOCK_STEP_MS);
if (file && Number.isFinite(step)) {
  const realNow = Date.now;
  let stepped = false;
  let checkedAt = 0;
  Date.now = () => {
    const n = realNow();
    if (!stepped && n - checkedAt >= 20) {
      checkedAt = n;
      stepped = fs.existsSync(file);
    }
    return stepped ? n + step : n;
  };
}
