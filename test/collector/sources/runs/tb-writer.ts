// The tests' own TensorBoard event writer, written from the published format (not from the reader):
// TFRecord = u64 LE length, masked CRC-32C(length), data, masked CRC-32C(data) with an independent
// bitwise CRC-32C; Event/Summary/TensorProto fields by their numbers in tensorboard's compat/proto.

/** Bitwise CRC-32C (Castagnoli, reflected poly 0x82F63B78): independent of the reader's table. */
export function crc32cBitwise(buf: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of buf) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function masked(buf: Uint8Array): number {
  const c = crc32cBitwise(buf);
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
}

/** One TFRecord around `data`. */
export function tfrecord(data: Uint8Array, opts: { corruptData?: boolean } = {}): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(data.length));
  const out = Buffer.alloc(16 + data.length);
  len.copy(out, 0);
  out.writeUInt32LE(masked(len), 8);
  Buffer.from(data).copy(out, 12);
  out.writeUInt32LE((masked(data) ^ (opts.corruptData ? 1 : 0)) >>> 0, 12 + data.length);
  return out;
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

const key = (field: number, wt: number): number[] => varint(field * 8 + wt);
const bytesField = (field: number, b: Uint8Array | number[]): number[] => [...key(field, 2), ...varint(b.length), ...b];
const str = (field: number, s: string): number[] => bytesField(field, [...Buffer.from(s, 'utf8')]);
function f32(field: number, v: number): number[] {
  const b = Buffer.alloc(4);
  b.writeFloatLE(v);
  return [...key(field, 5), ...b];
}
function f64(field: number, v: number): number[] {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return [...key(field, 1), ...b];
}

/** A scalar as `simple_value` (PyTorch SummaryWriter, TF1). */
export function simpleValue(tag: string, v: number): number[] {
  return [...str(1, tag), ...f32(2, v)];
}

/** A TF2-style scalar: `tensor` (DT_FLOAT rank 0) with plugin "scalars" metadata; `form` picks the encoding. */
export function tensorValue(tag: string, v: number, form: 'float_val' | 'double_val' | 'tensor_content', withMetadata = true): number[] {
  let tensor: number[];
  if (form === 'float_val') {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    tensor = [...key(1, 0), ...varint(1), ...bytesField(2, []), ...bytesField(5, [...b])]; // packed float_val
  } else if (form === 'double_val') {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    tensor = [...key(1, 0), ...varint(2), ...bytesField(2, []), ...bytesField(6, [...b])];
  } else {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    tensor = [...key(1, 0), ...varint(1), ...bytesField(2, []), ...bytesField(4, [...b])];
  }
  const metadata = withMetadata ? bytesField(9, bytesField(1, [...str(1, 'scalars'), ...bytesField(2, [])])) : [];
  return [...str(1, tag), ...metadata, ...bytesField(8, tensor)];
}

/** An Event with wall_time, step and a Summary of `values`. */
export function event(step: number, wallTimeS: number, values: number[][]): Uint8Array {
  const summary = values.flatMap((v) => bytesField(1, v));
  return Uint8Array.from([...f64(1, wallTimeS), ...key(2, 0), ...varint(step), ...bytesField(5, summary)]);
}

/** The first record of every event file: file_version "brain.Event:2". */
export function fileVersionEvent(wallTimeS: number): Uint8Array {
  return Uint8Array.from([...f64(1, wallTimeS), ...str(3, 'brain.Event:2')]);
}
