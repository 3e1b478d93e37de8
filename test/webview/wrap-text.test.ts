// Line-break helpers of the dashboard: a number keeps its unit in free text.

import * as assert from 'node:assert/strict';
import { keepUnits } from '../../webview/wrap-text';

describe('webview: keepUnits', () => {
  it('joins each number to its unit with a no-break space, and nothing else', () => {
    assert.equal(
      keepUnits('running · 3 h 12 min · step 5000 · 19.6 ms · 71.3 GiB · 97 % · 1234 tok/s · 2 GPUs · 3 steps'),
      'running · 3\u00a0h 12\u00a0min · step 5000 · 19.6\u00a0ms · 71.3\u00a0GiB · 97\u00a0% · 1234\u00a0tok/s · 2 GPUs · 3 steps',
    );
  });
});
