// The one parser of Redis `INFO` text (6.x and 7.x): pure, text in → typed values out.
// Unknown fields are kept in `fields` and otherwise ignored, as the INFO docs ask of clients.

/** One `dbN:keys=…,expires=…,avg_ttl=…` line. */
export interface RedisKeyspaceDb {
  db: number;
  keys: number;
  expires: number;
  /** Average TTL in milliseconds (0 when no key has a TTL). */
  avgTtlMs: number;
}

/** One `slaveN:ip=…,port=…,state=…,offset=…,lag=…` line of a master. */
export interface RedisReplicaLine {
  ip: string;
  port: number;
  state: string;
  offset: number | null;
  /** Seconds since the replica's last ack. */
  lagSeconds: number | null;
}

/** The values Rigwatch reads from INFO; null where the field is absent or not a number. */
export interface RedisInfo {
  /** Every `key:value` field, by key (later sections win on a clash, which INFO does not produce). */
  fields: ReadonlyMap<string, string>;
  /** Section names in order of appearance (lower case), e.g. `server`, `clients`. */
  sections: string[];
  version: string | null;
  runId: string | null;
  uptimeSeconds: number | null;
  connectedClients: number | null;
  blockedClients: number | null;
  usedMemoryBytes: number | null;
  usedMemoryRssBytes: number | null;
  /** `maxmemory`; 0 means "no limit" and is reported as null. */
  maxmemoryBytes: number | null;
  fragmentationRatio: number | null;
  totalCommandsProcessed: number | null;
  keyspaceHits: number | null;
  keyspaceMisses: number | null;
  evictedKeys: number | null;
  expiredKeys: number | null;
  /** `master` or `slave` as the server says it. */
  role: string | null;
  masterReplOffset: number | null;
  /** On a replica: `slave_repl_offset` (processed offset). */
  slaveReplOffset: number | null;
  /** On a replica: `up` or `down`. */
  masterLinkStatus: string | null;
  connectedReplicas: number | null;
  replicas: RedisReplicaLine[];
  keyspace: RedisKeyspaceDb[];
}

/** Parses the text of `INFO` (any sections, CRLF or LF line ends). Never throws on odd lines. */
export function parseRedisInfo(text: string): RedisInfo {
  // A Map, not an object: ~200 dynamic keys per reading would push an object into slow dictionary mode.
  const map = new Map<string, string>();
  const sections: string[] = [];
  const keyspace: RedisKeyspaceDb[] = [];
  const replicas: RedisReplicaLine[] = [];
  // One pass over the text with indexOf: no split() array, no regex per line (this runs every tick).
  let pos = 0;
  const len = text.length;
  while (pos < len) {
    let end = text.indexOf('\n', pos);
    if (end === -1) end = len;
    const lineEnd = end > pos && text.charCodeAt(end - 1) === 13 /* \r */ ? end - 1 : end;
    const start = pos;
    pos = end + 1;
    if (lineEnd <= start) continue;
    if (text.charCodeAt(start) === 35 /* # */) {
      sections.push(
        text
          .slice(start + 1, lineEnd)
          .trim()
          .toLowerCase(),
      );
      continue;
    }
    const colon = text.indexOf(':', start);
    if (colon <= start || colon >= lineEnd) continue;
    const key = text.slice(start, colon);
    const value = text.slice(colon + 1, lineEnd);
    map.set(key, value);
    const c0 = key.charCodeAt(0);
    if (c0 === 100 /* d */ && key.length > 2 && key.startsWith('db') && isDigits(key, 2)) {
      const kv = parseKv(value);
      const keys = num(kv.keys);
      if (keys !== null) {
        keyspace.push({ db: Number(key.slice(2)), keys, expires: num(kv.expires) ?? 0, avgTtlMs: num(kv.avg_ttl) ?? 0 });
      }
    } else if (c0 === 115 /* s */ && key.length > 5 && key.startsWith('slave') && isDigits(key, 5)) {
      const kv = parseKv(value);
      replicas.push({
        ip: kv.ip ?? '',
        port: num(kv.port) ?? 0,
        state: kv.state ?? '',
        offset: num(kv.offset),
        lagSeconds: num(kv.lag),
      });
    }
  }
  const f = (k: string): string | undefined => map.get(k);
  const maxmemory = num(f('maxmemory'));
  return {
    fields: map,
    sections,
    version: f('redis_version') ?? null,
    runId: f('run_id') ?? null,
    uptimeSeconds: num(f('uptime_in_seconds')),
    connectedClients: num(f('connected_clients')),
    blockedClients: num(f('blocked_clients')),
    usedMemoryBytes: num(f('used_memory')),
    usedMemoryRssBytes: num(f('used_memory_rss')),
    maxmemoryBytes: maxmemory === null || maxmemory === 0 ? null : maxmemory,
    fragmentationRatio: num(f('mem_fragmentation_ratio')),
    totalCommandsProcessed: num(f('total_commands_processed')),
    keyspaceHits: num(f('keyspace_hits')),
    keyspaceMisses: num(f('keyspace_misses')),
    evictedKeys: num(f('evicted_keys')),
    expiredKeys: num(f('expired_keys')),
    role: f('role') ?? null,
    masterReplOffset: num(f('master_repl_offset')),
    slaveReplOffset: num(f('slave_repl_offset')),
    masterLinkStatus: f('master_link_status') ?? null,
    connectedReplicas: num(f('connected_slaves')),
    replicas,
    keyspace: keyspace.sort((a, b) => a.db - b.db),
  };
}

/**
 * Bytes the furthest-behind online replica trails the master's offset; null when this server is not
 * a master with replicas (a replica cannot see its master's current offset).
 */
export function replicationOffsetLag(info: RedisInfo): number | null {
  if (info.role !== 'master' || info.masterReplOffset === null) return null;
  const offsets = info.replicas.map((r) => r.offset).filter((o): o is number => o !== null);
  if (offsets.length === 0) return null;
  return Math.max(0, info.masterReplOffset - Math.min(...offsets));
}

function isDigits(s: string, from: number): boolean {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function parseKv(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

function num(v: string | undefined): number | null {
  if (v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}
