import { strict as assert } from 'node:assert';
import { buildPostgresSeries, maskQueryText, type PostgresStatsRow } from '../../../../collector/sources/postgres/stats';

// Rows as node-postgres returns them from statsSql (bigint/numeric columns arrive as strings).
const row = (over: Partial<PostgresStatsRow> = {}): PostgresStatsRow => ({
  active: '1',
  idle: '3',
  idle_in_tx: '0',
  total: '4',
  blocked: '0',
  max_connections: 100,
  xact: '1000',
  blks_hit: '900',
  blks_read: '100',
  tup_returned: '5000',
  tup_fetched: '400',
  tup_inserted: '10',
  tup_updated: '5',
  tup_deleted: '1',
  deadlocks: '0',
  temp_bytes: '0',
  stats_reset: '2026-01-01T00:00:00Z',
  longest_seconds: null,
  longest_query: null,
  in_recovery: false,
  replication_lag: null,
  ...over,
});
const tick = (r: PostgresStatsRow, atMs: number) => ({
  instance: 'main',
  atMs,
  row: r,
  queryLatencySeconds: 0.001,
  connectLatencySeconds: 0.004,
  databaseSizeBytes: 8e6,
});

describe('postgres series from two stats rows', () => {
  it('computes rates and the interval cache hit ratio from deltas', () => {
    const a = buildPostgresSeries(tick(row(), 0), null);
    assert.equal(a.series['postgres.main.xact_per_second'], null);
    assert.equal(a.series['postgres.main.connections_used_ratio'], 0.04);
    const b = buildPostgresSeries(
      tick(row({ xact: '1100', blks_hit: '990', blks_read: '110', tup_inserted: '60', deadlocks: '1', temp_bytes: '4096' }), 2000),
      a.counters,
    );
    assert.equal(b.series['postgres.main.xact_per_second'], 50);
    assert.equal(b.series['postgres.main.cache_hit_ratio'], 90 / 100);
    assert.equal(b.series['postgres.main.rows_inserted_per_second'], 25);
    assert.equal(b.series['postgres.main.deadlocks_per_second'], 0.5);
    assert.equal(b.series['postgres.main.temp_bytes_per_second'], 2048);
    const idle = buildPostgresSeries(tick(row({ xact: '1100', blks_hit: '990', blks_read: '110' }), 3000), b.counters);
    assert.equal(idle.series['postgres.main.cache_hit_ratio'], null, 'no block reads in the interval → null');
  });

  it('gives no rates across a statistics reset', () => {
    const a = buildPostgresSeries(tick(row(), 0), null);
    const reset = buildPostgresSeries(tick(row({ xact: '5', stats_reset: '2026-02-01T00:00:00Z' }), 1000), a.counters);
    assert.equal(reset.series['postgres.main.xact_per_second'], null);
    const backwards = buildPostgresSeries(tick(row({ xact: '10' }), 1000), a.counters);
    assert.equal(backwards.series['postgres.main.xact_per_second'], null);
  });

  it('reports replication lag only on a replica, and 0 s when no query runs', () => {
    const primary = buildPostgresSeries(tick(row(), 0), null).series;
    assert.equal(primary['postgres.main.replication_lag_seconds'], null);
    assert.equal(primary['postgres.main.longest_query_seconds'], 0);
    const replica = buildPostgresSeries(tick(row({ in_recovery: true, replication_lag: '2.5', longest_seconds: '7.25' }), 0), null).series;
    assert.equal(replica['postgres.main.replication_lag_seconds'], 2.5);
    assert.equal(replica['postgres.main.longest_query_seconds'], 7.25);
  });

  it('masks password literals in query text', () => {
    assert.equal(maskQueryText("ALTER ROLE app PASSWORD 'it''s secret' VALID UNTIL 'x'"), "ALTER ROLE app PASSWORD '***' VALID UNTIL 'x'");
    assert.equal(maskQueryText('x'.repeat(5000)).length, 1024);
  });
});
