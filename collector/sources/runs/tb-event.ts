// A decoder for exactly the protobuf fields TensorBoard scalars need (field numbers from tensorboard's
// compat/proto event.proto, summary.proto, tensor.proto):
//   Event:   wall_time=1 (double), step=2 (int64), summary=5 (Summary)
//   Summary: value=1 (repeated Value)
//   Value:   tag=1, simple_value=2 (float), tensor=8 (TensorProto), metadata=9 (SummaryMetadata)
//   SummaryMetadata: plugin_data=1 (PluginData: plugin_name=1)
//   TensorProto: dtype=1, tensor_shape=2, tensor_content=4, float_val=5, double_val=6, half_val=13
// Everything else (graphs, images, histograms) is skipped by wire type without being decoded.

/** DataType enum values from tensorboard's types.proto that a scalar may use. */
const DT_FLOAT = 1;
const DT_DOUBLE = 2;
const DT_HALF = 19;

/** One scalar from an event. */
export interface TbScalar {
  tag: string;
  value: number;
  /** The summary's plugin name when the value carried metadata (only the first value of a tag does). */
  plugin: string | null;
  /** True for a `tensor` value (TF2 style), false for `simple_value`. */
  fromTensor: boolean;
}

/** The parts of an Event this reader uses. */
export interface TbEvent {
  wallTime: number | null;
  step: number | null;
  scalars: TbScalar[];
  /** Tensor values that were not scalars (shape or dtype); their tags, for the "ignored" note. */
  nonScalarTags: string[];
}

/** Thrown for malformed protobuf bytes. */
export class ProtoError extends Error {}

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoError('truncated varint');
      const b = this.buf[this.pos++] as number;
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 128;
    }
    throw new ProtoError('varint too long');
  }
  /** Skips a field of wire type `wt`. */
  skip(wt: number): void {
    switch (wt) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2: {
        const n = this.varint();
        this.pos += n;
        break;
      }
      case 5:
        this.pos += 4;
        break;
      default:
        throw new ProtoError(`unsupported wire type ${wt}`);
    }
    if (this.pos > this.end) throw new ProtoError('field runs past the message');
  }
  /** A length-delimited field's [start, end). */
  span(): [number, number] {
    const n = this.varint();
    const s = this.pos;
    if (s + n > this.end) throw new ProtoError('length runs past the message');
    this.pos = s + n;
    return [s, s + n];
  }
  view(): DataView {
    return new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Decodes one Event record; throws ProtoError on malformed bytes. */
export function decodeEvent(buf: Uint8Array): TbEvent {
  const r = new Reader(buf, 0, buf.length);
  const ev: TbEvent = { wallTime: null, step: null, scalars: [], nonScalarTags: [] };
  while (r.pos < r.end) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wt = key & 7;
    if (field === 1 && wt === 1) {
      ev.wallTime = r.view().getFloat64(r.pos, true);
      r.pos += 8;
    } else if (field === 2 && wt === 0) {
      ev.step = int64(r);
    } else if (field === 5 && wt === 2) {
      const [s, e] = r.span();
      decodeSummary(buf, s, e, ev);
    } else {
      r.skip(wt);
    }
  }
  return ev;
}

/** A varint read as a signed 64-bit integer (steps are non-negative in practice). */
function int64(r: Reader): number {
  const v = r.varint();
  return v >= 2 ** 63 ? v - 2 ** 64 : v;
}

function decodeSummary(buf: Uint8Array, start: number, end: number, ev: TbEvent): void {
  const r = new Reader(buf, start, end);
  while (r.pos < r.end) {
    const key = r.varint();
    if (key === ((1 << 3) | 2)) {
      const [s, e] = r.span();
      decodeValue(buf, s, e, ev);
    } else {
      r.skip(key & 7);
    }
  }
}

