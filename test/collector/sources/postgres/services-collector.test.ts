// End to end: the real collector process (dist/collector.js) watching a real PostgreSQL 15 and a
// real Redis 7 started by the test: a slow server never delays the other's samples, stopping a
// server marks it down within two ticks and restarting it recovers without restarting the
// collector, and a wrong password appears nowhere (status, logs, HTTP, files on disk).

import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { seriesName, type SampleMessage, type ServerMessage, type StatusMessage } from '../../../../protocol';
import { startCollector, type RunningCollector, type WsClient } from '../../../helpers/collector-process';
import { startPostgres, type PostgresServer } from '../../../helpers/postgres-server';
import { startRedis, type RedisServer } from '../../../helpers/redis-server';

const INTERVAL_S = 0.5;
const WRONG_PASSWORD = 'N0t-the-Pa55word!';
const isSample = (m: ServerMessage): m is SampleMessage => m.type === 'sample';
/** Largest gap between consecutive samples, ms: a source holding up the tick would stretch it. */
const maxGapMs = (samples: SampleMessage[]): number => Math.max(0, ...samples.slice(1).map((m, i) => m.t - samples[i].t));

/** The tick loop's own up/down series for a source id (`collector.<id>.up_state`, id made series-safe). */
const upOf = (id: string): string => seriesName('collector', id, 'up_state');
const PG_UP = upOf('postgres.main');
const REDIS_UP = upOf('redis.main');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('postgres and redis sources in the running collector', function () {
  this.timeout(120_000);
  let pg: PostgresServer | undefined;
  let redis: RedisServer | undefined;
  let collector: RunningCollector | undefined;
  let ws: WsClient | undefined;
  let dataDir = '';

  /** Samples that arrive while `during` runs. */
  async function samplesDuring(during: () => Promise<void>): Promise<SampleMessage[]> {
    const c = ws as WsClient;
    const from = c.messages.length;
    await during();
    return c.messages.slice(from).filter(isSample);
  }

  before(async () => {
    [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
    await pg.query("CREATE ROLE rw LOGIN PASSWORD 'the-right-one'");
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'rigwatch-services-'));
    collector = await startCollector({
      interval: INTERVAL_S,
      dataDir,
      config: {
        host: false,
        gpu: false,
        docker: false,
        models: false,
        postgres: [
          { name: 'main', url: pg.url() },
          { name: 'badpw', url: pg.url({ user: 'rw', password: WRONG_PASSWORD }) },
        ],
        redis: [{ name: 'main', url: redis.url() }],
      },
    });
    ws = await collector.ws();
    await ws.waitFor((m) => isSample(m) && m.series[PG_UP] === 1 && m.series[REDIS_UP] === 1, 20_000, 'both sources up');
  });

  after(async () => {
    await ws?.close();
    await collector?.stop();
    await Promise.all([pg?.dispose(), redis?.dispose()]);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('streams both services with their series and details', async () => {
    const m = await (ws as WsClient).waitFor<SampleMessage>(
      (x) => isSample(x) && typeof x.series['postgres.main.xact_per_second'] === 'number' && typeof x.series['redis.main.ops_per_second'] === 'number',
      10_000,
      'a sample with rates from both',
    );
    assert.equal(m.series['postgres.main.up_state'], 1);
    assert.equal(m.series['redis.main.up_state'], 1);
    assert.equal(m.details['postgres.main']?.kind, 'postgres');
    assert.equal(m.details['redis.main']?.kind, 'redis');
  });

  it('reports the wrong password as down, not retried, and without the password anywhere', async () => {
    const c = ws as WsClient;
    // It may have gone down before this client connected (then the hello carries it) or after.
    const isBadDown = (m: ServerMessage): boolean =>
      (m.type === 'status' || m.type === 'hello') && m.sources.some((s) => s.id === 'postgres.badpw' && s.state === 'down');
    const status = c.messages.find(isBadDown) ?? (await c.waitFor(isBadDown, 10_000, 'postgres.badpw down'));
    assert.ok(status.type === 'status' || status.type === 'hello');
    const bad = status.sources.find((s) => s.id === 'postgres.badpw');
    assert.ok(bad, 'postgres.badpw has a status');
    assert.match(bad.reason ?? '', /rejected the login .* fix postgres\[1\]\.url; not retrying/);
    assert.equal(bad.nextProbe, undefined, 'no re-probe scheduled');
    const current = await (await (collector as RunningCollector).get('/api/current')).text();
    const texts = [JSON.stringify(c.messages), current, (collector as RunningCollector).stderr(), (collector as RunningCollector).stdout()];
    for (const t of texts) assert.ok(!t.includes(WRONG_PASSWORD) && !t.includes(encodeURIComponent(WRONG_PASSWORD)), 'password leaked');
  });

  it('keeps sampling Redis on time while PostgreSQL is stuck', async () => {
    const locker = new Client({ connectionString: (pg as PostgresServer).url() });
    await locker.connect();
    try {
      const samples = await samplesDuring(async () => {
        await locker.query('BEGIN');
        // The statistics views read pg_database: an exclusive lock makes every stats query wait.
        await locker.query('LOCK TABLE pg_database IN ACCESS EXCLUSIVE MODE');
        await sleep(3000);
        await locker.query('COMMIT');
      });
      const redisUp = samples.filter((m) => m.series[REDIS_UP] === 1 && typeof m.series['redis.main.ping_latency_seconds'] === 'number');
      const pgDown = samples.filter((m) => m.series[PG_UP] === 0);
      assert.ok(pgDown.length >= 1, 'postgres missed ticks while stuck');
      // 3 s at 0.5 s per tick is 6 ticks; a loop waiting for postgres would manage at most ~3.
      assert.ok(redisUp.length >= 5, `only ${redisUp.length} of ${samples.length} samples had Redis while PostgreSQL was stuck`);
      // A tick waiting for the stuck server would leave a ~3 s gap; 3 intervals leave room for a loaded machine
      // (the tick's own deadline is 0.9 of an interval, so a normal worst case is just under 2).
      assert.ok(maxGapMs(samples) <= 3 * INTERVAL_S * 1000, `a tick was held up: gap ${maxGapMs(samples)} ms`);
    } finally {
      await locker.end().catch(() => {});
    }
    await (ws as WsClient).waitFor((m) => isSample(m) && m.series[PG_UP] === 1, 15_000, 'postgres back after the lock');
  });

  it('keeps sampling PostgreSQL on time while Redis is stuck (DEBUG SLEEP)', async () => {
    const samples = await samplesDuring(async () => {
      await (redis as RedisServer).cli('DEBUG', 'SLEEP', '3');
    });
    const pgUp = samples.filter((m) => m.series[PG_UP] === 1 && typeof m.series['postgres.main.query_latency_seconds'] === 'number');
    const redisDown = samples.filter((m) => m.series[REDIS_UP] === 0);
    assert.ok(redisDown.length >= 1, 'redis missed ticks while asleep');
    assert.ok(pgUp.length >= 5, `only ${pgUp.length} of ${samples.length} samples had PostgreSQL while Redis slept`);
    assert.ok(maxGapMs(samples) <= 3 * INTERVAL_S * 1000, `a tick was held up: gap ${maxGapMs(samples)} ms`);
    await (ws as WsClient).waitFor((m) => isSample(m) && m.series[REDIS_UP] === 1, 15_000, 'redis back after the sleep');
  });

  for (const kind of ['postgres', 'redis'] as const) {
    it(`marks ${kind} down within two ticks when it stops, and recovers when it returns`, async () => {
      const c = ws as WsClient;
      const server = kind === 'postgres' ? (pg as PostgresServer) : (redis as RedisServer);
      const up = upOf(`${kind}.main`);
      await c.waitFor((m) => isSample(m) && m.series[up] === 1, 10_000, `${kind} up`);
      await server.stop();
      const from = c.messages.length;
      const down = await c.waitFor<SampleMessage>((m) => isSample(m) && m.series[up] === 0, 10_000, `${kind} down`);
      const ticksUntilDown = c.messages.slice(from, c.messages.indexOf(down) + 1).filter(isSample).length;
      assert.ok(ticksUntilDown <= 2, `${kind} took ${ticksUntilDown} ticks to go down`);
      const status = await c.waitFor<StatusMessage>(
        (m) => m.type === 'status' && m.sources.some((s) => s.id === `${kind}.main` && s.state === 'down'),
        10_000,
        `${kind}.main status down`,
      );
      assert.match(status.sources.find((s) => s.id === `${kind}.main`)?.reason ?? '', /127\.0\.0\.1:\d+/);
      await server.start();
      const back = await c.waitFor<SampleMessage>((m) => isSample(m) && m.series[up] === 1 && m.series[`${kind}.main.up_state`] === 1, 20_000, `${kind} back`);
      assert.ok(back);
      assert.equal((collector as RunningCollector).proc.exitCode, null, 'the same collector process');
    });
  }

  it('writes no password to its data directory', async () => {
    await (collector as RunningCollector).stop();
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const p = path.join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(dataDir);
    assert.ok(files.length > 0, 'the collector wrote its state');
    // test-config.json is the user's own config file (the harness writes it there), not collector output.
    for (const f of files.filter((p) => path.basename(p) !== 'test-config.json')) {
      const text = readFileSync(f).toString('latin1');
      assert.ok(!text.includes(WRONG_PASSWORD), `password found in ${f}`);
    }
  });
});
