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
  fields: Record<string, string>;
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
  const fields: Record<string, string> = {};
  const sections: string[] = [];
  const keyspace: RedisKeyspaceDb[] = [];
  const replicas: RedisReplicaLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') continue;
    if (line.startsWith('#')) {
      sections.push(line.slice(1).trim().toLowerCase());
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1);
    fields[key] = value;
    const db = /^db(\d+)$/.exec(key);
    if (db) {
      const kv = parseKv(value);
      const keys = num(kv.keys);
      if (keys !== null) {
        keyspace.push({ db: Number(db[1]), keys, expires: num(kv.expires) ?? 0, avgTtlMs: num(kv.avg_ttl) ?? 0 });
      }
      continue;
    }
    if (/^slave\d+$/.test(key)) {
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
  const maxmemory = num(fields.maxmemory);
  return {
    fields,
    sections,
    version: fields.redis_version ?? null,
    runId: fields.run_id ?? null,
    uptimeSeconds: num(fields.uptime_in_seconds),
    connectedClients: num(fields.connected_clients),
    blockedClients: num(fields.blocked_clients),
    usedMemoryBytes: num(fields.used_memory),
    usedMemoryRssBytes: num(fields.used_memory_rss),
    maxmemoryBytes: maxmemory === null || maxmemory === 0 ? null : maxmemory,
    fragmentationRatio: num(fields.mem_fragmentation_ratio),
    totalCommandsProcessed: num(fields.total_commands_processed),
    keyspaceHits: num(fields.keyspace_hits),
    keyspaceMisses: num(fields.keyspace_misses),
    evictedKeys: num(fields.evicted_keys),
    expiredKeys: num(fields.expired_keys),
    role: fields.role ?? null,
    masterReplOffset: num(fields.master_repl_offset),
    slaveReplOffset: num(fields.slave_repl_offset),
    masterLinkStatus: fields.master_link_status ?? null,
    connectedReplicas: num(fields.connected_slaves),
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