function decodeValue(buf: Uint8Array, start: number, end: number, ev: TbEvent): void {
  const r = new Reader(buf, start, end);
  let tag: string | null = null;
  let simple: number | null = null;
  let tensor: [number, number] | null = null;
  let plugin: string | null = null;
  while (r.pos < r.end) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wt = key & 7;
    if (field === 1 && wt === 2) {
      const [s, e] = r.span();
      tag = utf8.decode(buf.subarray(s, e));
    } else if (field === 2 && wt === 5) {
      simple = r.view().getFloat32(r.pos, true);
      r.pos += 4;
    } else if (field === 8 && wt === 2) {
      tensor = r.span();
    } else if (field === 9 && wt === 2) {
      const [s, e] = r.span();
      plugin = pluginName(buf, s, e);
    } else {
      r.skip(wt);
    }
  }
  if (tag === null) return;
  if (simple !== null) {
    ev.scalars.push({ tag, value: simple, plugin, fromTensor: false });
    return;
  }
  if (tensor !== null) {
    const v = scalarOfTensor(buf, tensor[0], tensor[1]);
    if (v === null) ev.nonScalarTags.push(tag);
    else ev.scalars.push({ tag, value: v, plugin, fromTensor: true });
  }
}

function pluginName(buf: Uint8Array, start: number, end: number): string | null {
  const r = new Reader(buf, start, end);
  while (r.pos < r.end) {
    const key = r.varint();
    if (key === ((1 << 3) | 2)) {
      const [s, e] = r.span();
      const pr = new Reader(buf, s, e);
      while (pr.pos < pr.end) {
        const k = pr.varint();
        if (k === ((1 << 3) | 2)) {
          const [a, b] = pr.span();
          return utf8.decode(buf.subarray(a, b));
        }
        pr.skip(k & 7);
      }
      return null;
    }
    r.skip(key & 7);
  }
  return null;
}

/** The single value of a rank-0 (or one-element) float/double/half tensor, else null. */
export function scalarOfTensor(buf: Uint8Array, start: number, end: number): number | null {
  const r = new Reader(buf, start, end);
  let dtype = 0;
  let dims = 0;
  let content: [number, number] | null = null;
  const floats: number[] = [];
  const doubles: number[] = [];
  const halves: number[] = [];
  const view = r.view();
  while (r.pos < r.end) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wt = key & 7;
    if (field === 1 && wt === 0) dtype = r.varint();
    else if (field === 2 && wt === 2) dims = countDims(buf, ...r.span());
    else if (field === 4 && wt === 2) content = r.span();
    else if (field === 5 && wt === 2) {
      const [s, e] = r.span();
      for (let p = s; p + 4 <= e && floats.length < 2; p += 4) floats.push(view.getFloat32(p, true));
    } else if (field === 5 && wt === 5) {
      if (floats.length < 2) floats.push(view.getFloat32(r.pos, true));
      r.pos += 4;
    } else if (field === 6 && wt === 2) {
      const [s, e] = r.span();
      for (let p = s; p + 8 <= e && doubles.length < 2; p += 8) doubles.push(view.getFloat64(p, true));
    } else if (field === 6 && wt === 1) {
      if (doubles.length < 2) doubles.push(view.getFloat64(r.pos, true));
      r.pos += 8;
    } else if (field === 13 && wt === 2) {
      const [s, e] = r.span();
      const hr = new Reader(buf, s, e);
      while (hr.pos < hr.end && halves.length < 2) halves.push(hr.varint());
    } else r.skip(wt);
  }
  if (dims > 0) return null;
  if (content !== null) {
    const [s, e] = content;
    if (dtype === DT_FLOAT && e - s === 4) return view.getFloat32(s, true);
    if (dtype === DT_DOUBLE && e - s === 8) return view.getFloat64(s, true);
    if (dtype === DT_HALF && e - s === 2) return halfToNumber(view.getUint16(s, true));
    return null;
  }
  if (dtype === DT_FLOAT && floats.length === 1) return floats[0] as number;
  if (dtype === DT_DOUBLE && doubles.length === 1) return doubles[0] as number;
  if (dtype === DT_HALF && halves.length === 1) return halfToNumber(halves[0] as number);
  return null;
}

/** Number of dims of a TensorShapeProto (dim=2, repeated) whose size is not 1: a [1] shape is scalar enough. */
function countDims(buf: Uint8Array, start: number, end: number): number {
  const r = new Reader(buf, start, end);
  let n = 0;
  while (r.pos < r.end) {
    const key = r.varint();
    if (key === ((2 << 3) | 2)) {
      const [s, e] = r.span();
      const dr = new Reader(buf, s, e);
      let size = 0;
      while (dr.pos < dr.end) {
        const k = dr.varint();
        if (k === ((1 << 3) | 0)) size = dr.varint();
        else dr.skip(k & 7);
      }
      if (size !== 1) n++;
    } else r.skip(key & 7);
  }
  return n;
}

function halfToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}
