// The Redis source against a real redis-server 7 started by the test.

import { strict as assert } from 'node:assert';
import { Redis } from 'ioredis';
import { createLogger, silentLogger } from '../../../../collector/log';
import { SourceError } from '../../../../collector/source';
import type { SampleResult } from '../../../../collector/source';
import type { RedisDetails } from '../../../../protocol';
import { RedisSource } from '../../../../collector/sources/redis/redis-source';
import type { RedisInstanceConfig } from '../../../../collector/sources/redis/config';
import { parseRedisInfo } from '../../../../collector/sources/redis/info-parser';
import { freePort } from '../../../helpers/postgres-server';
import { startRedis, type RedisServer } from '../../../helpers/redis-server';

const INTERVAL_MS = 1000;
const never = (): AbortSignal => new AbortController().signal;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function source(url: string, extra: Partial<RedisInstanceConfig> = {}, log = silentLogger): RedisSource {
  return new RedisSource({ name: 'main', url, origin: 'redis[0]', autoDetected: false, ...extra }, { intervalMs: INTERVAL_MS, log });
}

/**
 * Asserts that `rate` × (the source's interval) can be a count in [lo, hi], given the interval lies
 * between (b0 − a1) and (b1 − a0): times taken around the two samples that bound it.
 */
function countIn(rate: number | null | undefined, [a0, a1, b0, b1]: number[], lo: number, hi: number, what: string): void {
  const r = rate ?? NaN;
  const dtMin = (b0 - a1) / 1000;
  const dtMax = (b1 - a0) / 1000;
  assert.ok(
    r * dtMax >= lo - 0.5 && r * dtMin <= hi + 0.5,
    `${what}: ${r.toFixed(2)}/s over ${dtMin.toFixed(3)}–${dtMax.toFixed(3)} s is ${(r * dtMin).toFixed(1)}–${(r * dtMax).toFixed(1)}, expected ${lo}–${hi}`,
  );
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('redis source (real redis-server)', function () {
  this.timeout(30_000);
  let server: RedisServer;
  const open: RedisSource[] = [];
  const clients: Redis[] = [];

  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server?.dispose();
    assert.equal(server?.pid() ?? null, null, 'redis-server left running');
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    for (const c of clients.splice(0)) c.disconnect();
    if (server.pid() === null) await server.start(); // a failed stop/start test must not break the rest
    await server.cli('FLUSHALL');
  });
  const track = (s: RedisSource): RedisSource => (open.push(s), s);
  const trafficClient = async (): Promise<Redis> => {
    const c = new Redis(server.url(), { lazyConnect: true });
    clients.push(c);
    await c.connect();
    return c;
  };

  it('probes ready and reports what the server says', async () => {
    await server.cli('SET', 'a', '1');
    await server.cli('SET', 'b', '2');
    await server.cli('-n', '2', 'SET', 'c', '3');
    await server.cli('CONFIG', 'SET', 'maxmemory', '104857600');
    const src = track(source(server.url()));
    const probe = await src.probe(never());
    assert.equal(probe.status, 'ready');
    assert.match(probe.status === 'ready' ? (probe.description ?? '') : '', /^Redis 7\.\d+\.\d+ at 127\.0\.0\.1:\d+ \(master\)$/);
    const { series, details } = await src.sample(never());
    const info = parseRedisInfo(await server.cli('INFO'));
    assert.equal(series['redis.main.up_state'], 1);
    assert.equal(series['redis.main.db0_keys_count'], Number(await server.cli('DBSIZE')));
    assert.equal(series['redis.main.db2_keys_count'], Number(await server.cli('-n', '2', 'DBSIZE')));
    assert.equal(series['redis.main.maxmemory_bytes'], 104857600);
    // Our connection plus redis-cli's own are connected at the moment the cli asks.
    assert.equal(series['redis.main.clients_connected_count'], (info.connectedClients ?? 0) - 1);
    assert.ok((series['redis.main.memory_used_bytes'] ?? 0) > 0);
    assert.ok((series['redis.main.ping_latency_seconds'] ?? -1) >= 0);
    assert.equal(series['redis.main.ops_per_second'], null, 'first tick has no rates');
    const d = details as RedisDetails;
    assert.equal(d.connection, 'ready');
    assert.equal(d.role, 'master');
    const names = await server.cli('CLIENT', 'LIST');
    assert.match(names, /name=rigwatch/, 'the connection is named for the server admin');
    await server.cli('CONFIG', 'SET', 'maxmemory', '0');
  });

  it('measures hit ratio and ops/s over the interval from known traffic', async () => {
    const src = track(source(server.url()));
    assert.equal((await src.probe(never())).status, 'ready');
    const load = await trafficClient();
    await load.set('k', 'v');
    // The source's interval runs between its two INFO readings; bracket it from outside.
    const a0 = performance.now();
    await src.sample(never());
    const a1 = performance.now();
    const pipe = load.pipeline();
    for (let i = 0; i < 300; i++) pipe.get('k');
    for (let i = 0; i < 100; i++) pipe.get(`missing-${i}`);
    await pipe.exec();
    await sleep(800);
    const b0 = performance.now();
    const { series } = await src.sample(never());
    const b1 = performance.now();
    assert.equal(series['redis.main.hit_ratio'], 0.75);
    // 400 commands in the interval; our own PING and INFO are excluded.
    countIn(series['redis.main.ops_per_second'], [a0, a1, b0, b1], 400, 400, 'ops');
    const idle = (await src.sample(never())).series;
    assert.equal(idle['redis.main.hit_ratio'], null, 'no lookups in the interval → null, not a stale ratio');
    assert.equal(idle['redis.main.ops_per_second'], 0, 'idle server: our own commands do not count as traffic');
  });

  it('counts evicted and expired keys per second as the server does', async () => {
    const src = track(source(server.url()));
    await src.probe(never());
    const load = await trafficClient();
    const before = parseRedisInfo(await load.info());
    const a0 = performance.now();
    await src.sample(never());
    const a1 = performance.now();
    for (let i = 0; i < 20; i++) await load.set(`exp-${i}`, 'x', 'PX', 1);
    await sleep(20);
    for (let i = 0; i < 20; i++) await load.get(`exp-${i}`); // lazy expiry: counted now
    await load.config('SET', 'maxmemory-policy', 'allkeys-random');
    await load.config('SET', 'maxmemory', String((before.usedMemoryBytes ?? 0) + 1024 * 1024));
    const big = 'x'.repeat(4096);
    for (let i = 0; i < 600; i++) await load.set(`big-${i}`, big);
    const after = parseRedisInfo(await load.info());
    await sleep(300);
    const b0 = performance.now();
    const { series } = await src.sample(never());
    const b1 = performance.now();
    await load.config('SET', 'maxmemory', '0');
    const evicted = (after.evictedKeys ?? 0) - (before.evictedKeys ?? 0);
    const expired = (after.expiredKeys ?? 0) - (before.expiredKeys ?? 0);
    assert.ok(evicted > 0, 'the test must cause evictions');
    assert.ok(expired >= 20, 'the test must cause expiries');
    // Nothing writes between the test's INFO and the source's: the counts must match.
    countIn(series['redis.main.evicted_keys_per_second'], [a0, a1, b0, b1], evicted, evicted, 'evicted');
    countIn(series['redis.main.expired_keys_per_second'], [a0, a1, b0, b1], expired, expired + 2, 'expired');
  });

  it('goes down when the server stops and recovers when it returns, without a new source', async () => {
    const src = track(source(server.url()));
    assert.equal((await src.probe(never())).status, 'ready');
    await src.sample(never());
    await server.stop();
    // Within two ticks the sample fails with a retryable error.
    let failure: unknown;
    for (let tick = 0; tick < 2 && !failure; tick++) {
      await sleep(INTERVAL_MS / 2);
      await src.sample(never()).then(
        () => undefined,
        (e: unknown) => (failure = e),
      );
    }
    assert.ok(failure instanceof SourceError, `expected SourceError, got ${String(failure)}`);
    assert.equal(failure.retry, true);
    assert.match(failure.message, /127\.0\.0\.1:\d+/);
    // A configured instance that cannot be reached is down (the probe throws), to be retried with backoff.
    const down = await src.probe(never()).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(down instanceof SourceError && down.retry, String(down));
    assert.match(down.message, /cannot reach Redis at 127\.0\.0\.1:\d+: connection refused \((re)?connecting, reconnect attempt \d+\)/);
    await server.start();
    const back = await until('recovery', () =>
      src.probe(never()).then(
        (r) => (r.status === 'ready' ? true : undefined),
        () => undefined,
      ),
    );
    assert.ok(back);
    const { series, details } = await src.sample(never());
    assert.equal(series['redis.main.up_state'], 1);
    assert.equal((details as RedisDetails).connection, 'ready');
    assert.equal((details as RedisDetails).reconnectAttempts, 0);
  });

  it('reports a slow server (DEBUG SLEEP) as a failed sample without hanging past the abort', async () => {
    const src = track(source(server.url()));
    await src.probe(never());
    await src.sample(never());
    let serverAwake = false;
    const sleeper = server.cli('DEBUG', 'SLEEP', '2').then(() => (serverAwake = true));
    await sleep(100);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    await assert.rejects(src.sample(ac.signal), (e: unknown) => e instanceof SourceError && e.retry === true);
    // The sample gave up at the abort, while the server was still asleep — not when it woke up.
    assert.equal(serverAwake, false, 'sample waited for the sleeping server instead of honouring the abort');
    await sleeper;
    // After the server wakes, the same connection works again.
    await until('ready after DEBUG SLEEP', async () =>
      src.sample(never()).then(
        (r: SampleResult) => r,
        () => undefined,
      ),
    );
  });

  it('reports role and replication offset lag against a real replica', async () => {
    // Redis 7 waits 5 s before a diskless full sync (to batch replicas): not needed here.
    await server.cli('CONFIG', 'SET', 'repl-diskless-sync-delay', '0');
    const replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(server.port)] });
    try {
      await until('replica link up', async () => (/master_link_status:up/.test(await replica.cli('INFO', 'replication')) ? true : undefined));
      const master = track(source(server.url()));
      const onReplica = track(source(replica.url(), { name: 'replica' }));
      await master.probe(never());
      const rp = await onReplica.probe(never());
      assert.match(rp.status === 'ready' ? (rp.description ?? '') : '', /\(replica\)$/);
      await server.cli('SET', 'r1', 'x');
      // Replicas acknowledge their offset once a second.
      await until('replica caught up', async () => {
        const { series } = await master.sample(never());
        return series['redis.main.replication_offset_lag_bytes'] === 0 ? true : undefined;
      });
      const r = await onReplica.sample(never());
      const rd = r.details as RedisDetails;
      assert.equal(rd.role, 'slave');
      assert.equal(rd.masterLinkStatus, 'up');
      assert.equal(r.series['redis.replica.replication_offset_lag_bytes'], null, 'a replica cannot see its master offset');
      // Freeze the replica: the master's offset moves on, the replica's acknowledged one does not.
      const pid = replica.pid() as number;
      process.kill(pid, 'SIGSTOP');
      try {
        await server.cli('SET', 'r2', 'y'.repeat(1000));
        const { series, details } = await master.sample(never());
        const info = parseRedisInfo(await server.cli('INFO', 'replication'));
        const expected = (info.masterReplOffset ?? 0) - (info.replicas[0]?.offset ?? 0);
        assert.ok(expected > 1000, `the write must put the replica behind (${expected} bytes)`);
        assert.equal(series['redis.main.replication_offset_lag_bytes'], expected);
        assert.equal((details as RedisDetails).connectedReplicas, 1);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
    } finally {
      await replica.dispose();
    }
    assert.equal(replica.pid(), null, 'replica left running');
  });

  it('closes its connection', async () => {
    const src = source(server.url());
    await src.probe(never());
    await src.sample(never());
    await src.close();
    await src.close();
    await until('connection gone', async () => (!/name=rigwatch/.test(await server.cli('CLIENT', 'LIST')) ? true : undefined));
    assert.equal(src.connectionStatus(), 'closed');
  });

  it('treats an absent auto-detected instance quietly and does not look again for a while', async () => {
    const port = await freePort();
    const lines: string[] = [];
    const src = track(
      source(
        `redis://127.0.0.1:${port}`,
        { name: 'local', autoDetected: true, origin: 'auto-detected' },
        createLogger('debug', (l) => lines.push(l)),
      ),
    );
    const first = await src.probe(never());
    assert.equal(first.status, 'unavailable');
    assert.equal(first.status === 'unavailable' && first.retry, true);
    assert.match(first.status === 'unavailable' ? first.reason : '', /no Redis at 127\.0\.0\.1:\d+ \(auto-detected/);
    assert.ok(!lines.some((l) => / (warn|error) /.test(l)), `auto-detect absence must not warn: ${lines.join('\n')}`);
    assert.equal(src.connectionStatus(), 'closed', 'no background reconnect loop for an absent server');
    // A server appearing now is not noticed before the long retry: no probe storm against a port.
    const late = await startRedisOn(port);
    try {
      const second = await src.probe(never());
      assert.equal(second.status, 'unavailable');
      assert.equal(src.connectionStatus(), 'closed');
    } finally {
      await late.dispose();
    }
  });

  describe('with a password', () => {
    let secured: RedisServer;
    const PASSWORD = 'correct horse battery staple';
    before(async () => {
      secured = await startRedis({ password: PASSWORD });
    });
    after(async () => {
      await secured?.dispose();
    });

    it('reports a wrong password without the password, and does not retry', async () => {
      const wrong = 'Tr0ub4dor&3-wrong';
      const lines: string[] = [];
      const src = track(
        source(
          secured.url({ password: wrong }),
          {},
          createLogger('debug', (l) => lines.push(l)),
        ),
      );
      const probe = await src.probe(never()).then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(probe instanceof SourceError, String(probe));
      assert.equal(probe.retry, false);
      assert.match(probe.message, /rejected the credentials \(WRONGPASS/);
      assert.match(probe.message, /fix redis\[0\]\.url/, 'names the config entry to fix');
      const err = await src.sample(never()).then(
        () => null,
        (e: unknown) => e as SourceError,
      );
      assert.ok(err instanceof SourceError);
      assert.equal(err.retry, false);
      for (const text of [probe.message, err.message, ...lines]) {
        assert.ok(!text.includes(wrong) && !text.includes(encodeURIComponent(wrong)), `password leaked: ${text}`);
      }
      assert.equal(src.connectionStatus(), 'closed', 'no reconnect loop with wrong credentials');
    });

    it('reports a missing password as such', async () => {
      const src = track(source(secured.url()));
      const probe = await src.probe(never()).then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(probe instanceof SourceError && !probe.retry, String(probe));
      assert.match(probe.message, /requires a password \(NOAUTH/);
      // The auto-detected default with a password set is merely unavailable (nobody asked for it).
      const auto = track(source(secured.url(), { name: 'local', autoDetected: true, origin: 'auto-detected' }));
      const quiet = await auto.probe(never());
      assert.equal(quiet.status, 'unavailable');
      assert.equal(quiet.status === 'unavailable' && quiet.retry, false);
      assert.match(quiet.status === 'unavailable' ? quiet.reason : '', /add a "redis" entry with the password to the config, or set REDIS_URL/);
    });

    it('stops for good when the password is changed under a live connection', async () => {
      const own = await startRedis();
      try {
        const src = track(source(own.url()));
        assert.equal((await src.probe(never())).status, 'ready');
        await src.sample(never());
        const NEW = 'rotated-Secret-9';
        await own.cli('CONFIG', 'SET', 'requirepass', NEW);
        const id = /id=(\d+) [^\n]*name=rigwatch/.exec(await own.cli('-a', NEW, '--no-auth-warning', 'CLIENT', 'LIST'))?.[1];
        assert.ok(id, 'our connection is listed');
        await own.cli('-a', NEW, '--no-auth-warning', 'CLIENT', 'KILL', 'ID', id);
        // ioredis reconnects without a password: NOAUTH, which is final.
        const err = await until('auth failure', () =>
          src.sample(never()).then(
            () => undefined,
            (e: unknown) => (e instanceof SourceError && !e.retry ? e : undefined),
          ),
        );
        assert.match(err.message, /requires a password \(NOAUTH/);
        assert.ok(!err.message.includes(NEW));
        assert.equal(src.connectionStatus(), 'closed', 'no reconnect loop once credentials are wrong');
        await assert.rejects(src.probe(never()), (e: unknown) => e instanceof SourceError && !e.retry);
        await own.cli('-a', NEW, '--no-auth-warning', 'CONFIG', 'SET', 'requirepass', '');
      } finally {
        await own.dispose();
      }
    });

    it('works with the right password, which appears nowhere in details', async () => {
      const src = track(source(secured.url({ password: PASSWORD })));
      assert.equal((await src.probe(never())).status, 'ready');
      const { details } = await src.sample(never());
      const json = JSON.stringify(details);
      assert.ok(!json.includes(PASSWORD) && !json.includes(encodeURIComponent(PASSWORD)), json);
      assert.match((details as RedisDetails).target, /:\*\*\*@127\.0\.0\.1/);
    });
  });
});

/** A Redis on a given (previously free) port. */
async function startRedisOn(port: number): Promise<{ dispose(): Promise<void> }> {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, rmSync, readFileSync } = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rigwatch-redis-late-'));
  const pidfile = path.join(dir, 'redis.pid');
  execFileSync('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--daemonize',
    'yes',
    '--pidfile',
    pidfile,
  ]);
  await sleep(100);
  return {
    async dispose() {
      try {
        process.kill(Number(readFileSync(pidfile, 'utf8')), 'SIGTERM');
      } catch {
        // already gone
      }
      await sleep(100);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
