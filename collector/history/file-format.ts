// The history file: a magic/version header, one block per series (JSON metadata + raw typed-array
// bytes), and a trailer. Anything that does not parse exactly is rejected as corrupt or foreign.
// Version 2 follows the header and every series block with a checksum of its bytes, so a flipped
// byte in the data arrays (which would otherwise load as a wrong value or NaN) is caught too.

import * as os from 'node:os';
import { checksum } from './journal';
import type { SeriesRings } from './rings';

/** First 8 bytes of every history file. */
export const HISTORY_MAGIC = 'RIGWHIST';
/** Bumped when the layout changes; this collector writes it and also reads OLDEST_READABLE_VERSION on. */
export const HISTORY_FILE_VERSION = 2;
/** Version 1: the same layout without checksums (loaded, and rewritten as version 2 by the next snapshot). */
export const OLDEST_READABLE_VERSION = 1;
const SERIES_TAG = 0x53455249; // "SERI"
const END_TAG = 0x454e4421; // "END!"

/** File-level metadata. */
export interface HistoryFileHeader {
  intervalMs: number;
  savedAt: number;
  firstT: number | null;
  seriesCount: number;
  /** Which journal continues this snapshot. */
  generation: number;
}

/** One aggregated tier as stored. */
export interface StoredTier {
  stepMs: number;
  n: number;
  head: number;
  min: Float32Array;
  max: Float32Array;
  sum: Float64Array;
  count: Uint16Array;
}

/** One series as stored (raw samples oldest first). */
export interface StoredSeries {
  name: string;
  lastValueT: number;
  rawT: Float64Array;
  rawV: Float64Array;
  tiers: StoredTier[];
}

/** A decoded file. */
export interface DecodedHistory {
  generation: number;
  intervalMs: number;
  savedAt: number;
  firstT: number | undefined;
  series: StoredSeries[];
  /** The file's version (older ones are upgraded by the next snapshot). */
  version: number;
}

function jsonBlock(tag: Buffer | number, obj: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(obj), 'utf8');
  const head = Buffer.alloc(8);
  if (typeof tag === 'number') head.writeUInt32LE(tag, 0);
  head.writeUInt32LE(json.length, 4);
  return Buffer.concat([head, json]);
}

/** Magic, version, endianness and file metadata. */
export function encodeHeader(h: HistoryFileHeader): Buffer {
  const pre = Buffer.alloc(12);
  pre.write(HISTORY_MAGIC, 0, 'latin1');
  pre.writeUInt32LE(HISTORY_FILE_VERSION, 8);
  // The arrays are dumped in machine byte order; the header says which, so a file from another
  // architecture is refused rather than misread.
  return withChecksum(Buffer.concat([pre, jsonBlock(0, { ...h, endian: os.endianness() })]));
}

function withChecksum(block: Buffer): Buffer {
  const sum = Buffer.alloc(4);
  sum.writeUInt32LE(checksum(block), 0);
  return Buffer.concat([block, sum]);
}

function bytesOf(a: Float64Array | Float32Array | Uint16Array, from = 0, to = a.length): Buffer {
  return Buffer.from(a.buffer, a.byteOffset + from * a.BYTES_PER_ELEMENT, (to - from) * a.BYTES_PER_ELEMENT);
}

let ZEROS = Buffer.alloc(0);
/** `n` zero bytes (a view of one shared zero buffer: Buffer.concat copies it). */
function zeros(n: number): Buffer {
  if (ZEROS.length < n) ZEROS = Buffer.alloc(n);
  return ZEROS.subarray(0, n);
}

/** One series block; copies the bytes now, so later recording cannot change what is written. */
export function encodeSeries(name: string, s: SeriesRings): Buffer {
  const raw = s.raw;
  const meta = {
    name,
    lastValueT: s.lastValueT,
    rawLen: raw.len,
    tiers: s.tiers.map((t) => ({ stepMs: t.stepMs, n: t.n, head: Number.isFinite(t.head) ? t.head : null })),
  };
  const parts: Buffer[] = [jsonBlock(SERIES_TAG, meta)];
  // The raw ring is written oldest first: the part from start to the array end, then the wrapped part.
  const firstLen = Math.min(raw.len, raw.cap - raw.start);
  for (const arr of [raw.t, raw.v]) {
    parts.push(bytesOf(arr, raw.start, raw.start + firstLen));
    parts.push(bytesOf(arr, 0, raw.len - firstLen));
  }
  // Whole tier arrays in slot order, but slots never written are zeros from here rather than read from
  // the ring: reading them would make never-used pages resident (AggRing.first).
  for (const t of s.tiers) {
    const ranges = t.writtenSlots();
    for (const arr of [t.min, t.max, t.sum, t.count]) {
      let at = 0;
      for (const [from, to] of ranges.slice().sort((x, y) => x[0] - y[0])) {
        if (from > at) parts.push(zeros((from - at) * arr.BYTES_PER_ELEMENT));
        parts.push(bytesOf(arr, from, to));
        at = to;
      }
      if (at < arr.length) parts.push(zeros((arr.length - at) * arr.BYTES_PER_ELEMENT));
    }
  }
  return withChecksum(Buffer.concat(parts));
}

