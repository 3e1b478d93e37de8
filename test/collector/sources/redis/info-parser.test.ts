import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseRedisInfo, replicationOffsetLag } from '../../../../collector/sources/redis/info-parser';
import { buildRedisSeries, REDIS_UNLIMITED_MEMORY_REFERENCE_BYTES } from '../../../../collector/sources/redis/series';

const FIXTURES = path.join(__dirname, '../../../fixtures/redis');
const fixture = (name: string): string => readFileSync(path.join(FIXTURES, name), 'utf8');

/** The raw value of `key` in INFO text, found independently of the parser. */
function rawField(text: string, key: string): string | undefined {
  const m = new RegExp(`^${key}:(.*?)\\r?$`, 'm').exec(text);
  return m?.[1];
}

describe('redis INFO parser', () => {
  it('reads a Redis 7.0 master (captured from redis-server 7.0.15)', () => {
    const text = fixture('redis-7.0-info.txt');
    const info = parseRedisInfo(text);
    assert.equal(info.version, '7.0.15');
    assert.deepEqual(info.sections, [
      'server',
      'clients',
      'memory',
      'persistence',
      'stats',
      'replication',
      'cpu',
      'modules',
      'errorstats',
      'cluster',
      'keyspace',
    ]);
    for (const [field, key] of [
      ['connectedClients', 'connected_clients'],
      ['blockedClients', 'blocked_clients'],
      ['usedMemoryBytes', 'used_memory'],
      ['usedMemoryRssBytes', 'used_memory_rss'],
      ['fragmentationRatio', 'mem_fragmentation_ratio'],
      ['totalCommandsProcessed', 'total_commands_processed'],
      ['keyspaceHits', 'keyspace_hits'],
      ['keyspaceMisses', 'keyspace_misses'],
      ['evictedKeys', 'evicted_keys'],
      ['expiredKeys', 'expired_keys'],
      ['uptimeSeconds', 'uptime_in_seconds'],
    ] as const) {
      assert.equal(info[field], Number(rawField(text, key)), field);
    }
    assert.equal(info.maxmemoryBytes, null, 'maxmemory:0 means no limit, not 0 bytes');
    assert.equal(info.role, 'master');
    assert.deepEqual(info.keyspace, [
      { db: 0, keys: 4, expires: 1, avgTtlMs: 94198 },
      { db: 3, keys: 1, expires: 0, avgTtlMs: 0 },
    ]);
    assert.equal(info.connectedReplicas, 1);
    assert.deepEqual(info.replicas, [{ ip: '127.0.0.1', port: 16380, state: 'online', offset: 747, lagSeconds: 0 }]);
    assert.equal(info.masterReplOffset, 747);
    assert.equal(replicationOffsetLag(info), 0);
    // Every key:value line is kept, so nothing is silently dropped.
    const lines = text.split('\r\n').filter((l) => l && !l.startsWith('#'));
    assert.equal(info.fields.size, lines.length);
  });

  it('reads the replica side of the same 7.0 pair', () => {
    const info = parseRedisInfo(fixture('redis-7.0-info-replica.txt'));
    assert.equal(info.role, 'slave');
    assert.equal(info.masterLinkStatus, 'up');
    assert.equal(info.slaveReplOffset, 747);
    assert.equal(replicationOffsetLag(info), null, 'a replica cannot see its master offset');
    assert.deepEqual(
      info.keyspace.map((d) => [d.db, d.keys]),
      [
        [0, 4],
        [3, 1],
      ],
    );
  });

  it('reads a Redis 6.2 INFO (no 7.0-only fields, maxmemory set, empty keyspace)', () => {
    const text = fixture('redis-6.2-info.txt');
    const info = parseRedisInfo(text);
    assert.equal(info.version, '6.2.6');
    assert.equal(info.maxmemoryBytes, 512 * 1024 * 1024);
    assert.equal(info.fragmentationRatio, 16.75);
    assert.equal(info.usedMemoryBytes, 873728);
    assert.equal(info.usedMemoryRssBytes, 13922304);
    assert.equal(info.connectedClients, 1);
    assert.deepEqual(info.keyspace, []);
    assert.equal(info.role, 'master');
    assert.equal(info.connectedReplicas, 0);
    assert.equal(replicationOffsetLag(info), null);
    assert.equal(info.fields.get('total_net_repl_input_bytes'), undefined, '7.0-only field must not appear');
    assert.ok(info.sections.includes('keyspace'));
  });

  it('copes with LF line ends, odd lines and non-numeric values', () => {
    const info = parseRedisInfo(
      '# Server\nredis_version:7.2.4\nnonsense line\n:novalue\nused_memory:abc\ndb12:keys=7,expires=2,avg_ttl=100\nslave0:ip=::1,port=6380,state=online,offset=90,lag=1\nrole:master\nmaster_repl_offset:100\n',
    );
    assert.equal(info.version, '7.2.4');
    assert.equal(info.usedMemoryBytes, null, 'not a number → null, never 0');
    assert.deepEqual(info.keyspace, [{ db: 12, keys: 7, expires: 2, avgTtlMs: 100 }]);
    assert.equal(info.replicas[0].ip, '::1');
    assert.equal(replicationOffsetLag(info), 10);
    assert.deepEqual(parseRedisInfo('').keyspace, []);
  });
});

