// The history journal: the ticks recorded since the last snapshot, appended at every flush.
// Rewriting the whole snapshot every 10 s would write ~40 MB per flush at 200 series (≈350 GB a day);
// appending the new ticks writes a few KB. Each append is one framed, checksummed record, so a record
// torn by a crash or a full disk is recognised on load and only that flush is lost.

/** First 8 bytes of a journal file. */
export const JOURNAL_MAGIC = 'RIGWJRNL';
/** Layout version of the journal. */
export const JOURNAL_VERSION = 1;

/** Which snapshot a journal continues. */
export interface JournalHeader {
  generation: number;
  intervalMs: number;
}

/** One recorded tick: values by journal-local series index (NaN = null). */
export interface JournalTick {
  t: number;
  names: string[];
  values: Float64Array;
}

/** FNV-1a over bytes: cheap, and enough to tell a torn or garbled record from a whole one. */
export function checksum(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) {
    h ^= b[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Magic, version and header JSON. */
export function encodeJournalHeader(h: JournalHeader): Buffer {
  const json = Buffer.from(JSON.stringify(h), 'utf8');
  const pre = Buffer.alloc(16);
  pre.write(JOURNAL_MAGIC, 0, 'latin1');
  pre.writeUInt32LE(JOURNAL_VERSION, 8);
  pre.writeUInt32LE(json.length, 12);
  return Buffer.concat([pre, json]);
}

/**
 * One flush's record. `index` maps series names to journal-local numbers and is extended here; names
 * new to this journal are written into the record so each record is readable with those before it.
 */
export function encodeJournalRecord(ticks: JournalTick[], index: Map<string, number>): Buffer {
  const fresh: [number, Buffer][] = [];
  let size = 4 + 4;
  for (const tick of ticks) {
    size += 8 + 4 + tick.names.length * 12;
    for (const n of tick.names) {
      if (index.has(n)) continue;
      const id = index.size;
      index.set(n, id);
      const bytes = Buffer.from(n, 'utf8');
      fresh.push([id, bytes]);
      size += 4 + 2 + bytes.length;
    }
  }
  const p = Buffer.alloc(size);
  let o = 0;
  o = p.writeUInt32LE(fresh.length, o);
  for (const [id, bytes] of fresh) {
    o = p.writeUInt32LE(id, o);
    o = p.writeUInt16LE(bytes.length, o);
    o += bytes.copy(p, o);
  }
  o = p.writeUInt32LE(ticks.length, o);
  for (const tick of ticks) {
    o = p.writeDoubleLE(tick.t, o);
    o = p.writeUInt32LE(tick.names.length, o);
    for (let i = 0; i < tick.names.length; i++) {
      o = p.writeUInt32LE(index.get(tick.names[i]!)!, o);
      o = p.writeDoubleLE(tick.values[i]!, o);
    }
  }
  const frame = Buffer.alloc(8);
  frame.writeUInt32LE(p.length, 0);
  frame.writeUInt32LE(checksum(p), 4);
  return Buffer.concat([frame, p]);
}

/** A decoded journal: its header, the ticks of every whole record, and how many bytes at the end were not. */
export interface DecodedJournal {
  header: JournalHeader;
  ticks: { t: number; values: Map<string, number | null> }[];
  tornBytes: number;
}

/** Parses a journal; throws for a foreign file, stops quietly at a torn or garbled record. */
export function decodeJournal(buf: Buffer): DecodedJournal {
  if (buf.length < 16 || buf.toString('latin1', 0, 8) !== JOURNAL_MAGIC) throw new Error('not a Rigwatch history journal (bad magic)');
  if (buf.readUInt32LE(8) !== JOURNAL_VERSION) throw new Error(`unsupported journal version ${buf.readUInt32LE(8)}`);
  const jl = buf.readUInt32LE(12);
  if (16 + jl > buf.length) throw new Error('journal header truncated');
  const h = JSON.parse(buf.toString('utf8', 16, 16 + jl)) as Partial<JournalHeader>;
  if (typeof h.generation !== 'number' || typeof h.intervalMs !== 'number') throw new Error('journal header lacks generation/intervalMs');
  const header: JournalHeader = { generation: h.generation, intervalMs: h.intervalMs };
  const names = new Map<number, string>();
  const ticks: DecodedJournal['ticks'] = [];
  let off = 16 + jl;
  while (off + 8 <= buf.length) {
    const len = buf.readUInt32LE(off);
    const sum = buf.readUInt32LE(off + 4);
    if (off + 8 + len > buf.length) break;
    const p = buf.subarray(off + 8, off + 8 + len);
    if (checksum(p) !== sum) break;
    try {
      let o = 0;
      const nNames = p.readUInt32LE(o);
      o += 4;
      const fresh = new Map<number, string>();
      for (let i = 0; i < nNames; i++) {
        const id = p.readUInt32LE(o);
        const l = p.readUInt16LE(o + 4);
        fresh.set(id, p.toString('utf8', o + 6, o + 6 + l));
        o += 6 + l;
      }
      const nTicks = p.readUInt32LE(o);
      o += 4;
      const got: DecodedJournal['ticks'] = [];
      for (let i = 0; i < nTicks; i++) {
        const t = p.readDoubleLE(o);
        const n = p.readUInt32LE(o + 8);
        o += 12;
        const values = new Map<string, number | null>();
        for (let k = 0; k < n; k++) {
          const id = p.readUInt32LE(o);
          const v = p.readDoubleLE(o + 4);
          o += 12;
          const name = fresh.get(id) ?? names.get(id);
          if (name === undefined) throw new Error(`unknown series index ${id}`);
          values.set(name, v === v ? v : null);
        }
        got.push({ t, values });
      }
      for (const [id, n] of fresh) names.set(id, n);
      ticks.push(...got);
    } catch {
      break; // a checksummed record that still does not parse: treat like a torn one
    }
    off += 8 + len;
  }
  return { header, ticks, tornBytes: buf.length - off };
}
