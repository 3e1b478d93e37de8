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
  private cached: number | null = null;
  private readonly spacingMs: number;

  constructor(readonly windowMs: number, state?: BaselineState) {
    this.spacingMs = windowMs / BASELINE_MAX_SAMPLES;
    if (state && Array.isArray(state.t) && Array.isArray(state.v) && state.t.length === state.v.length) {
      for (let i = 0; i < state.t.length; i++) {
        const ti = state.t[i];
        const vi = state.v[i];
        if (typeof ti === 'number' && typeof vi === 'number' && Number.isFinite(vi)) {
          this.t.push(ti);
          this.v.push(vi);
        }
      }
    }
  }

  /** Number of samples currently in the window. */
  get count(): number {
    return this.v.length;
  }

  /** Adds a sample at `t` (skipped when closer than the thinning spacing to the previous one) and expires old ones. */
  add(t: number, value: number): void {
    const last = this.t.length ? (this.t[this.t.length - 1] as number) : -Infinity;
    if (t - last >= this.spacingMs) {
      this.t.push(t);
      this.v.push(value);
      this.cached = null;
    }
    let drop = 0;
    while (drop < this.t.length && (this.t[drop] as number) <= t - this.windowMs) drop++;
    if (drop > 0) {
      this.t.splice(0, drop);
      this.v.splice(0, drop);
      this.cached = null;
    }
  }

  /** Median of the samples in the window, or null when empty. */
  median(): number | null {
    if (this.v.length === 0) return null;
    if (this.cached !== null) return this.cached;
    const s = this.v.slice().sort((a, b) => a - b);
    const mid = s.length >> 1;
    this.cached = s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
    return this.cached;
  }

  /** State for persistence. */
  toJSON(): BaselineState {
    return { t: this.t.slice(), v: this.v.slice() };
  }
}
