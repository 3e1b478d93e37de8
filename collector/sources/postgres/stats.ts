// The monitoring SQL and the pure step from its result rows to series: gauges from the latest row,
// rates and the cache hit ratio from deltas of pg_stat_database counters between two ticks.

import type { SeriesMap } from '../../../protocol';
import { seriesName } from '../../../protocol';

/** Longest query text kept in details, in characters. */
export const QUERY_TEXT_MAX_CHARS = 1024;

/**
 * One round trip per tick. `$1` is the database the statistics cover (NULL = all databases).
 * Connection counts are server-wide (max_connections is), client backends only, Rigwatch's own included.
 * "Blocked" = waiting on a heavyweight lock (cheap; pg_blocking_pids() is not meant for polling).
 */
export function statsSql(showQueryText: boolean): string {
  return `
SELECT a.active, a.idle, a.idle_in_tx, a.total, a.blocked,
       current_setting('max_connections')::int AS max_connections,
       d.xact, d.blks_hit, d.blks_read, d.tup_returned, d.tup_fetched, d.tup_inserted, d.tup_updated,
       d.tup_deleted, d.deadlocks, d.temp_bytes, d.stats_reset,
       l.age AS longest_seconds, l.query AS longest_query,
       pg_is_in_recovery() AS in_recovery,
       CASE WHEN NOT pg_is_in_recovery() THEN NULL
            WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END AS replication_lag
FROM (SELECT count(*) FILTER (WHERE state = 'active') AS active,
             count(*) FILTER (WHERE state = 'idle') AS idle,
             count(*) FILTER (WHERE state LIKE 'idle in transaction%') AS idle_in_tx,
             count(*) AS total,
             count(*) FILTER (WHERE wait_event_type = 'Lock') AS blocked
        FROM pg_stat_activity WHERE backend_type = 'client backend') a
CROSS JOIN
     (SELECT sum(xact_commit + xact_rollback) AS xact, sum(blks_hit) AS blks_hit, sum(blks_read) AS blks_read,
             sum(tup_returned) AS tup_returned, sum(tup_fetched) AS tup_fetched, sum(tup_inserted) AS tup_inserted,
             sum(tup_updated) AS tup_updated, sum(tup_deleted) AS tup_deleted, sum(deadlocks) AS deadlocks,
             sum(temp_bytes) AS temp_bytes, max(stats_reset) AS stats_reset
        FROM pg_stat_database WHERE ($1::text IS NULL OR datname = $1::text)) d
LEFT JOIN LATERAL
     (SELECT extract(epoch FROM clock_timestamp() - query_start) AS age,
             ${showQueryText ? `left(query, ${QUERY_TEXT_MAX_CHARS})` : 'NULL::text'} AS query
        FROM pg_stat_activity
       WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND query_start IS NOT NULL
       ORDER BY query_start LIMIT 1) l ON true`;
}

/** Size of the covered database(s); run on its own slower cadence (it stats every file). */
export const DATABASE_SIZE_SQL = `
SELECT sum(pg_database_size(oid))::bigint AS size FROM pg_database
 WHERE ($1::text IS NULL OR datname = $1::text) AND datallowconn AND has_database_privilege(oid, 'CONNECT')`;

/** Server facts read once per (re)connect. */
export const SERVER_INFO_SQL = `SELECT current_setting('server_version') AS version, current_setting('server_version_num')::int AS num,
       pg_is_in_recovery() AS replica, current_database() AS db`;

/**
 * PostgreSQL 15+: flush this backend's pending statistics when it next goes idle. Superuser-only by
 * default (others may be granted EXECUTE); failing is harmless.
 */
export const FORCE_FLUSH_SQL = 'SELECT pg_stat_force_next_flush()';

/** The row of `statsSql` as node-postgres returns it (bigint/numeric as strings). */
export interface PostgresStatsRow {
  active: string | number | null;
  idle: string | number | null;
  idle_in_tx: string | number | null;
  total: string | number | null;
  blocked: string | number | null;
  max_connections: string | number | null;
  xact: string | number | null;
  blks_hit: string | number | null;
  blks_read: string | number | null;
  tup_returned: string | number | null;
  tup_fetched: string | number | null;
  tup_inserted: string | number | null;
  tup_updated: string | number | null;
  tup_deleted: string | number | null;
  deadlocks: string | number | null;
  temp_bytes: string | number | null;
  stats_reset: Date | string | null;
  longest_seconds: string | number | null;
  longest_query: string | null;
  in_recovery: boolean | null;
  replication_lag: string | number | null;
}

