// A source taken out of the configuration resolves its alerts with "source removed" (issue 18, item 8)
// instead of leaving them firing until their data has been missing for staleAfter.

import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { AlertEvent, AlertInstance, SourceStatus } from '../../../protocol';
import { createAlertEngine } from '../../../collector/alerts';
import { silentLogger } from '../../../collector/log';
import { freePort } from '../../helpers/postgres-server';
import { startCollector, stopAllCollectors, type RunningCollector } from '../../helpers/collector-process';

const T0 = Date.UTC(2026, 10, 22, 6, 0, 0);
/** The body of GET /api/alerts. */
interface AlertsBody {
  active: AlertInstance[];
  history: AlertEvent[];
}

const status = (id: string, state: SourceStatus['state'] = 'ready'): SourceStatus => ({ id, kind: id.split('.')[0] as string, state });

describe('alerts of a source removed from the config', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rw-source-removed-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const config = { rules: [{ id: 'source-down', for: 0 }] };
  const REDIS_DOWN = 'source-down:collector.redis.cache.down_state';
  const PG_CONN = 'postgres-connections:postgres.main.connections_used_ratio';

  it('resolve with "source removed" across a restart; other sources’ alerts stay', async () => {
    const file = path.join(dir, 'alerts.json');
    const a = await createAlertEngine({ config, file, log: silentLogger });
    const series = { 'postgres.main.connections_used_ratio': 0.99, 'gpu.0.temperature_celsius': 40 };
    const before = [status('host'), status('gpu'), status('postgres.main'), status('redis.cache', 'down'), status('redis.queue', 'down')];
    for (let i = 0; i <= 600; i += 5) a.evaluate(T0 + i * 1000, series, before);
    const firing = a.active().map((x) => `${x.id} ${x.state}`);
    assert.ok(firing.includes(`${REDIS_DOWN} firing`), firing.join('\n'));
    assert.ok(firing.includes(`${PG_CONN} firing`), firing.join('\n'));
    await a.flush();

    // Restarted with redis.cache and postgres.main gone from the config.
    const b = await createAlertEngine({ config, file, log: silentLogger });
    const after = [status('host'), status('gpu'), status('redis.queue', 'down')];
    const ev = b.evaluate(T0 + 610_000, { 'gpu.0.temperature_celsius': 40 }, after);
    const resolved = ev.filter((x) => x.transition === 'resolved');
    assert.deepEqual(resolved.map((x) => x.alert.id).sort(), [PG_CONN, REDIS_DOWN].sort());
    for (const r of resolved) assert.match(r.alert.message, / — resolved: source removed$/, r.alert.message);
    assert.match(
      resolved.find((x) => x.alert.id === PG_CONN)?.alert.message ?? '',
      /^PostgreSQL main share of max_connections in use was 99 % — resolved: source removed$/,
    );
    assert.deepEqual(
      b.active().map((x) => x.id),
      ['source-down:collector.redis.queue.down_state'],
    );
    assert.ok(b.alertHistory().some((x) => x.transition === 'resolved' && x.alert.id === REDIS_DOWN));
  });

  it('an empty source list (an engine fed no statuses) says nothing about the config', async () => {
    const file = path.join(dir, 'alerts.json');
    const a = await createAlertEngine({ config, file, log: silentLogger });
    a.evaluate(T0, {}, [status('host'), status('redis.cache', 'down')]);
    a.evaluate(T0 + 1000, {}, [status('host'), status('redis.cache', 'down')]);
    assert.equal(a.active().length, 1);
    const ev = a.evaluate(T0 + 2000, {}, []);
    assert.ok(
      ev.every((x) => !x.alert.message.includes('source removed')),
      ev.map((x) => x.alert.message).join('\n'),
    );
  });
});

describe('alerts of a source removed from the config, end to end (real collector restarted with a new config)', function () {
  this.timeout(90_000);
  let c: RunningCollector | undefined;
  afterEach(async () => {
    await c?.stop();
    c = undefined;
  });
  after(stopAllCollectors);

  /** Polls /api/alerts until `pred` holds (a socket opened after a tick would miss its broadcast). */
  async function pollAlerts(run: RunningCollector, pred: (b: AlertsBody) => boolean, what: string): Promise<AlertsBody> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const body = (await (await run.get('/api/alerts')).json()) as AlertsBody;
      if (pred(body)) return body;
      if (Date.now() > deadline) throw new Error(`${what} within 30 s; alerts: ${JSON.stringify(body.history.map((e) => `${e.alert.id} ${e.transition}`))}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('the removed source’s firing alert is resolved with "source removed" and no longer active', async () => {
    const port = await freePort();
    const dataDir = await mkdtemp(path.join(tmpdir(), 'rw-source-removed-e2e-'));
    try {
      const base = {
        gpu: false,
        docker: false,
        postgres: false,
        models: false,
        alerts: { rules: [{ id: 'source-down', for: 0 }], disable: ['host-cpu', 'host-memory', 'host-disk'] },
      };
      const id = 'source-down:collector.redis.cache.down_state';
      c = await startCollector({ config: { ...base, redis: [{ name: 'cache', url: `redis://127.0.0.1:${port}` }] }, dataDir });
      await pollAlerts(c, (b) => b.active.some((a) => a.id === id && a.state === 'firing'), 'redis.cache down firing');
      await c.stop();

      // Restarted without the source: its first tick sees the new source list and resolves.
      c = await startCollector({ config: { ...base, redis: false }, dataDir });
      const body = await pollAlerts(c, (b) => b.history.some((e) => e.alert.id === id && e.transition === 'resolved'), 'the resolved event');
      const resolved = body.history.find((e) => e.alert.id === id && e.transition === 'resolved');
      assert.match(resolved?.alert.message ?? '', /^Source redis\.cache is down: .* — resolved: source removed$/);
      assert.deepEqual(
        body.active.filter((a) => a.id === id),
        [],
      );
    } finally {
      await c?.stop();
      c = undefined;
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
