// Cumulative hardware counters (NVLink throughput in KiB) turned into rates. The counters are unsigned
// 32- or 64-bit integers, read as two u32 halves so no precision is lost near the top of the range; a
// counter that went backwards either wrapped (a small step over the top) or was reset (driver reload,
// `nvidia-smi nvlink -r`), and a reset gives no rate for that interval rather than a huge or negative one.

const TWO_32 = 4294967296;

/** Outcome of one counter step: the increase, or why there is none. */
export type CounterStep = { kind: 'delta'; delta: number } | { kind: 'reset' };

/**
 * The increase from (prevHi, prevLo) to (curHi, curLo) of an unsigned counter `bits` wide (32 or 64).
 * Backwards: a wrap when the step forward modulo 2^bits is under half the range, else a reset.
 * Equal values are an increase of 0.
 */
export function counterDelta(prevHi: number, prevLo: number, curHi: number, curLo: number, bits: 32 | 64): CounterStep {
  if (bits === 32) {
    const d = curLo - prevLo;
    if (d >= 0) return { kind: 'delta', delta: d };
    const wrapped = d + TWO_32;
    return wrapped < TWO_32 / 2 ? { kind: 'delta', delta: wrapped } : { kind: 'reset' };
  }
  const forward = curHi > prevHi || (curHi === prevHi && curLo >= prevLo);
  // High halves differ modulo 2^32; the low difference may be negative. Exact while the step is < 2^53.
  const dHi = forward ? curHi - prevHi : curHi - prevHi + TWO_32;
  if (!forward && dHi >= TWO_32 / 2) return { kind: 'reset' };
  return { kind: 'delta', delta: dHi * TWO_32 + (curLo - prevLo) };
}

/** One counter's last reading and the rate over the last interval (per second, in the counter's unit). */
export class CounterRate {
  private hi = NaN;
  private lo = NaN;
  private atUs = NaN;
  /** Rate over the last interval, NaN when there is none (first reading, a reset). */
  rate = NaN;

  /**
   * Takes a reading at `atUs` (µs, any monotonic or wall clock; NVML stamps field values with the wall
   * clock). A reading with the same or an older time stamp is the same sample again: the rate stays.
   */
  update(hi: number, lo: number, atUs: number, bits: 32 | 64): number {
    if (!Number.isNaN(this.atUs)) {
      const dtUs = atUs - this.atUs;
      if (!(dtUs > 0)) return this.rate;
      const step = counterDelta(this.hi, this.lo, hi, lo, bits);
      this.rate = step.kind === 'delta' ? (step.delta * 1e6) / dtUs : NaN;
    }
    this.hi = hi;
    this.lo = lo;
    this.atUs = atUs;
    return this.rate;
  }

  /** Forgets the last reading (the link or counter went away); the next reading starts afresh. */
  reset(): void {
    this.hi = this.lo = this.atUs = this.rate = NaN;
  }
}
