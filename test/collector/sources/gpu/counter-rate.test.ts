// Rate math of cumulative counters (NVLink throughput): increases, 32/64-bit wraps, resets, repeated samples.

import { strict as assert } from 'node:assert';
import { CounterRate, counterDelta } from '../../../../collector/sources/gpu/counter-rate';

const TWO_32 = 4294967296;

describe('gpu counter rates (counterDelta, CounterRate)', () => {
  it('a forward step is the difference, also across the 32-bit halves of a 64-bit counter', () => {
    assert.deepEqual(counterDelta(0, 100, 0, 350, 64), { kind: 'delta', delta: 250 });
    assert.deepEqual(counterDelta(0, TWO_32 - 10, 1, 5, 64), { kind: 'delta', delta: 15 });
    assert.deepEqual(counterDelta(7, 9, 7, 9, 64), { kind: 'delta', delta: 0 });
  });

  it('a 64-bit counter wrapping over 2^64 gives the small step, exactly', () => {
    // prev = 2^64 - 100, cur = 50: 150 more, which a double of the full values could not tell.
    assert.deepEqual(counterDelta(TWO_32 - 1, TWO_32 - 100, 0, 50, 64), { kind: 'delta', delta: 150 });
  });

  it('a 32-bit counter wrapping over 2^32', () => {
    assert.deepEqual(counterDelta(0, TWO_32 - 1000, 0, 24, 32), { kind: 'delta', delta: 1024 });
  });

  it('a counter that fell back (driver reload, counters cleared) is a reset, not a huge or negative step', () => {
    assert.deepEqual(counterDelta(0, 5_000_000, 0, 12, 64), { kind: 'reset' });
    assert.deepEqual(counterDelta(3, 0, 0, 12, 64), { kind: 'reset' });
    assert.deepEqual(counterDelta(0, 1_000_000_000, 0, 1000, 32), { kind: 'reset' });
  });

  it('CounterRate: no rate on the first reading, then per second over the time stamps; a reset gives one null, then rates again', () => {
    const r = new CounterRate();
    assert.ok(Number.isNaN(r.update(0, 1000, 1_000_000, 64)), 'first reading');
    assert.equal(r.update(0, 3000, 3_000_000, 64), 1000, '2000 over 2 s');
    assert.equal(r.update(0, 3000, 3_000_000, 64), 1000, 'the same sample again (same time stamp): the rate stays');
    assert.ok(Number.isNaN(r.update(0, 10, 4_000_000, 64)), 'reset');
    assert.equal(r.update(0, 510, 4_500_000, 64), 1000, 'rates again after the reset');
    assert.equal(r.update(TWO_32 - 1, TWO_32 - 100, 5_500_000, 64), r.rate);
    assert.equal(r.update(0, 400, 6_000_000, 64), 1000, 'across the 2^64 wrap: 500 in 0.5 s');
    r.reset();
    assert.ok(Number.isNaN(r.rate));
    assert.ok(Number.isNaN(r.update(0, 1, 7_000_000, 64)), 'after reset(): a first reading again');
  });
});
