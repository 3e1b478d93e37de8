// The in-memory rings of one series: raw samples for the last hour plus min/avg/max bucket tiers.
// Everything is preallocated typed arrays so memory is fixed per series and recording never allocates.

/** Raw samples kept, per series. */
export const RAW_SPAN_MS = 60 * 60 * 1000;

/** A tick this much older than the newest raw sample means the wall clock was stepped back. */
export const CLOCK_STEP_BACK_MS = 60_000;

/** An aggregated tier: bucket width and how far back it reaches. */
export interface TierSpec {
  stepMs: number;
  spanMs: number;
}

/** The aggregated tiers (SPEC §3): 10 s for 6 h, 1 min for 24 h, 5 min for 7 days. */
export const AGG_TIERS: readonly TierSpec[] = [
  { stepMs: 10_000, spanMs: 6 * 3_600_000 },
  { stepMs: 60_000, spanMs: 24 * 3_600_000 },
  { stepMs: 300_000, spanMs: 7 * 24 * 3_600_000 },
];

/** Oldest data any tier holds; a series with no value for longer is dropped. */
export const RETENTION_MS = AGG_TIERS[AGG_TIERS.length - 1]!.spanMs;

/**
 * Tiers a given sampling interval can fill: a bucket must be at least two intervals wide, or tick jitter
 * leaves empty buckets that would read as gaps (at 15 s sampling a 10 s tier is two-thirds holes).
 */
export function tiersFor(intervalMs: number): TierSpec[] {
  return AGG_TIERS.filter((t) => t.stepMs >= 2 * intervalMs);
}

