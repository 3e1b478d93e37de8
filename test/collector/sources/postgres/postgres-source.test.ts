// The PostgreSQL source against a real PostgreSQL 15 started by the test.

import { strict as assert } from 'node:assert';
import { Client } from 'pg';
import { createLogger, silentLogger } from '../../../../collector/log';
import { SourceError } from '../../../../collector/source';
import type { SeriesMap } from '../../../../protocol';
import type { PostgresDetails } from '../../../../protocol';
import { PostgresSource } from '../../../../collector/sources/postgres/postgres-source';
import type { PostgresInstanceConfig } from '../../../../collector/sources/postgres/config';
import { freePort, startPostgres, startPostgresReplica, type PostgresServer } from '../../../helpers/postgres-server';

const INTERVAL_MS = 1000;
const never = (): AbortSignal => new AbortController().signal;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('postgres source (real PostgreSQL 15)', function () {
  this.timeout(60_000);
  let server: PostgresServer;
  const open: PostgresSource[] = [];
  const clients: Client[] = [];

  const source = (extra: Partial<PostgresInstanceConfig> = {}, log = silentLogger): PostgresSource => {
    const s = new PostgresSource(
      { name: 'main', url: server.url(), database: null, showQueryText: false, statementTimeoutMs: null, origin: 'postgres[0]', autoDetected: false, ...extra },
      { intervalMs: INTERVAL_MS, log },
    );
    open.push(s);
    return s;
  };
  const connect = async (opts: { database?: string } = {}): Promise<Client> => {
    const c = new Client({ connectionString: server.url(opts), application_name: 'rigwatch-test' });
    c.on('error', () => {});
    clients.push(c);
    await c.connect();
    return c;
  };
  /** Closes a load connection and lets its backend flush its statistics (a backend flushes at exit). */
  const finish = async (c: Client): Promise<void> => {
    await c.end();
    clients.splice(clients.indexOf(c), 1);
    await sleep(150);
  };

  before(async () => {
    server = await startPostgres();
    await server.query('CREATE TABLE items (id int primary key, payload text)');
    await server.query("INSERT INTO items SELECT g, repeat('x', 100) FROM generate_series(1, 2000) g");
    await server.query('CREATE DATABASE other');
    await server.query("CREATE ROLE rw LOGIN PASSWORD 'Correct-Horse-42'");
    await sleep(200);
  });
  after(async () => {
    await server?.dispose();
    assert.equal(server?.pid() ?? null, null, 'postgres left running');
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    for (const c of clients.splice(0)) await c.end().catch(() => {});
    if (server.pid() === null) await server.start(); // a failed stop/start test must not break the rest
  });

  it('probes ready, names itself rigwatch, and its connection counts match pg_stat_activity', async () => {
    const src = source();
    const probe = await src.probe(never());
    assert.equal(probe.status, 'ready');
    assert.match(probe.status === 'ready' ? (probe.description ?? '') : '', /^PostgreSQL 15\.\d+.* at 127\.0\.0\.1:\d+\/postgres \(primary\)$/);
    const admin = await connect();
    const idle = [await connect(), await connect(), await connect()];
    const inTx = await connect();
    await inTx.query('BEGIN');
    await inTx.query('SELECT 1');
    const { series, details } = await src.sample(never());
    const [act] = (
      await admin.query(`SELECT count(*)::int AS total,
        count(*) FILTER (WHERE state LIKE 'idle in transaction%')::int AS in_tx,
        count(*) FILTER (WHERE application_name = 'rigwatch')::int AS ours
      FROM pg_stat_activity WHERE backend_type = 'client backend'`)
    ).rows;
    const [max] = (await admin.query('SHOW max_connections')).rows;
    assert.equal(series['postgres.main.connections_total_count'], act.total);
    assert.equal(series['postgres.main.connections_idle_in_transaction_count'], act.in_tx);
    assert.equal(act.ours, 1, 'one connection, named rigwatch');
    assert.ok((series['postgres.main.connections_idle_count'] ?? 0) >= idle.length);
    assert.equal(series['postgres.main.max_connections_count'], Number(max.max_connections));
    assert.equal(series['postgres.main.connections_used_ratio'], act.total / Number(max.max_connections));
    assert.equal(series['postgres.main.xact_per_second'], null, 'first tick has no rates');
    assert.equal(series['postgres.main.cache_hit_ratio'], null);
    assert.equal(series['postgres.main.replication_lag_seconds'], null, 'a primary has no replication lag');
    assert.ok((series['postgres.main.query_latency_seconds'] ?? -1) >= 0);
    assert.ok((series['postgres.main.connect_latency_seconds'] ?? -1) > 0);
    const [size] = (await admin.query(`SELECT sum(pg_database_size(oid))::bigint AS size FROM pg_database WHERE datallowconn`)).rows;
    assert.ok(Math.abs((series['postgres.main.database_size_bytes'] ?? 0) - Number(size.size)) <= Number(size.size) * 0.01, 'size matches the server');
    const d = details as PostgresDetails;
    assert.equal(d.isReplica, false);
    assert.match(d.serverVersion ?? '', /^15\./);
    await inTx.query('ROLLBACK');
  });

  it('computes transactions/s and rows/s from pg_stat_database deltas', async () => {
    const src = source();
    await src.probe(never());
    const load = await connect();
    // The source's interval runs between its two stats queries; bracket it from outside.
    const a0 = performance.now();
    await src.sample(never());
    const a1 = performance.now();
    const N = 400;
    for (let i = 0; i < N; i++) await load.query('SELECT 1');
    await load.query('INSERT INTO items SELECT g, NULL FROM generate_series(100001, 101000) g');
    await load.query('UPDATE items SET payload = NULL WHERE id BETWEEN 100001 AND 100250');
    await load.query('DELETE FROM items WHERE id BETWEEN 100251 AND 100350');
    await finish(load);
    const b0 = performance.now();
    const { series } = await src.sample(never());
    const b1 = performance.now();
    const dtMin = (b0 - a1) / 1000;
    const dtMax = (b1 - a0) / 1000;
    /** Asserts that `rate` × (the source's interval) can equal a count in [lo, hi]. */
    const countIn = (name: string, lo: number, hi: number): void => {
      const rate = series[name] ?? NaN;
      assert.ok(
        rate * dtMax >= lo && rate * dtMin <= hi,
        `${name}: ${rate.toFixed(1)}/s over ${dtMin.toFixed(3)}–${dtMax.toFixed(3)} s is ${(rate * dtMin).toFixed(1)}–${(rate * dtMax).toFixed(1)}, expected ${lo}–${hi}`,
      );
    };
    // N SELECTs + 3 writes on the load connection; our own queries and connection setup add a few.
    countIn('postgres.main.xact_per_second', N + 3, N + 3 + 15);
    countIn('postgres.main.rows_inserted_per_second', 1000, 1005);
    countIn('postgres.main.rows_updated_per_second', 250, 255);
    countIn('postgres.main.rows_deleted_per_second', 100, 105);
    assert.ok((series['postgres.main.rows_returned_per_second'] ?? 0) > 0);
    const hit = series['postgres.main.cache_hit_ratio'];
    assert.ok(hit !== null && hit > 0 && hit <= 1, `cache hit ratio ${hit}`);
    assert.equal(series['postgres.main.deadlocks_per_second'], 0);
    await server.query('DELETE FROM items WHERE id > 100000');
  });

  it('scopes rates to one database when `database` is set', async () => {
    const all = source({ name: 'all' });
    const scoped = source({ name: 'scoped', database: 'postgres' });
    await all.probe(never());
    await scoped.probe(never());
    await all.sample(never());
    await scoped.sample(never());
    const load = await connect({ database: 'other' });
    for (let i = 0; i < 300; i++) await load.query('SELECT 1');
    await finish(load);
    const a = (await all.sample(never())).series['postgres.all.xact_per_second'] ?? NaN;
    const s = (await scoped.sample(never())).series['postgres.scoped.xact_per_second'] ?? NaN;
    assert.ok(a > 3 * s, `server-wide ${a} should include the 300 transactions in "other"; scoped to postgres ${s} should not`);
    const sizeAll = (await all.sample(never())).series['postgres.all.database_size_bytes'] ?? 0;
    const sizeOne = (await scoped.sample(never())).series['postgres.scoped.database_size_bytes'] ?? 0;
    const [one] = await server.query<{ size: string }>("SELECT pg_database_size('postgres')::bigint AS size");
    assert.equal(sizeOne, Number(one.size));
    assert.ok(sizeAll > sizeOne);
  });

  it('counts temp bytes and deadlocks per second as the server does', async () => {
    const src = source();
    await src.probe(never());
    const before = await server.query<{ temp: string; dl: string }>(
      'SELECT sum(temp_bytes)::bigint AS temp, sum(deadlocks)::bigint AS dl FROM pg_stat_database',
    );
    const t0 = performance.now();
    await src.sample(never());
    const a = await connect();
    const b = await connect();
    await a.query("SET work_mem = '64kB'");
    await a.query('SELECT count(*) FROM (SELECT g FROM generate_series(1, 100000) g ORDER BY g DESC) s');
    for (const c of [a, b]) await c.query("SET deadlock_timeout = '50ms'");
    await a.query('BEGIN');
    await b.query('BEGIN');
    await a.query('UPDATE items SET payload = payload WHERE id = 1');
    await b.query('UPDATE items SET payload = payload WHERE id = 2');
    const results = await Promise.allSettled([
      a.query('UPDATE items SET payload = payload WHERE id = 2'),
      b.query('UPDATE items SET payload = payload WHERE id = 1'),
    ]);
    assert.equal(results.filter((r) => r.status === 'rejected').length, 1, 'exactly one side is the deadlock victim');
    await a.query('ROLLBACK');
    await b.query('ROLLBACK');
    await finish(a);
    await finish(b);
    const { series } = await src.sample(never());
    const dt = (performance.now() - t0) / 1000;
    const after = await server.query<{ temp: string; dl: string }>(
      'SELECT sum(temp_bytes)::bigint AS temp, sum(deadlocks)::bigint AS dl FROM pg_stat_database',
    );
    const tempDelta = Number(after[0].temp) - Number(before[0].temp);
    assert.ok(tempDelta > 0, 'the sort must spill to a temp file');
    assert.equal(Number(after[0].dl) - Number(before[0].dl), 1);
    // Exactly one deadlock happened in the interval, so 1 / deadlocks_per_second is the source's own
    // interval: temp bytes over that interval must be exactly what the server counted.
    const deadlocksPerSecond = series['postgres.main.deadlocks_per_second'] ?? NaN;
    const interval = 1 / deadlocksPerSecond;
    assert.ok(interval > 0 && interval <= dt, `deadlocks/s ${deadlocksPerSecond} does not fit one deadlock in ${dt} s`);
    assert.ok(Math.abs((series['postgres.main.temp_bytes_per_second'] ?? 0) * interval - tempDelta) < 1, 'temp bytes over the interval');
  });

  it('reports the longest running query (text only when allowed) and blocked backends', async () => {
    const quiet = source({ name: 'quiet' });
    const chatty = source({ name: 'chatty', showQueryText: true });
    await quiet.probe(never());
    await chatty.probe(never());
    const sleeper = await connect();
    const holder = await connect();
    const waiter = await connect();
    const sleeping = sleeper.query('SELECT pg_sleep(2.5) /* rigwatch-longest */');
    await sleep(300); // so the sleeper is surely the oldest active query
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE items IN ACCESS EXCLUSIVE MODE');
    const waiting = waiter.query('SELECT count(*) FROM items');
    await sleep(900);
    const q = await quiet.sample(never());
    const c = await chatty.sample(never());
    const age = q.series['postgres.quiet.longest_query_seconds'] ?? 0;
    assert.ok(age >= 1 && age < 2.5, `longest query age ${age}`);
    assert.equal((q.details as PostgresDetails).longestQuery, null, 'no query text unless showQueryText');
    assert.match((c.details as PostgresDetails).longestQuery ?? '', /pg_sleep\(2\.5\) \/\* rigwatch-longest \*\//);
    assert.equal(q.series['postgres.quiet.blocked_count'], 1);
    await holder.query('COMMIT');
    await waiting;
    await sleeping;
    const calm = await quiet.sample(never());
    assert.equal(calm.series['postgres.quiet.blocked_count'], 0);
    assert.equal(calm.series['postgres.quiet.longest_query_seconds'], 0, 'no active query other than ours');
  });

  it('reports replication lag on a streaming replica (0 when replayed, growing while replay is paused)', async () => {
    const replica = await startPostgresReplica(server);
    try {
      const until = async (what: string, fn: () => Promise<boolean>): Promise<void> => {
        const deadline = Date.now() + 15_000;
        while (!(await fn())) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
          await sleep(100);
        }
      };
      await until(
        'streaming',
        async () => (await replica.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_wal_receiver WHERE status = 'streaming'"))[0].n === 1,
      );
      await server.query('CREATE TABLE IF NOT EXISTS repl_probe (t timestamptz)');
      await server.query('INSERT INTO repl_probe VALUES (now())');
      await until('replayed', async () => (await replica.query<{ n: number }>('SELECT count(*)::int AS n FROM repl_probe').catch(() => [{ n: 0 }]))[0].n === 1);
      const src = source({ name: 'replica', url: replica.url() });
      const probe = await src.probe(never());
      assert.match(probe.status === 'ready' ? (probe.description ?? '') : '', /\(replica\)$/);
      const caughtUp = await src.sample(never());
      assert.equal((caughtUp.details as PostgresDetails).isReplica, true);
      assert.equal(caughtUp.series['postgres.replica.replication_lag_seconds'], 0, 'everything received is replayed');
      await replica.query('SELECT pg_wal_replay_pause()');
      await server.query('INSERT INTO repl_probe VALUES (now())');
      await until(
        'received but not replayed',
        async () => (await replica.query<{ behind: boolean }>('SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn() AS behind'))[0].behind,
      );
      await sleep(1200);
      const behind = (await src.sample(never())).series['postgres.replica.replication_lag_seconds'] ?? 0;
      const [truth] = await replica.query<{ lag: number }>('SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS lag');
      assert.ok(behind >= 1.2 && behind <= truth.lag + 0.05, `lag ${behind} s (server says ${truth.lag} s now)`);
      await replica.query('SELECT pg_wal_replay_resume()');
    } finally {
      for (const s of open.splice(0)) await s.close();
      await replica.dispose();
    }
    assert.equal(replica.pid(), null, 'replica left running');
  });

  it('gives up on a slow server at statement_timeout without hanging, and keeps working after', async () => {
    const src = source({ statementTimeoutMs: 300 });
    await src.probe(never());
    await src.sample(never());
    const locker = await connect();
    await locker.query('BEGIN');
    // The statistics views read pg_database: an exclusive lock on it makes every stats query wait.
    await locker.query('LOCK TABLE pg_database IN ACCESS EXCLUSIVE MODE');
    let released = false;
    const err = await src.sample(never()).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof SourceError, String(err));
    assert.equal(err.retry, true);
    assert.match(err.message, /statement_timeout \(300 ms\)/);
    assert.equal(released, false);
    await locker.query('COMMIT');
    released = true;
    const { series } = await src.sample(never());
    assert.equal(series['postgres.main.up_state'], 1);
  });

  it('honours the tick loop abort even when the server is stuck', async () => {
    const src = source({ statementTimeoutMs: 10_000 });
    await src.probe(never());
    const locker = await connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE pg_database IN ACCESS EXCLUSIVE MODE');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    let lockHeld = true;
    const err = await src.sample(ac.signal).then(
      () => null,
      (e: unknown) => e,
    );
    const stillHeld = lockHeld;
    await locker.query('COMMIT');
    lockHeld = false;
    assert.ok(err instanceof SourceError && err.retry, String(err));
    assert.equal(stillHeld, true, 'the sample returned while the lock was held, i.e. at the abort');
    // The next sample does not reconnect by itself (the loop's re-probe does, with backoff) …
    const lost = await src.sample(never()).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(lost instanceof SourceError && lost.retry, String(lost));
    assert.match(lost.message, /connection lost \(no reply before the sample timeout\)/);
    // … and after a probe it works again.
    assert.equal((await src.probe(never())).status, 'ready');
    assert.equal((await src.sample(never())).series['postgres.main.up_state'], 1);
  });

  it('goes down when the server stops and recovers when it returns, without a new source', async () => {
    const src = source();
    assert.equal((await src.probe(never())).status, 'ready');
    await src.sample(never());
    await server.stop();
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
    // A configured instance that cannot be reached is down (the probe throws), to be retried with backoff.
    const down = await src.probe(never()).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(down instanceof SourceError && down.retry, String(down));
    assert.match(down.message, /cannot connect to PostgreSQL at 127\.0\.0\.1:\d+\/postgres: connection refused/);
    await server.start();
    assert.equal((await src.probe(never())).status, 'ready');
    const { series } = await src.sample(never());
    assert.equal(series['postgres.main.up_state'], 1);
    assert.equal(series['postgres.main.xact_per_second'], null, 'rates restart after a reconnect');
    assert.notEqual((await src.sample(never())).series['postgres.main.xact_per_second'], null);
  });

  it('reports a wrong password without the password, and does not retry', async () => {
    const wrong = 'Wr0ng-Pa$$word/with@odd';
    const lines: string[] = [];
    const src = source(
      { url: server.url({ user: 'rw', password: wrong }) },
      createLogger('debug', (l) => lines.push(l)),
    );
    const probe = await src.probe(never()).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(probe instanceof SourceError, String(probe));
    assert.equal(probe.retry, false);
    assert.match(probe.message, /rejected the login \(password authentication failed for user "rw"\) — fix postgres\[0\]\.url/);
    const err = await src.sample(never()).then(
      () => null,
      (e: unknown) => e as SourceError,
    );
    assert.ok(err instanceof SourceError);
    assert.equal(err.retry, false);
    for (const text of [probe.message, err.message, ...lines]) {
      assert.ok(!text.includes(wrong) && !text.includes(encodeURIComponent(wrong)), `password leaked: ${text}`);
    }
    const missing = source({ name: 'nopw', url: server.url({ user: 'rw' }) });
    const p2 = await missing.probe(never()).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(p2 instanceof SourceError && !p2.retry, String(p2));
    assert.match(p2.message, /requires a password/);
    // The auto-detected default that wants a password is merely unavailable (nobody asked for it).
    const auto = source({ name: 'local', url: server.url({ user: 'rw' }), autoDetected: true, origin: 'auto-detected' });
    const quiet = await auto.probe(never());
    assert.equal(quiet.status, 'unavailable');
    assert.equal(quiet.status === 'unavailable' && quiet.retry, false);
    assert.match(quiet.status === 'unavailable' ? quiet.reason : '', /add a "postgres" entry with the credentials to the config, or set DATABASE_URL/);
  });

  it('works with the right password, which appears nowhere in details or series names', async () => {
    const pw = 'Correct-Horse-42';
    const src = source({ url: server.url({ user: 'rw', password: pw }) });
    assert.equal((await src.probe(never())).status, 'ready');
    const { series, details } = await src.sample(never());
    const json = JSON.stringify({ series, details });
    assert.ok(!json.includes(pw), json);
    assert.equal((details as PostgresDetails).target, `postgres://rw:***@127.0.0.1:${server.port}/postgres`);
  });

  it('closes its connection', async () => {
    const src = source();
    await src.probe(never());
    await src.sample(never());
    await src.close();
    await src.close();
    await sleep(100);
    const rows = await server.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'rigwatch'");
    assert.equal(rows[0].n, 0);
  });

  it('treats an absent auto-detected instance quietly and does not look again for a while', async () => {
    const port = await freePort();
    const lines: string[] = [];
    const src = source(
      { name: 'local', url: `postgres://postgres@127.0.0.1:${port}/postgres`, autoDetected: true, origin: 'auto-detected' },
      createLogger('debug', (l) => lines.push(l)),
    );
    const first = await src.probe(never());
    assert.equal(first.status, 'unavailable');
    assert.equal(first.status === 'unavailable' && first.retry, true);
    assert.match(first.status === 'unavailable' ? first.reason : '', /no PostgreSQL at 127\.0\.0\.1:\d+\/postgres \(auto-detected/);
    assert.ok(!lines.some((l) => / (warn|error) /.test(l)), lines.join('\n'));
    // Same port now answering (a TCP listener): the cached answer is used, no new connection attempt.
    const net = await import('node:net');
    let connections = 0;
    const listener = net.createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => listener.listen(port, '127.0.0.1', () => r()));
    try {
      const second = await src.probe(never());
      assert.equal(second.status, 'unavailable');
      assert.equal(connections, 0, 'no connection attempt within the long retry');
    } finally {
      await new Promise((r) => listener.close(r));
    }
  });
});

/** Keeps the type import used for readers of SeriesMap-based helpers. */
export type { SeriesMap };