// Series names are the same every tick: build each once (seriesName sanitises with a regex).
const names = new Map<string, string>();
function cachedName(instance: string, metric: string): string {
  const key = `${instance}\u0000${metric}`;
  let n = names.get(key);
  if (n === undefined) {
    n = seriesName('postgres', instance, metric);
    names.set(key, n);
  }
  return n;
}

/** Counters kept between ticks. */
export interface PostgresCounters {
  atMs: number;
  statsReset: string | null;
  xact: number | null;
  blksHit: number | null;
  blksRead: number | null;
  returned: number | null;
  fetched: number | null;
  inserted: number | null;
  updated: number | null;
  deleted: number | null;
  deadlocks: number | null;
  tempBytes: number | null;
}

/** Inputs of one tick besides the row. */
export interface PostgresTick {
  instance: string;
  atMs: number;
  row: PostgresStatsRow;
  queryLatencySeconds: number;
  connectLatencySeconds: number | null;
  databaseSizeBytes: number | null;
}

/** Builds one tick's series and the counters for the next. `prev` null → rates are null. */
export function buildPostgresSeries(tick: PostgresTick, prev: PostgresCounters | null): { series: SeriesMap; counters: PostgresCounters } {
  const { row } = tick;
  const s = (metric: string): string => cachedName(tick.instance, metric);
  const counters: PostgresCounters = {
    atMs: tick.atMs,
    statsReset: row.stats_reset === null ? null : new Date(row.stats_reset).toISOString(),
    xact: num(row.xact),
    blksHit: num(row.blks_hit),
    blksRead: num(row.blks_read),
    returned: num(row.tup_returned),
    fetched: num(row.tup_fetched),
    inserted: num(row.tup_inserted),
    updated: num(row.tup_updated),
    deleted: num(row.tup_deleted),
    deadlocks: num(row.deadlocks),
    tempBytes: num(row.temp_bytes),
  };
  // pg_stat_reset() (a new stats_reset) or a counter going backwards: no rate this tick.
  const usable = prev !== null && prev.statsReset === counters.statsReset && tick.atMs > prev.atMs;
  const dt = usable ? (tick.atMs - prev.atMs) / 1000 : 0;
  const delta = (k: Exclude<keyof PostgresCounters, 'atMs' | 'statsReset'>): number | null => {
    const cur = counters[k];
    const before = prev?.[k];
    return usable && cur !== null && before !== null && before !== undefined && cur >= before ? cur - before : null;
  };
  const rate = (k: Exclude<keyof PostgresCounters, 'atMs' | 'statsReset'>): number | null => {
    const d = delta(k);
    return d === null ? null : d / dt;
  };
  const hitD = delta('blksHit');
  const readD = delta('blksRead');
  const blocks = hitD !== null && readD !== null ? hitD + readD : null;
  const total = num(row.total);
  const max = num(row.max_connections);
  const series: SeriesMap = {
    [s('up_state')]: 1,
    [s('connect_latency_seconds')]: tick.connectLatencySeconds,
    [s('query_latency_seconds')]: tick.queryLatencySeconds,
    [s('connections_active_count')]: num(row.active),
    [s('connections_idle_count')]: num(row.idle),
    [s('connections_idle_in_transaction_count')]: num(row.idle_in_tx),
    [s('connections_total_count')]: total,
    [s('max_connections_count')]: max,
    [s('connections_used_ratio')]: total !== null && max ? total / max : null,
    [s('cache_hit_ratio')]: blocks !== null && blocks > 0 ? (hitD as number) / blocks : null,
    [s('xact_per_second')]: rate('xact'),
    [s('rows_returned_per_second')]: rate('returned'),
    [s('rows_fetched_per_second')]: rate('fetched'),
    [s('rows_inserted_per_second')]: rate('inserted'),
    [s('rows_updated_per_second')]: rate('updated'),
    [s('rows_deleted_per_second')]: rate('deleted'),
    [s('deadlocks_per_second')]: rate('deadlocks'),
    [s('temp_bytes_per_second')]: rate('tempBytes'),
    [s('database_size_bytes')]: tick.databaseSizeBytes,
    // No active query (other than ours) → 0 s: a real value, not "unknown".
    [s('longest_query_seconds')]: row.longest_seconds === null ? 0 : Math.max(0, num(row.longest_seconds) ?? 0),
    [s('blocked_count')]: num(row.blocked),
    [s('replication_lag_seconds')]: row.in_recovery ? num(row.replication_lag) : null,
  };
  return { series, counters };
}

/** Query text safe to show: `PASSWORD '…'` literals masked, length bounded. */
export function maskQueryText(text: string): string {
  return text.replace(/(password\s+)'(?:[^']|'')*'/gi, "$1'***'").slice(0, QUERY_TEXT_MAX_CHARS);
}

function num(v: string | number | null | undefined): number | null {
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}
