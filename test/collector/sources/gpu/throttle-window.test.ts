// Per-reason throttle shares over a rolling 5 min: violation counters where read, sampled reasons otherwise.

import { strict as assert } from 'node:assert';
import { ThrottleWindows, THROTTLE_WINDOW_MS } from '../../../../collector/sources/gpu/throttle-window';
import type { GpuThrottleSummary } from '../../../../protocol/details/gpu';

const share = (s: GpuThrottleSummary | null, reason: string): [number, number | null] | undefined => {
  const r = s?.reasons.find((x) => x.reason === reason);
  return r ? [Math.round(r.windowRatio * 1000) / 1000, r.lastRatio] : undefined;
};

describe('gpu throttle window (per reason, last interval and last 5 min)', () => {
  it('the first tick starts the clock; sampled reasons count whole ticks; the window slides out after 5 min', () => {
    const w = new ThrottleWindows();
    let t = 1000;
    const tick = (mask: number | null, pv: number | null = null, tv: number | null = null): GpuThrottleSummary | null =>
      w.add('0000:07:00.0', (t += 1000), { mask, powerViolation: pv, thermalViolation: tv });
    assert.equal(w.add('0000:07:00.0', t, { mask: 0x4, powerViolation: null, thermalViolation: null }), null);
    let s: GpuThrottleSummary | null = null;
    for (let i = 0; i < 60; i++) s = tick(0x4); // SW power cap
    assert.deepEqual(share(s, 'power_cap'), [1, 1]);
    assert.deepEqual(share(s, 'thermal'), [0, 0]);
    for (let i = 0; i < 60; i++) s = tick(0x0);
    assert.deepEqual(share(s, 'power_cap'), [0.5, 0]);
    assert.equal(s?.windowMs, 120_000);
    for (let i = 0; i < 300; i++) s = tick(0x1); // idle for 5 min: the power-cap minutes have left the window
    assert.deepEqual(share(s, 'power_cap'), [0, 0]);
    assert.deepEqual(share(s, 'idle'), [1, 1]);
    assert.equal(s?.windowMs, THROTTLE_WINDOW_MS);
    assert.deepEqual(
      s?.reasons.map((r) => r.label),
      ['power cap', 'thermal', 'HW slowdown', 'power brake', 'sync boost', 'application clocks', 'display clocks', 'idle'],
    );
  });

  it('violation counters win over the sampled bit; HW thermal and SW thermal both count as thermal', () => {
    const w = new ThrottleWindows();
    let t = 0;
    const tick = (mask: number | null, pv: number | null, tv: number | null): GpuThrottleSummary | null =>
      w.add('b', (t += 1000), { mask, powerViolation: pv, thermalViolation: tv });
    tick(0, null, null);
    let s: GpuThrottleSummary | null = null;
    // The bit says power cap the whole time, the counters say 62 % of it.
    for (let i = 0; i < 100; i++) s = tick(0x4, 0.62, 0);
    assert.deepEqual(share(s, 'power_cap'), [0.62, 0.62]);
    for (let i = 0; i < 100; i++) s = tick(i % 2 ? 0x40 : 0x20, null, null);
    assert.deepEqual(share(s, 'thermal'), [0.5, 1]);
  });

  it('a gap counts at most 10 s; an unreadable mask leaves sampled reasons out, not at 0', () => {
    const w = new ThrottleWindows();
    w.add('b', 0, { mask: 0x8, powerViolation: null, thermalViolation: null });
    w.add('b', 10_000, { mask: 0x8, powerViolation: null, thermalViolation: null });
    // A minute later (the source was down): the tick counts 10 s, not 60 s.
    let s = w.add('b', 70_000, { mask: 0, powerViolation: null, thermalViolation: null });
    assert.deepEqual(share(s, 'hw_slowdown'), [0.5, 0]);
    s = w.add('b', 71_000, { mask: null, powerViolation: 0.25, thermalViolation: null });
    assert.deepEqual(share(s, 'hw_slowdown'), [0.5, null], 'an unreadable mask adds no known time');
    assert.equal(share(s, 'power_cap')?.[1], 0.25);
  });
});
