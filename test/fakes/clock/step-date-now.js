// Preloaded into a real collector (`NODE_OPTIONS=--require …`): after RIGWATCH_TEST_CLOCK_STEP_AFTER_MS
// of real time, Date.now jumps by RIGWATCH_TEST_CLOCK_STEP_MS (negative: back), the way an NTP step or
// a resumed VM moves the wall clock. performance.now (monotonic) is untouched. Plain JS: it is loaded
// by node itself, before any bundle.
'use strict';
const after = Number(process.env.RIGWATCH_TEST_CLOCK_STEP_AFTER_MS);
const step = Number(process.env.RIGWATCH_TEST_CLOCK_STEP_MS);
if (Number.isFinite(after) && Number.isFinite(step)) {
  const realNow = Date.now;
  const start = realNow();
  Date.now = () => {
    const n = realNow();
    return n - start >= after ? n + step : n;
  };
}
