// One series' points as a chart draws them: bucketed to a step so the point count stays near the
// chart's pixel budget however long the page runs, trimmed to the visible window, with explicit
// null points where data is missing so lines show gaps instead of bridging them.

import type { HistoryPoint, SeriesValue } from '../protocol/messages';

/** A chart point (chart.js `parsing: false` format); `y: null` draws a gap. */
export interface ChartPoint {
  x: number;
  y: number | null;
}

/** Slowest sample cadence learnt for a series, in ms (slower than this is an outage, not a cadence). */
const MAX_CADENCE_MS = 60_000;

/** Bucketed, window-trimmed points of one series. */
export class SeriesBuffer {
  /** The points, oldest first; the same array object for the buffer's whole life (charts hold it). */
  readonly points: ChartPoint[] = [];
  private stepMs: number;
  private gapMs: number;
  private bucketStart = -Infinity;
  private sum = 0;
  private count = 0;
  /** Smoothed time between this series' samples: slow sources get proportionally longer silences. */
  private cadenceMs = 0;
  private lastSampleT = -Infinity;

  constructor(stepMs: number, gapMs: number) {
    this.stepMs = Math.max(1, stepMs);
    this.gapMs = gapMs;
  }

  /** Time of the newest point, or -Infinity. */
  get lastT(): number {
    return this.points.length ? this.points[this.points.length - 1].x : -Infinity;
  }

  /** Changes bucketing for future appends (existing points stay). */
  configure(stepMs: number, gapMs: number): void {
    this.stepMs = Math.max(1, stepMs);
    this.gapMs = gapMs;
    this.bucketStart = -Infinity;
  }

  /** Appends one sample; values older than the newest point are ignored. */
  append(t: number, v: SeriesValue): void {
    const pts = this.points;
    const last = pts.length ? pts[pts.length - 1] : undefined;
    if (last && t < last.x) return;
    const dt = t - this.lastSampleT;
    const gapMs = Math.max(this.gapMs, 3 * this.cadenceMs);
    // Learn the cadence; one long outage moves it by at most 4× (and the outage itself is a gap below).
    if (dt > 0 && Number.isFinite(dt)) {
      this.cadenceMs = this.cadenceMs ? 0.8 * this.cadenceMs + 0.2 * Math.min(dt, 4 * this.cadenceMs) : Math.min(dt, MAX_CADENCE_MS);
    }
    this.lastSampleT = t;
    const b = Math.floor(t / this.stepMs) * this.stepMs;
    if (last && b === this.bucketStart) {
      if (v !== null) {
        this.sum += v;
        this.count++;
        last.y = this.sum / this.count;
      }
      return;
    }
    // A silence longer than a few intervals is a gap, not a straight line between two values.
    if (last && last.y !== null && b - last.x > gapMs) pts.push({ x: last.x + 1, y: null });
    pts.push({ x: Math.max(b, last ? last.x + 1 : b), y: v });
    this.bucketStart = b;
    this.sum = v ?? 0;
    this.count = v === null ? 0 : 1;
  }

  /** Replaces the contents with a history answer, keeping newer live points that arrived meanwhile. */
  reset(stepMs: number, gapMs: number, history: HistoryPoint[]): void {
    const newest = history.length ? history[history.length - 1][0] : -Infinity;
    const keep = this.points.filter((p) => p.x > newest);
    this.points.length = 0;
    this.configure(stepMs, gapMs);
    for (const [t, , avg] of history) this.append(t, avg);
    // The last history bucket is usually partial; treat it as one sample so live values average in.
    for (const p of keep) this.append(p.x, p.y);
  }

  /** Merges raw points after `since` (a reconnect backfill) under the live points received since. */
  backfill(since: number, history: HistoryPoint[]): void {
    const i = this.points.findIndex((p) => p.x > since);
    const tail = i < 0 ? [] : this.points.splice(i);
    this.bucketStart = -Infinity;
    for (const [t, , avg] of history) this.append(t, avg);
    for (const p of tail) this.append(p.x, p.y);
  }

  /** Drops points that fell out of the window starting at `minT` (keeps one so the line enters the edge). */
  trim(minT: number, maxPoints: number): void {
    const pts = this.points;
    let k = 0;
    while (k + 1 < pts.length && pts[k + 1].x < minT) k++;
    if (pts.length - k > maxPoints) k = pts.length - maxPoints;
    if (k > 0) pts.splice(0, k);
  }
}
