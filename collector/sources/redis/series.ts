// Turns two consecutive INFO readings into Redis series: gauges straight from the latest reading,
// rates and the hit ratio from counter deltas over the interval between them (never lifetime totals).

import type { SeriesMap } from '../../../protocol';
import { seriesName } from '../../../protocol';
import type { RedisInfo } from './info-parser';
import { replicationOffsetLag } from './info-parser';

/** Denominator of `memory_used_ratio` when `maxmemory` is unset (no limit), in bytes. */
export const REDIS_UNLIMITED_MEMORY_REFERENCE_BYTES = 1024 ** 3;

// Series names are the same every tick: build each once (seriesName sanitises with a regex).
const names = new Map<string, string>();
function cachedName(instance: string, metric: string): string {
  const key = `${instance}\u0000${metric}`;
  let n = names.get(key);
  if (n === undefined) {
    n = seriesName('redis', instance, metric);
    names.set(key, n);
  }
  return n;
}

/** Counters kept from one reading to compute the next one's rates. */
export interface RedisCounters {
  /** Monotonic time of the reading, in ms. */
  atMs: number;
  /** Server run id: a different one means a restart, so counters started again. */
  runId: string | null;
  commands: number | null;
  hits: number | null;
  misses: number | null;
  evicted: number | null;
  expired: number | null;
}

/** Inputs of one tick. */
export interface RedisTick {
  instance: string;
  info: RedisInfo;
  atMs: number;
  pingSeconds: number;
  /** Commands Rigwatch itself sent between the previous reading and this one (excluded from ops/s). */
  ownCommands: number;
  /** Databases seen before: one that vanished from INFO's keyspace is empty, reported as 0. */
  knownDbs: Set<number>;
}

/** Builds the series of one tick and the counters for the next. `prev` null → rates are null. */
export function buildRedisSeries(tick: RedisTick, prev: RedisCounters | null): { series: SeriesMap; counters: RedisCounters } {
  const { info, instance } = tick;
  const s = (metric: string): string => cachedName(instance, metric);
  const counters: RedisCounters = {
    atMs: tick.atMs,
    runId: info.runId,
    commands: info.totalCommandsProcessed,
    hits: info.keyspaceHits,
    misses: info.keyspaceMisses,
    evicted: info.evictedKeys,
    expired: info.expiredKeys,
  };
  const usable = prev !== null && prev.runId === counters.runId && tick.atMs > prev.atMs;
  const dtSeconds = usable ? (tick.atMs - prev.atMs) / 1000 : 0;
  const delta = (cur: number | null, before: number | null | undefined): number | null =>
    usable && cur !== null && before !== null && before !== undefined && cur >= before ? cur - before : null;
  const rate = (d: number | null): number | null => (d === null ? null : d / dtSeconds);

  const hitsD = delta(counters.hits, prev?.hits);
  const missesD = delta(counters.misses, prev?.misses);
  const lookups = hitsD !== null && missesD !== null ? hitsD + missesD : null;
  const commandsD = delta(counters.commands, prev?.commands);

  const used = info.usedMemoryBytes;
  const reference = info.maxmemoryBytes ?? REDIS_UNLIMITED_MEMORY_REFERENCE_BYTES;
  const series: SeriesMap = {
    [s('up_state')]: 1,
    [s('ping_latency_seconds')]: tick.pingSeconds,
    [s('clients_connected_count')]: info.connectedClients,
    [s('clients_blocked_count')]: info.blockedClients,
    [s('memory_used_bytes')]: used,
    [s('memory_rss_bytes')]: info.usedMemoryRssBytes,
    [s('maxmemory_bytes')]: info.maxmemoryBytes,
    [s('fragmentation_ratio')]: info.fragmentationRatio,
    [s('memory_used_ratio')]: used === null ? null : used / reference,
    [s('hit_ratio')]: lookups !== null && lookups > 0 ? (hitsD as number) / lookups : null,
    [s('ops_per_second')]: rate(commandsD === null ? null : Math.max(0, commandsD - tick.ownCommands)),
    [s('evicted_keys_per_second')]: rate(delta(counters.evicted, prev?.evicted)),
    [s('expired_keys_per_second')]: rate(delta(counters.expired, prev?.expired)),
    [s('replication_offset_lag_bytes')]: replicationOffsetLag(info),
  };
  const present = new Set<number>();
  for (const db of info.keyspace) {
    present.add(db.db);
    tick.knownDbs.add(db.db);
    series[s(`db${db.db}_keys_count`)] = db.keys;
  }
  for (const db of tick.knownDbs) if (!present.has(db)) series[s(`db${db}_keys_count`)] = 0;
  return { series, counters };
}
