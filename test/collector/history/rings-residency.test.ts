// Issue 17 (collector RSS): the history never reads tier slots it has not written. Readers that walked
// whole tier arrays (the snapshot encoder copied every array; a restore wrote every slot) made every
// tier of every series resident within minutes on kernels without a shared zero page (~64 KB a series).
// The tests poison the never-written slots: whatever reads them shows up in what is written or answered.

import { strict as assert } from 'node:assert';
import { decodeHistory, encodeHeader, encodeSeries, encodeTrailer } from '../../../collector/history/file-format';
import { AggRing, AGG_TIERS, SeriesRings } from '../../../collector/history/rings';
import { TieredHistory } from '../../../collector/history';
import { silentLogger } from '../../../collector/log';

const POISON = 7;

/** Writes POISON into every slot of every tier that `writtenSlots()` says was never written. */
function poisonUnwritten(s: SeriesRings): number {
  let poisoned = 0;
  for (const t of s.tiers) {
    const written = new Set<number>();
    for (const [a, b] of t.writtenSlots()) for (let k = a; k < b; k++) written.add(k);
    for (let k = 0; k < t.n; k++) {
      if (written.has(k)) continue;
      assert.equal(t.count[k], 0, `slot ${k} of the ${t.stepMs} ms tier was written but is outside writtenSlots()`);
      assert.equal(t.sum[k], 0);
      t.min[k] = t.max[k] = t.sum[k] = t.count[k] = POISON;
      poisoned++;
    }
  }
  return poisoned;
}

function roundTrip(s: SeriesRings): ReturnType<typeof decodeHistory>['series'][number] {
  const file = Buffer.concat([
    encodeHeader({ intervalMs: 1000, savedAt: 0, firstT: null, seriesCount: 1, generation: 0 }),
    encodeSeries('gpu.0.util', s),
    encodeTrailer(),
  ]);
  return decodeHistory(file).series[0]!;
}