/** Raw ring capacity: one hour of ticks plus 10 % for ticks that come early. */
export function rawCapacity(intervalMs: number): number {
  return Math.ceil((RAW_SPAN_MS / intervalMs) * 1.1) + 1;
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/** Hands out consecutive typed-array views of one ArrayBuffer. */
export class Arena {
  private readonly buf: ArrayBuffer;
  private off = 0;
  constructor(bytes: number) {
    this.buf = new ArrayBuffer(bytes);
  }
  f64(n: number): Float64Array {
    const a = new Float64Array(this.buf, this.off, n);
    this.off += align8(n * 8);
    return a;
  }
  f32(n: number): Float32Array {
    const a = new Float32Array(this.buf, this.off, n);
    this.off += align8(n * 4);
    return a;
  }
  u16(n: number): Uint16Array {
    const a = new Uint16Array(this.buf, this.off, n);
    this.off += align8(n * 2);
    return a;
  }
}

const F32 = new Float32Array(1);
const I32 = new Int32Array(F32.buffer);

/** The largest float32 ≤ v: bucket minima stored in 4 bytes never rise above the true minimum. */
export function f32Down(v: number): number {
  const f = Math.fround(v);
  if (f <= v) return f;
  if (f === 0) return -1.401298464324817e-45;
  F32[0] = f;
  I32[0]! += f > 0 ? -1 : 1;
  return F32[0]!;
}

/** The smallest float32 ≥ v: bucket maxima never fall below the true maximum. */
export function f32Up(v: number): number {
  const f = Math.fround(v);
  if (f >= v) return f;
  if (f === 0) return 1.401298464324817e-45;
  F32[0] = f;
  I32[0]! += f > 0 ? 1 : -1;
  return F32[0]!;
}

/** Chronological ring of raw (t, value) samples; value NaN means null. */
export class RawRing {
  readonly t: Float64Array;
  readonly v: Float64Array;
  /** Index of the oldest sample. */
  start = 0;
  len = 0;

  constructor(
    readonly cap: number,
    mem = new Arena(cap * 16),
  ) {
    this.t = mem.f64(cap);
    this.v = mem.f64(cap);
  }

  /** Appends; a sample not newer than the last one replaces it when equal in time and is dropped when older. */
  push(t: number, v: number): void {
    if (this.len > 0) {
      const last = (this.start + this.len - 1) % this.cap;
      const lt = this.t[last]!;
      if (t < lt) {
        // A tick out of order is dropped; a clock stepped back by more than a minute (NTP, a resumed
        // VM) would otherwise silence the raw tier until the clock caught up, so start it afresh.
        if (lt - t <= CLOCK_STEP_BACK_MS) return;
        this.start = 0;
        this.len = 0;
      }
      if (t === lt) {
        this.v[last] = v;
        return;
      }
    }
    const i = (this.start + this.len) % this.cap;
    this.t[i] = t;
    this.v[i] = v;
    if (this.len < this.cap) this.len++;
    else this.start = (this.start + 1) % this.cap;
  }

  /** Time of the k-th oldest sample. */
  timeAt(k: number): number {
    return this.t[(this.start + k) % this.cap]!;
  }

  /** Value of the k-th oldest sample (NaN = null). */
  valueAt(k: number): number {
    return this.v[(this.start + k) % this.cap]!;
  }

  /** Index (0 = oldest) of the first sample with time > t (binary search). */
  firstAfter(t: number): number {
    let lo = 0;
    let hi = this.len;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.timeAt(mid) > t) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** One aggregated tier of one series: a ring of buckets indexed by bucket number modulo its size. */
export class AggRing {
  readonly n: number;
  /**
   * Minima and maxima are float32 (7 significant digits, plenty for a chart; rounded outwards so that
   * min ≤ avg ≤ max still holds); the sum stays float64 so averages are exact. Saves ~45 KB a series.
   */
  readonly min: Float32Array;
  readonly max: Float32Array;
  readonly sum: Float64Array;
  /** Non-null values in the bucket; 0 means the bucket is a gap. 65535 is enough for 5 min at 0.25 s. */
  readonly count: Uint16Array;
  /** Newest bucket number written (floor(t / stepMs)); buckets older than head - n + 1 are gone. */
  head = -Infinity;
  /**
   * Oldest bucket number ever written (or restored). Slots of buckets before it have never been
   * touched: they are zero, and readers (queries, snapshots) skip them rather than read them, because
   * reading a never-written page makes it resident on kernels without a shared zero page (this machine
   * boots with `pvm_no_zero_page=1`): before, the first snapshot pulled every tier of every series
   * into RSS (~64 KB a series) minutes after start.
   */
  first = Infinity;

  constructor(
    readonly stepMs: number,
    spanMs: number,
    mem?: Arena,
  ) {
    this.n = Math.ceil(spanMs / stepMs);
    const m = mem ?? new Arena(AggRing.bytes(stepMs, spanMs));
    this.sum = m.f64(this.n);
    this.min = m.f32(this.n);
    this.max = m.f32(this.n);
    this.count = m.u16(this.n);
  }

  /** Bytes a tier needs (8-byte aligned). */
  static bytes(stepMs: number, spanMs: number): number {
    const n = Math.ceil(spanMs / stepMs);
    return align8(n * 8) + align8(n * 4) * 2 + align8(n * 2);
  }

  /** Slot of bucket b. */
  slot(b: number): number {
    const s = b % this.n;
    return s < 0 ? s + this.n : s;
  }

  /** Adds a value (NaN = null: advances time, leaves the bucket's statistics alone). */
  add(t: number, v: number): void {
    const b = Math.floor(t / this.stepMs);
    if (b > this.head) {
      // Clear every bucket the head moves over so a pause in recording reads back as a gap.
      // A fresh ring is all zeros already; not clearing it keeps untouched pages out of RSS.
      if (this.head !== -Infinity) {
        for (let k = Math.max(this.head + 1, b - this.n + 1); k <= b; k++) this.count[this.slot(k)] = 0;
      }
      this.head = b;
    } else if (b <= this.head - this.n) {
      return;
    }
    // Also for a bucket older than the head (a late tick, a small clock step back) that the ring still holds.
    if (b < this.first) this.first = b;
    if (v !== v) return; // NaN: null value
    const s = this.slot(b);
    const c = this.count[s]!;
    if (c === 0) {
      this.min[s] = f32Down(v);
      this.max[s] = f32Up(v);
      this.sum[s] = v;
    } else {
      if (v < this.min[s]!) this.min[s] = f32Down(v);
      if (v > this.max[s]!) this.max[s] = f32Up(v);
      this.sum[s] += v;
    }
    if (c < 65535) this.count[s] = c + 1;
    else this.sum[s] -= v; // saturated: keep sum and count consistent so avg stays right
  }

  /**
   * The slots that may hold something other than zeros, as at most two [from, to) ranges in slot order:
   * those of the buckets from max(first, head - n + 1) to head. Everything else was never written.
   */
  writtenSlots(): [number, number][] {
    if (this.head === -Infinity || this.first === Infinity) return [];
    const lo = Math.max(this.first, this.head - this.n + 1);
    const a = this.slot(lo);
    const b = this.slot(this.head) + 1;
    if (this.head - lo + 1 >= this.n) return [[0, this.n]];
    return a < b
      ? [[a, b]]
      : ([
          [a, this.n],
          [0, b],
        ].filter(([x, y]) => y > x) as [number, number][]);
  }

  /** Loads a stored tier's buckets: only held ones (count > 0), so a restored ring is resident only where it has data. */
  restore(head: number, min: Float32Array, max: Float32Array, sum: Float64Array, count: Uint16Array): void {
    this.head = head;
    this.first = Infinity;
    if (!Number.isFinite(head)) return;
    for (let b = head - this.n + 1; b <= head; b++) {
      const s = this.slot(b);
      const c = count[s]!;
      if (c === 0) continue;
      if (b < this.first) this.first = b;
      this.count[s] = c;
      this.min[s] = min[s]!;
      this.max[s] = max[s]!;
      this.sum[s] = sum[s]!;
    }
    if (this.first === Infinity) this.first = head;
  }

  /** True when bucket b is held (not overwritten and not older than the retention relative to `nowBucket`). */
  holds(b: number, nowBucket: number): boolean {
    return b <= this.head && b > this.head - this.n && b > nowBucket - this.n;
  }
}

/** All rings of one series. */
export class SeriesRings {
  readonly raw: RawRing;
  readonly tiers: AggRing[];
  /** Epoch ms of the last non-null value (or of creation), for dropping series that stopped reporting. */
  lastValueT: number;

  constructor(intervalMs: number, specs: readonly TierSpec[], createdT: number) {
    const cap = rawCapacity(intervalMs);
    // One allocation per series: large enough that the allocator maps fresh zero pages, which only
    // count towards RSS once written, so memory grows with the history actually held (small arrays
    // would be zero-filled on the heap and resident at once).
    const mem = new Arena(cap * 16 + specs.reduce((a, t) => a + AggRing.bytes(t.stepMs, t.spanMs), 0));
    this.raw = new RawRing(cap, mem);
    this.tiers = specs.map((s) => new AggRing(s.stepMs, s.spanMs, mem));
    this.lastValueT = createdT;
  }

  /** Records one value (null as NaN). */
  add(t: number, v: number | null): void {
    const x = v === null || !Number.isFinite(v) ? NaN : v;
    this.raw.push(t, x);
    for (const tier of this.tiers) tier.add(t, x);
    if (x === x && t > this.lastValueT) this.lastValueT = t;
  }
}
