// TFRecord framing: u64 LE length, masked CRC-32C of those 8 bytes, the data, masked CRC-32C of the
// data. `splitRecords` takes whatever bytes are new and says how far it got: a record cut off at the
// end is left for the next read; a record whose data CRC is wrong is skipped (its length was sound);
// a wrong length CRC means the framing is lost and reading this file stops.

import { maskedCrc32c } from './crc32c';

/** Largest record accepted, in bytes (a scalar event is ~100 bytes; images are skipped). */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** What one pass over new bytes found. */
export interface RecordSplit {
  /** Data of each sound record, in order (views into the input). */
  records: Uint8Array[];
  /** Bytes consumed; the rest (a partial record) waits for more data. */
  consumed: number;
  /** Records skipped because their data CRC did not match. */
  corrupt: number;
  /** Set when the framing itself is broken (bad length CRC, absurd length): stop reading the file. */
  fatal: string | null;
  /** Records larger than MAX_RECORD_BYTES, skipped whole. */
  oversized: number;
}

/** Splits `buf` into TFRecord records. */
export function splitRecords(buf: Uint8Array): RecordSplit {
  const out: RecordSplit = { records: [], consumed: 0, corrupt: 0, fatal: null, oversized: 0 };
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let p = 0;
  while (buf.length - p >= 12) {
    const lo = view.getUint32(p, true);
    const hi = view.getUint32(p + 4, true);
    if (view.getUint32(p + 8, true) !== maskedCrc32c(buf, p, p + 8)) {
      out.fatal = `bad length checksum at byte ${p}`;
      break;
    }
    if (hi !== 0) {
      out.fatal = `record length above 4 GiB at byte ${p}`;
      break;
    }
    const total = 12 + lo + 4;
    if (lo > MAX_RECORD_BYTES) {
      // Skip a huge record (an image or graph) without holding it: only its length is needed.
      if (buf.length - p < total) break;
      out.oversized++;
      p += total;
      continue;
    }
    if (buf.length - p < total) break;
    const dataStart = p + 12;
    const dataEnd = dataStart + lo;
    if (view.getUint32(dataEnd, true) === maskedCrc32c(buf, dataStart, dataEnd)) out.records.push(buf.subarray(dataStart, dataEnd));
    else out.corrupt++;
    p += total;
  }
  out.consumed = p;
  return out;
}

/** Bytes still needed before the record starting at `buf[0]` is complete (0 when unknown or none). */
export function pendingRecordBytes(buf: Uint8Array): number {
  if (buf.length < 12) return 0;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return Math.max(0, 16 + view.getUint32(0, true) - buf.length);
}