describe('history rings: never-written tier slots are never read', () => {
  it('a snapshot of a 10-minute-old series writes zeros for every slot it never wrote (not what the memory holds)', () => {
    const t0 = 1_800_000_000_000;
    const s = new SeriesRings(1000, AGG_TIERS, t0);
    for (let k = 0; k < 600; k++) s.add(t0 + k * 1000, 50 + (k % 7));
    const poisoned = poisonUnwritten(s);
    assert.ok(poisoned > 5000, `most slots are unwritten after 10 min (${poisoned})`);
    const back = roundTrip(s);
    for (const [i, t] of back.tiers.entries()) {
      const live = s.tiers[i]!;
      let nonzero = 0;
      for (let k = 0; k < t.n; k++) {
        if (t.count[k] === 0) {
          assert.equal(t.sum[k], 0, `tier ${t.stepMs} slot ${k}: an unwritten slot was read from memory`);
          assert.equal(t.min[k], 0);
        } else {
          nonzero++;
          assert.equal(t.count[k], live.count[k]);
          assert.equal(t.sum[k], live.sum[k]);
          assert.equal(t.min[k], live.min[k]);
          assert.equal(t.max[k], live.max[k]);
        }
      }
      assert.equal(nonzero, Math.ceil(600_000 / t.stepMs) + (t0 % t.stepMs === 0 ? 0 : 1), `tier ${t.stepMs}: every written bucket is kept`);
    }
  });

  it('keeps every written bucket when the written slots wrap around the end of the ring, and when the ring is full', () => {
    const step = AGG_TIERS[0]!.stepMs;
    const n = Math.ceil(AGG_TIERS[0]!.spanMs / step);
    // Starts 3 buckets before a multiple of n: the written slots are [n-3, n) and [0, 7).
    const t0 = (1000 * n - 3) * step;
    const ring = new AggRing(step, AGG_TIERS[0]!.spanMs);
    for (let b = 0; b < 10; b++) ring.add(t0 + b * step, b + 1);
    assert.deepEqual(ring.writtenSlots(), [
      [n - 3, n],
      [0, 7],
    ]);
    const full = new AggRing(step, AGG_TIERS[0]!.spanMs);
    for (let b = 0; b < n + 5; b++) full.add(t0 + b * step, b);
    assert.deepEqual(full.writtenSlots(), [[0, n]]);
    assert.deepEqual(new AggRing(step, AGG_TIERS[0]!.spanMs).writtenSlots(), []);
  });

  it('counts a late bucket older than the first one (a small clock step back) as written', () => {
    const step = AGG_TIERS[0]!.stepMs;
    const t0 = 1_800_000_000_000;
    const s = new SeriesRings(1000, AGG_TIERS, t0);
    for (let k = 0; k < 60; k++) s.add(t0 + k * 1000, 10);
    s.add(t0 - 3 * step, 99); // three buckets before the first, well inside the ring
    poisonUnwritten(s);
    const back = roundTrip(s);
    const tier = back.tiers[0]!;
    const slot = s.tiers[0]!.slot(Math.floor((t0 - 3 * step) / step));
    assert.equal(tier.count[slot], 1, 'the late bucket is in the snapshot');
    assert.equal(tier.sum[slot], 99);
  });

  it('a 7-day query of a 10-minute-old series reads no bucket before the first one written', async () => {
    const h = await TieredHistory.open({ file: '/nonexistent-rigwatch-test/history.bin', intervalMs: 1000, log: silentLogger });
    const t0 = 1_800_000_000_000;
    // Another series recorded 3 days ago: the collector is not young, so long ranges come from the tiers.
    h.record(t0 - 3 * 86_400_000, { 'host.cpu': 1 });
    for (let k = 0; k < 600; k++) h.record(t0 + k * 1000, { 'gpu.0.util': 40 });
    const rings = (h as unknown as { series: Map<string, SeriesRings> }).series.get('gpu.0.util')!;
    poisonUnwritten(rings);
    const now = t0 + 600_000;
    for (const days of [1, 7]) {
      const a = h.query({ series: ['gpu.0.util'], from: now - days * 86_400_000, to: now, points: 2000 }, now);
      assert.ok(a.series[0]!.stepMs >= 60_000, `${days} d: answered from a tier (step ${a.series[0]!.stepMs} ms)`);
      const values = a.series[0]!.points.filter((p) => p[2] !== null);
      assert.ok(values.length > 0, `${days} d: the 10 minutes recorded are answered`);
      for (const p of values) {
        assert.ok(p[0] >= t0 - 300_000, `${days} d: a point at ${new Date(p[0]).toISOString()} is older than anything recorded (read from an unwritten slot)`);
        assert.equal(p[2], 40);
      }
    }
  });

  it('restoring a stored tier writes only its held buckets, and knows where they start', () => {
    const t0 = 1_800_000_000_000;
    const s = new SeriesRings(1000, AGG_TIERS, t0);
    for (let k = 0; k < 120; k++) s.add(t0 + k * 1000, k);
    const back = roundTrip(s);
    const restored = new SeriesRings(1000, AGG_TIERS, t0);
    for (const [i, t] of restored.tiers.entries()) {
      const saved = back.tiers[i]!;
      t.restore(saved.head, saved.min, saved.max, saved.sum, saved.count);
      assert.equal(t.head, s.tiers[i]!.head);
      assert.equal(t.first, s.tiers[i]!.first, `tier ${t.stepMs}: the first held bucket is found again`);
      assert.deepEqual(t.writtenSlots(), s.tiers[i]!.writtenSlots());
    }
    poisonUnwritten(restored);
    const again = roundTrip(restored);
    for (const [i, t] of again.tiers.entries()) {
      assert.deepEqual(t.count, back.tiers[i]!.count);
      assert.deepEqual(t.sum, back.tiers[i]!.sum);
    }
  });
});
