// Sliding windows over cumulative counters and histograms: rates and percentiles come from the
// change over the last window, never from lifetime totals, so they describe "now".

import type { Bucket } from './quantile';
import { histogramQuantile } from './quantile';

/** Default window for percentiles: one minute. */
export const DEFAULT_WINDOW_MS = 60_000;

/** Per-second rate of a monotonic counter between consecutive readings; resets are handled. */
export class CounterRate {
  private prev: { t: number; v: number } | null = null;

  /** Feeds a reading at epoch ms `t`; answers the rate since the previous reading, or null. */
  update(t: number, value: number | null): number | null {
    if (value === null || !Number.isFinite(value)) {
      this.prev = null;
      return null;
    }
    const p = this.prev;
    this.prev = { t, v: value };
    if (p === null || t <= p.t) return null;
    // A counter that went down was reset (server restart): like Prometheus, the new value is the increase.
    const delta = value >= p.v ? value - p.v : value;
    return delta / ((t - p.t) / 1000);
  }
}

/** The increase of a monotonic counter over the last `windowMs` (resets restart the window). */
export class CounterWindow {
  private snaps: { t: number; v: number }[] = [];

  constructor(readonly windowMs: number = DEFAULT_WINDOW_MS) {}

  /** Feeds a reading; answers the increase since the window start, or null until two readings. */
  update(t: number, value: number | null): number | null {
    if (value === null || !Number.isFinite(value)) {
      this.snaps = [];
      return null;
    }
    const prev = this.snaps[this.snaps.length - 1];
    if (prev !== undefined && value < prev.v) this.snaps = [];
    this.snaps.push({ t, v: value });
    const start = t - this.windowMs;
    let base = 0;
    for (let i = 0; i < this.snaps.length - 1; i++) if (this.snaps[i].t <= start) base = i;
    if (base > 0) this.snaps.splice(0, base);
    if (this.snaps.length < 2) return null;
    return value - this.snaps[0].v;
  }
}

/** The change of a histogram over the window: buckets, sum and count deltas. */
export interface HistogramDelta {
  buckets: Bucket[];
  sum: number | null;
  count: number;
  /** Span actually covered, ms (shorter than the window right after start). */
  spanMs: number;
}

interface Snapshot {
  t: number;
  buckets: Bucket[];
  sum: number | null;
  count: number;
}

/** Keeps cumulative histogram snapshots and answers the delta over the last `windowMs`. */
export class HistogramWindow {
  private snaps: Snapshot[] = [];

  constructor(readonly windowMs: number = DEFAULT_WINDOW_MS) {}

  /** Adds a reading at epoch ms `t` and returns the delta since the window start (null until two readings). */
  update(t: number, buckets: readonly Bucket[], sum: number | null, count: number | null): HistogramDelta | null {
    const total = count ?? (buckets.length > 0 ? buckets[buckets.length - 1].count : 0);
    const snap: Snapshot = { t, buckets: buckets.map((b) => ({ le: b.le, count: b.count })), sum, count: total };
    const prev = this.snaps[this.snaps.length - 1];
    if (prev !== undefined && (total < prev.count || !sameBounds(prev.buckets, snap.buckets))) {
      // Reset or re-bucketed (server restarted / reconfigured): older snapshots no longer subtract.
      this.snaps = [];
    }
    this.snaps.push(snap);
    // Baseline: the newest snapshot at or before the window start; everything older is dropped.
    const start = t - this.windowMs;
    let base = 0;
    for (let i = 0; i < this.snaps.length - 1; i++) if (this.snaps[i].t <= start) base = i;
    if (base > 0) this.snaps.splice(0, base);
    if (this.snaps.length < 2) return null;
    const b = this.snaps[0];
    return {
      buckets: snap.buckets.map((x, i) => ({ le: x.le, count: Math.max(0, x.count - b.buckets[i].count) })),
      sum: snap.sum !== null && b.sum !== null ? snap.sum - b.sum : null,
      count: snap.count - b.count,
      spanMs: t - b.t,
    };
  }
}

/** p50/p95/p99 and the mean of a window delta; all null when nothing was observed in the window. */
export function windowStats(d: HistogramDelta | null): { p50: number | null; p95: number | null; p99: number | null; avg: number | null } {
  if (d === null || !(d.count > 0)) return { p50: null, p95: null, p99: null, avg: null };
  return {
    p50: histogramQuantile(0.5, d.buckets),
    p95: histogramQuantile(0.95, d.buckets),
    p99: histogramQuantile(0.99, d.buckets),
    avg: d.sum !== null ? d.sum / d.count : null,
  };
}

function sameBounds(a: Bucket[], b: Bucket[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i].le !== b[i].le) return false;
  return true;
}
