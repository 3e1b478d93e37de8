// How long each clock-event (throttle) reason held, over the last interval and a rolling 5 min, per GPU.
// Power cap and thermal come from NVML's violation-time counters where the GPU has them (the share of
// the interval, already computed by the worker); every reason else — and those two without counters —
// from the reason bitmask sampled at each tick, counted as held for the whole tick. O(reasons) per tick:
// a ring of per-tick inputs and running sums, so nothing is rescanned.

import type { GpuThrottleShare, GpuThrottleSummary } from '../../../protocol/details/gpu';

/** Length of the rolling window, ms. */
export const THROTTLE_WINDOW_MS = 5 * 60_000;
/** Longest time one tick counts for, ms: a gap (source down, suspended machine) is not attributed. */
const THROTTLE_TICK_MAX_MS = 10_000;
/** Most ticks kept per GPU (a 250 ms interval still covers 5 min; shorter ones cover less, and say so). */
const THROTTLE_RING_TICKS = 1200;
/** Numbers kept per tick: time, duration, mask, power and thermal violation shares (NaN = not read). */
const SLOT = 5;

/** The reasons tracked, in display order: [key, label, bitmask of nvmlClocksEventReason* bits, violation policy]. */
const REASONS: ReadonlyArray<readonly [string, string, number, 'power' | 'thermal' | null]> = [
  ['power_cap', 'power cap', 0x4, 'power'],
  ['thermal', 'thermal', 0x20 | 0x40, 'thermal'],
  ['hw_slowdown', 'HW slowdown', 0x8, null],
  ['power_brake', 'power brake', 0x80, null],
  ['sync_boost', 'sync boost', 0x10, null],
  ['app_clocks', 'application clocks', 0x2, null],
  ['display_clocks', 'display clocks', 0x100, null],
  ['idle', 'idle', 0x1, null],
];
const N = REASONS.length;

/** One tick's inputs for one GPU. */
export interface ThrottleTick {
  /** Clock-event reason bitmask, or null when it could not be read. */
  mask: number | null;
  /** Share of the interval from the power / thermal violation counters (null: not supported). */
  powerViolation: number | null;
  thermalViolation: number | null;
}

class GpuWindow {
  /** Per tick: SLOT numbers (48 KB per GPU); contributions are recomputed when a tick leaves the window. */
  private readonly ring = new Float64Array(THROTTLE_RING_TICKS * SLOT);
  private head = 0;
  private size = 0;
  private readonly held = new Float64Array(N);
  private readonly known = new Float64Array(N);
  private readonly lastHeld = new Float64Array(N);
  private readonly lastKnown = new Float64Array(N);
  lastT: number | null = null;

  add(t: number, dt: number, x: ThrottleTick): void {
    if (this.size === THROTTLE_RING_TICKS) this.dropOldest();
    const o = ((this.head + this.size) % THROTTLE_RING_TICKS) * SLOT;
    this.ring[o] = t;
    this.ring[o + 1] = dt;
    this.ring[o + 2] = x.mask ?? NaN;
    this.ring[o + 3] = x.powerViolation ?? NaN;
    this.ring[o + 4] = x.thermalViolation ?? NaN;
    this.size++;
    this.apply(o, 1, true);
    while (this.size > 0 && this.ring[this.head * SLOT] <= t - THROTTLE_WINDOW_MS) this.dropOldest();
  }

  /** Adds (sign 1) or removes (−1) the contributions of the tick at ring offset `o`. */
  private apply(o: number, sign: 1 | -1, last: boolean): void {
    const dt = this.ring[o + 1];
    const mask = this.ring[o + 2];
    for (let r = 0; r < N; r++) {
      const [, , bits, policy] = REASONS[r];
      const viol = policy === 'power' ? this.ring[o + 3] : policy === 'thermal' ? this.ring[o + 4] : NaN;
      let h = 0;
      let k = 0;
      if (!Number.isNaN(viol)) {
        h = viol * dt;
        k = dt;
      } else if (!Number.isNaN(mask)) {
        h = (mask & bits) !== 0 ? dt : 0;
        k = dt;
      }
      this.held[r] += sign * h;
      this.known[r] += sign * k;
      if (last) {
        this.lastHeld[r] = h;
        this.lastKnown[r] = k;
      }
    }
  }

  private dropOldest(): void {
    this.apply(this.head * SLOT, -1, false);
    this.head = (this.head + 1) % THROTTLE_RING_TICKS;
    this.size--;
    if (this.size === 0) {
      // Nothing left: start the sums afresh rather than carry float residue.
      this.held.fill(0);
      this.known.fill(0);
    }
  }

  summary(): GpuThrottleSummary {
    const reasons: GpuThrottleShare[] = [];
    let windowMs = 0;
    for (let r = 0; r < N; r++) {
      if (this.known[r] <= 0) continue;
      windowMs = Math.max(windowMs, this.known[r]);
      // Running sums drift by float error over hours: clamp into 0..1. Rounded (window share 0.1 %, last
      // interval 1 %, the window to whole minutes), so a steady GPU's summary does not change every tick (the compact stream
      // resends details that change).
      const share = round3(Math.min(1, Math.max(0, this.held[r] / this.known[r])));
      const last = this.lastKnown[r] > 0 ? Math.round(Math.min(1, Math.max(0, this.lastHeld[r] / this.lastKnown[r])) * 100) / 100 : null;
      reasons.push({ reason: REASONS[r][0], label: REASONS[r][1], windowRatio: share, lastRatio: last });
    }
    return { windowMs: windowMs >= THROTTLE_WINDOW_MS - 1000 ? THROTTLE_WINDOW_MS : Math.floor(windowMs / 60_000) * 60_000, reasons };
  }
}

/** Rolling per-reason throttle shares of every GPU, keyed by PCI bus id. */
export class ThrottleWindows {
  private readonly gpus = new Map<string, GpuWindow>();

  /**
   * Adds one tick (`t`: monotonic ms) for a GPU and returns its summary. The first tick of a GPU only
   * starts its clock (there is no interval yet) and returns null.
   */
  add(busId: string, t: number, x: ThrottleTick): GpuThrottleSummary | null {
    let w = this.gpus.get(busId);
    if (!w) this.gpus.set(busId, (w = new GpuWindow()));
    const prev = w.lastT;
    w.lastT = t;
    if (prev === null || t <= prev) return prev === null ? null : w.summary();
    w.add(t, Math.min(t - prev, THROTTLE_TICK_MAX_MS), x);
    return w.summary();
  }

  /** Forgets GPUs not in `keep` (a GPU that left). */
  retain(keep: { has(busId: string): boolean }): void {
    for (const k of this.gpus.keys()) if (!keep.has(k)) this.gpus.delete(k);
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