describe('redis series from two INFO readings', () => {
  const base = fixture('redis-7.0-info.txt');
  const withCounters = (c: Record<string, number | string>, keyspace?: string): string => {
    let t = base;
    for (const [k, v] of Object.entries(c)) t = t.replace(new RegExp(`^${k}:.*$`, 'm'), `${k}:${v}\r`);
    if (keyspace !== undefined) t = t.slice(0, t.indexOf('# Keyspace')) + '# Keyspace\r\n' + keyspace;
    return t;
  };
  const tick = (text: string, atMs: number, knownDbs = new Set<number>()) => ({
    instance: 'main',
    info: parseRedisInfo(text),
    atMs,
    pingSeconds: 0.0004,
    ownCommands: 2,
    knownDbs,
  });

  it('has null rates on the first reading and gauges from INFO', () => {
    const { series } = buildRedisSeries(tick(base, 1000), null);
    assert.equal(series['redis.main.ops_per_second'], null);
    assert.equal(series['redis.main.hit_ratio'], null);
    assert.equal(series['redis.main.evicted_keys_per_second'], null);
    assert.equal(series['redis.main.up_state'], 1);
    assert.equal(series['redis.main.ping_latency_seconds'], 0.0004);
    assert.equal(series['redis.main.db0_keys_count'], 4);
    assert.equal(series['redis.main.db3_keys_count'], 1);
    assert.equal(series['redis.main.maxmemory_bytes'], null);
    const used = Number(rawField(base, 'used_memory'));
    assert.equal(series['redis.main.memory_used_ratio'], used / REDIS_UNLIMITED_MEMORY_REFERENCE_BYTES);
    assert.equal(series['redis.main.replication_offset_lag_bytes'], 0);
  });

  it('computes hit ratio, ops/s (minus our own commands), evicted and expired per second over the interval', () => {
    const known = new Set<number>();
    const a = buildRedisSeries(
      tick(withCounters({ keyspace_hits: 100, keyspace_misses: 50, total_commands_processed: 1000, evicted_keys: 5, expired_keys: 7 }), 10_000, known),
      null,
    );
    const b = buildRedisSeries(
      tick(withCounters({ keyspace_hits: 130, keyspace_misses: 60, total_commands_processed: 1402, evicted_keys: 9, expired_keys: 7 }), 12_000, known),
      a.counters,
    );
    assert.equal(b.series['redis.main.hit_ratio'], 30 / 40);
    assert.equal(b.series['redis.main.ops_per_second'], (402 - 2) / 2);
    assert.equal(b.series['redis.main.evicted_keys_per_second'], 2);
    assert.equal(b.series['redis.main.expired_keys_per_second'], 0);
  });

  it('has a null hit ratio without lookups in the interval, and null rates after a restart (new run_id)', () => {
    const a = buildRedisSeries(tick(withCounters({ keyspace_hits: 100, keyspace_misses: 50 }), 0), null);
    const idle = buildRedisSeries(tick(withCounters({ keyspace_hits: 100, keyspace_misses: 50 }), 1000), a.counters);
    assert.equal(idle.series['redis.main.hit_ratio'], null);
    const restarted = buildRedisSeries(
      tick(withCounters({ run_id: 'f'.repeat(40), keyspace_hits: 3, keyspace_misses: 1, total_commands_processed: 5 }), 2000),
      idle.counters,
    );
    assert.equal(restarted.series['redis.main.hit_ratio'], null);
    assert.equal(restarted.series['redis.main.ops_per_second'], null);
  });

  it('reports 0 keys for a database that emptied (INFO lists only non-empty ones)', () => {
    const known = new Set<number>();
    const a = buildRedisSeries(tick(base, 0, known), null);
    const b = buildRedisSeries(tick(withCounters({}, 'db0:keys=2,expires=0,avg_ttl=0\r\n'), 1000, known), a.counters);
    assert.equal(b.series['redis.main.db0_keys_count'], 2);
    assert.equal(b.series['redis.main.db3_keys_count'], 0);
  });
});
