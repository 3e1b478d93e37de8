import { strict as assert } from 'node:assert';
import { CounterRate, CounterWindow, HistogramWindow, histogramQuantile, windowStats } from '../../../collector/prometheus-text';

const b = (pairs: [number, number][]): { le: number; count: number }[] => pairs.map(([le, count]) => ({ le, count }));

describe('histogram quantiles and windows', () => {
  it('interpolates linearly inside the bucket holding the rank (histogram_quantile)', () => {
    // 10 observations: 4 in (0,1], 4 in (1,2], 2 in (2,4].
    const buckets = b([
      [1, 4],
      [2, 8],
      [4, 10],
      [Infinity, 10],
    ]);
    // p50: rank 5 → 1 + (2-1)·(5-4)/4 = 1.25
    assert.equal(histogramQuantile(0.5, buckets), 1.25);
    // p95: rank 9.5 → 2 + (4-2)·(9.5-8)/2 = 3.5
    assert.equal(histogramQuantile(0.95, buckets), 3.5);
    // p25: rank 2.5 in the first bucket, lower bound 0 → 0.625
    assert.equal(histogramQuantile(0.25, buckets), 0.625);
  });

  it('answers the highest finite bound for a rank in +Inf, and null without observations or +Inf', () => {
    assert.equal(
      histogramQuantile(
        0.99,
        b([
          [1, 1],
          [2, 1],
          [Infinity, 10],
        ]),
      ),
      2,
    );
    assert.equal(
      histogramQuantile(
        0.5,
        b([
          [1, 0],
          [Infinity, 0],
        ]),
      ),
      null,
    );
    assert.equal(
      histogramQuantile(
        0.5,
        b([
          [1, 3],
          [2, 4],
        ]),
      ),
      null,
    );
  });

  it('computes window deltas, drops snapshots older than the window, and survives resets', () => {
    const w = new HistogramWindow(60_000);
    assert.equal(
      w.update(
        0,
        b([
          [1, 100],
          [Infinity, 100],
        ]),
        50,
        100,
      ),
      null,
    );
    const d1 = w.update(
      10_000,
      b([
        [1, 104],
        [Infinity, 110],
      ]),
      70,
      110,
    );
    assert.deepEqual(
      d1?.buckets,
      b([
        [1, 4],
        [Infinity, 10],
      ]),
    );
    assert.equal(d1?.count, 10);
    assert.equal(d1?.sum, 20);
    // 70 s: the baseline becomes the 10 s snapshot (newest at or before 70-60 = 10 s).
    const d2 = w.update(
      70_000,
      b([
        [1, 105],
        [Infinity, 112],
      ]),
      75,
      112,
    );
    assert.equal(d2?.count, 2);
    assert.equal(d2?.spanMs, 60_000);
    // Server restart: totals drop → window restarts, no negative counts.
    assert.equal(
      w.update(
        72_000,
        b([
          [1, 1],
          [Infinity, 1],
        ]),
        0.5,
        1,
      ),
      null,
    );
    const d3 = w.update(
      74_000,
      b([
        [1, 3],
        [Infinity, 4],
      ]),
      2,
      4,
    );
    assert.equal(d3?.count, 3);
  });

  it('windowStats gives nulls for an idle window', () => {
    assert.deepEqual(
      windowStats({
        buckets: b([
          [1, 0],
          [Infinity, 0],
        ]),
        sum: 0,
        count: 0,
        spanMs: 1000,
      }),
      { p50: null, p95: null, p99: null, avg: null },
    );
  });

  it('counter rate per second, null first, reset counts the new value', () => {
    const r = new CounterRate();
    assert.equal(r.update(1000, 100), null);
    assert.equal(r.update(3000, 300), 100);
    assert.equal(r.update(4000, 50), 50);
    assert.equal(r.update(5000, null), null);
    assert.equal(r.update(6000, 60), null);
  });

  it('counter window answers the increase over the window', () => {
    const w = new CounterWindow(60_000);
    assert.equal(w.update(0, 10), null);
    assert.equal(w.update(30_000, 25), 15);
    assert.equal(w.update(90_000, 40), 15);
  });
});
