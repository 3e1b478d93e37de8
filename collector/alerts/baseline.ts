// A rolling median over a time window, kept per alert instance for "p95 > 2× its 1 h median".
// Samples are thinned to at most BASELINE_MAX_SAMPLES per window so memory, persistence and the
// per-tick cost stay small whatever the tick interval.

/** Most samples a baseline keeps across its window. */
export const BASELINE_MAX_SAMPLES = 240;

/** Serialised form: parallel arrays of times (epoch ms) and values. */
export interface BaselineState {
  t: number[];
  v: number[];
}

/** Rolling median of the values added during the last `windowMs`. */
export class RollingMedian {
  private readonly t: number[] = [];
  private readonly v: number[] = [];
  /** The same values kept sorted (binary insert/remove), so the median is O(1) to read. */
  private readonly sorted: number[] = [];
  private readonly spacingMs: number;

  constructor(
    readonly windowMs: number,
    state?: BaselineState,
  ) {
    this.spacingMs = windowMs / BASELINE_MAX_SAMPLES;
    if (state && Array.isArray(state.t) && Array.isArray(state.v) && state.t.length === state.v.length) {
      for (let i = 0; i < state.t.length; i++) {
        const ti = state.t[i];
        const vi = state.v[i];
        if (typeof ti === 'number' && typeof vi === 'number' && Number.isFinite(vi)) {
          this.t.push(ti);
          this.v.push(vi);
          insertSorted(this.sorted, vi);
        }
      }
    }
  }

  /** Number of samples currently in the window. */
  get count(): number {
    return this.v.length;
  }

  /**
   * Adds a sample at `t` (skipped when closer than the thinning spacing to the previous one) and
   * expires old ones; returns whether the window changed.
   */
  add(t: number, value: number): boolean {
    let changed = false;
    const last = this.t.length ? (this.t[this.t.length - 1] as number) : -Infinity;
    if (t - last >= this.spacingMs) {
      this.t.push(t);
      this.v.push(value);
      insertSorted(this.sorted, value);
      changed = true;
    }
    let drop = 0;
    while (drop < this.t.length && (this.t[drop] as number) <= t - this.windowMs) drop++;
    if (drop > 0) {
      for (let i = 0; i < drop; i++) removeSorted(this.sorted, this.v[i] as number);
      this.t.splice(0, drop);
      this.v.splice(0, drop);
      changed = true;
    }
    return changed;
  }

  /** Median of the samples in the window, or null when empty. */
  median(): number | null {
    const s = this.sorted;
    if (s.length === 0) return null;
    const mid = s.length >> 1;
    return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  }

  /** State for persistence. */
  toJSON(): BaselineState {
    return { t: this.t.slice(), v: this.v.slice() };
  }
}

function lowerBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if ((a[m] as number) < x) lo = m + 1;
    else hi = m;
  }
  return lo;
}

function insertSorted(a: number[], x: number): void {
  a.splice(lowerBound(a, x), 0, x);
}

function removeSorted(a: number[], x: number): void {
  const i = lowerBound(a, x);
  if (a[i] === x) a.splice(i, 1);
}
