// The compact form of the sample stream, for thin links (an SSH tunnel to a remote box). A client opts
// in with `?compact=1` on the WebSocket URL. Series names are sent once as numeric keys, and each tick
// carries only the values and details that changed since the previous tick. `CompactDecoder` turns the
// stream back into ordinary `SampleMessage`s, so nothing downstream of a client knows the difference.
//
//   {type:'keys', keys:{"0":"gpu.0.utilization_ratio", …}}            full dictionary, right after hello
//   {type:'delta', t, k?:{"17":"new.series_name"}, v:[id,value,…], r?:[id,…], d?:{source:details},
//    dp?:{source:{field:value}}, dr?:[source]}

import type { SampleMessage, SeriesMap, SeriesValue } from './messages';
import type { SourceDetails } from './details';

/** Dictionary of series keys (sent after hello in compact mode). */
export interface KeysMessage {
  type: 'keys';
  keys: Record<string, string>;
}

/** One tick, as changes against the previous tick. */
export interface DeltaMessage {
  type: 'delta';
  t: number;
  /** Keys allocated this tick. */
  k?: Record<string, string>;
  /** Flat pairs: key, value, key, value… for values that changed (or are new). */
  v: (number | SeriesValue)[];
  /** Keys whose series are absent this tick. */
  r?: number[];
  /** Details of sources that are new or whose set of fields changed, whole, by source id. */
  d?: Record<string, SourceDetails>;
  /** Details fields that changed, by source id then field (merged into what the client holds). */
  dp?: Record<string, Record<string, unknown>>;
  /** Sources whose details are gone. */
  dr?: string[];
}

/** Messages only seen in compact mode. */
export type CompactMessage = KeysMessage | DeltaMessage;

/** Server side: turns consecutive samples into deltas. One encoder serves every compact client. */
export class CompactEncoder {
  private readonly ids = new Map<string, number>();
  private prev: SeriesMap = {};
  /** Per source: JSON text of each top-level details field. */
  private prevDetails = new Map<string, Map<string, string>>();

  /** The whole dictionary, for a client that just connected. */
  keys(): KeysMessage {
    const keys: Record<string, string> = {};
    for (const [name, id] of this.ids) keys[id] = name;
    return { type: 'keys', keys };
  }

  /** The delta from the previous sample to `s` (call once per tick, in order). */
  encode(s: SampleMessage): DeltaMessage {
    const msg: DeltaMessage = { type: 'delta', t: s.t, v: [] };
    for (const [name, value] of Object.entries(s.series)) {
      let id = this.ids.get(name);
      if (id === undefined) {
        id = this.ids.size;
        this.ids.set(name, id);
        (msg.k ??= {})[id] = name;
      }
      if (!(name in this.prev) || this.prev[name] !== value) msg.v.push(id, value);
    }
    for (const name of Object.keys(this.prev)) {
      if (!(name in s.series)) (msg.r ??= []).push(this.ids.get(name)!);
    }
    const seen = new Set<string>();
    for (const [src, det] of Object.entries(s.details)) {
      seen.add(src);
      const fields = new Map<string, string>();
      for (const [key, val] of Object.entries(det)) fields.set(key, JSON.stringify(val));
      const before = this.prevDetails.get(src);
      this.prevDetails.set(src, fields);
      const sameKeys = before !== undefined && before.size === fields.size && [...fields.keys()].every((k) => before.has(k));
      if (!sameKeys) {
        (msg.d ??= {})[src] = det;
        continue;
      }
      for (const [key, text] of fields) {
        if (before.get(key) !== text) ((msg.dp ??= {})[src] ??= {})[key] = (det as unknown as Record<string, unknown>)[key];
      }
    }
    for (const src of [...this.prevDetails.keys()]) {
      if (!seen.has(src)) {
        this.prevDetails.delete(src);
        (msg.dr ??= []).push(src);
      }
    }
    this.prev = s.series;
    return msg;
  }
}

/** Client side: rebuilds full samples from `hello.latest`, `keys` and `delta` messages. */
export class CompactDecoder {
  private names = new Map<number, string>();
  private series: SeriesMap = {};
  private details: Record<string, SourceDetails> = {};

  /** Seeds the state from the full sample carried in `hello`. */
  reset(latest: SampleMessage | undefined): void {
    this.series = latest ? { ...latest.series } : {};
    this.details = latest ? { ...latest.details } : {};
  }

  /** Applies a compact message; returns the rebuilt sample for a delta, undefined for keys. */
  apply(m: CompactMessage): SampleMessage | undefined {
    if (m.type === 'keys') {
      this.names = new Map(Object.entries(m.keys).map(([k, v]) => [Number(k), v]));
      return undefined;
    }
    if (m.k) for (const [k, v] of Object.entries(m.k)) this.names.set(Number(k), v);
    const next: SeriesMap = { ...this.series };
    for (const id of m.r ?? []) {
      const name = this.names.get(id);
      if (name !== undefined) delete next[name];
    }
    for (let i = 0; i + 1 < m.v.length; i += 2) {
      const name = this.names.get(m.v[i] as number);
      if (name === undefined) throw new Error(`compact stream: unknown series key ${m.v[i]} (missed a keys message?)`);
      next[name] = m.v[i + 1];
    }
    const details = { ...this.details };
    for (const src of m.dr ?? []) delete details[src];
    if (m.d) Object.assign(details, m.d);
    if (m.dp) {
      for (const [src, patch] of Object.entries(m.dp)) {
        if (!details[src]) throw new Error(`compact stream: a patch for unknown details "${src}" (missed a message?)`);
        details[src] = { ...details[src], ...patch } as SourceDetails;
      }
    }
    this.series = next;
    this.details = details;
    return { type: 'sample', t: m.t, series: { ...next }, details: { ...details } };
  }
}

/** True when `x` is a compact-mode message (check before the ServerMessage guard). */
export function isCompactMessage(x: unknown): x is CompactMessage {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as { type?: unknown; keys?: unknown; v?: unknown; t?: unknown };
  if (o.type === 'keys') return typeof o.keys === 'object' && o.keys !== null;
  return o.type === 'delta' && Array.isArray(o.v) && typeof o.t === 'number';
}