/** End marker: a truncated file lacks it. */
export function encodeTrailer(): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(END_TAG, 0);
  return b;
}

class Reader {
  off = 0;
  constructor(private readonly buf: Buffer) {}
  need(n: number, what: string): void {
    if (this.off + n > this.buf.length) throw new Error(`truncated at byte ${this.off} (reading ${what})`);
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32LE(this.off);
    this.off += 4;
    return v;
  }
  json(what: string): unknown {
    const len = this.u32(what);
    this.need(len, what);
    const text = this.buf.toString('utf8', this.off, this.off + len);
    this.off += len;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new Error(`bad ${what} metadata at byte ${this.off - len}`);
    }
  }
  f64(n: number, what: string): Float64Array {
    this.need(n * 8, what);
    const out = new Float64Array(n);
    this.buf.copy(new Uint8Array(out.buffer), 0, this.off, this.off + n * 8);
    this.off += n * 8;
    return out;
  }
  f32(n: number, what: string): Float32Array {
    this.need(n * 4, what);
    const out = new Float32Array(n);
    this.buf.copy(new Uint8Array(out.buffer), 0, this.off, this.off + n * 4);
    this.off += n * 4;
    return out;
  }
  u16(n: number, what: string): Uint16Array {
    this.need(n * 2, what);
    const out = new Uint16Array(n);
    this.buf.copy(new Uint8Array(out.buffer), 0, this.off, this.off + n * 2);
    this.off += n * 2;
    return out;
  }
  get done(): boolean {
    return this.off === this.buf.length;
  }
}

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function num(o: Record<string, unknown>, k: string, what: string, allowNull = false): number {
  const v = o[k];
  if (allowNull && v === null) return NaN;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${what}: field ${k} is not a number`);
  return v;
}

/** Parses a whole file; throws an Error saying what is wrong for anything not written by this version. */
export function decodeHistory(buf: Buffer): DecodedHistory {
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== HISTORY_MAGIC) throw new Error('not a Rigwatch history file (bad magic)');
  const version = buf.readUInt32LE(8);
  if (version < OLDEST_READABLE_VERSION || version > HISTORY_FILE_VERSION)
    throw new Error(`unsupported history file version ${version} (this collector reads ${OLDEST_READABLE_VERSION} to ${HISTORY_FILE_VERSION})`);
  const summed = version >= 2;
  const r = new Reader(buf);
  const verify = (from: number, what: string): void => {
    if (!summed) return;
    const end = r.off;
    const want = r.u32(`${what} checksum`);
    if (checksum(buf.subarray(from, end)) !== want) throw new Error(`${what}: checksum mismatch (bytes ${from}–${end} garbled)`);
  };
  r.off = 12;
  r.u32('header tag');
  const h = r.json('header');
  verify(0, 'header');
  if (!isObj(h)) throw new Error('header is not an object');
  if (h.endian !== os.endianness()) throw new Error(`file byte order ${String(h.endian)} differs from this machine's`);
  const intervalMs = num(h, 'intervalMs', 'header');
  const savedAt = num(h, 'savedAt', 'header');
  const firstT = num(h, 'firstT', 'header', true);
  const count = num(h, 'seriesCount', 'header');
  const generation = num(h, 'generation', 'header');
  const series: StoredSeries[] = [];
  for (let i = 0; i < count; i++) {
    const what = `series #${i}`;
    const blockStart = r.off;
    if (r.u32(what) !== SERIES_TAG) throw new Error(`${what}: bad block tag at byte ${r.off - 4}`);
    const m = r.json(what);
    if (!isObj(m) || typeof m.name !== 'string' || !Array.isArray(m.tiers)) throw new Error(`${what}: bad metadata`);
    const rawLen = num(m, 'rawLen', what);
    if (!Number.isInteger(rawLen) || rawLen < 0) throw new Error(`${what}: bad rawLen`);
    const rawT = r.f64(rawLen, what);
    const rawV = r.f64(rawLen, what);
    const tiers: StoredTier[] = [];
    for (const t of m.tiers as unknown[]) {
      if (!isObj(t)) throw new Error(`${what}: bad tier metadata`);
      const n = num(t, 'n', what);
      if (!Number.isInteger(n) || n <= 0 || n > 10_000_000) throw new Error(`${what}: bad tier size`);
      const head = num(t, 'head', what, true);
      tiers.push({
        stepMs: num(t, 'stepMs', what),
        n,
        head: Number.isNaN(head) ? -Infinity : head,
        min: r.f32(n, what),
        max: r.f32(n, what),
        sum: r.f64(n, what),
        count: r.u16(n, what),
      });
    }
    verify(blockStart, `${what} (${m.name.slice(0, 80)})`);
    series.push({ name: m.name, lastValueT: num(m, 'lastValueT', what), rawT, rawV, tiers });
  }
  if (r.u32('trailer') !== END_TAG) throw new Error('missing end marker (truncated file?)');
  if (!r.done) throw new Error('trailing bytes after the end marker');
  return { generation, intervalMs, savedAt, firstT: Number.isNaN(firstT) ? undefined : firstT, series, version };
}
