// PrometheusConnection's model building against a scripted Prometheus HTTP API (answers shaped like
// Prometheus 2.x `/api/v1/query` and `/api/v1/query_range`): alert transitions (firing → resolved),
// hosts appearing/disappearing, duplicate hostnames, history pattern expansion and `since`, and the bearer
// token. The real-Prometheus test is test/e2e/remote-extension-prometheus.test.ts.

import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AlertMessage, HistoryReplyMessage, ServerMessage } from '../../protocol/messages';
import { PrometheusConnection } from '../../extension/connection/prometheus-connection';

type Vec = { metric: Record<string, string>; value: number }[];

/** What the fake Prometheus answers, per instant query. */
interface World {
  info: Vec;
  up: Vec;
  util: Vec;
  used: Vec;
  total: Vec;
  alerts: Vec;
  forState: Vec;
  /** Answer every query with Prometheus' error shape (HTTP 503). */
  fail?: string;
}

const T = 1_700_000_000;

function startFake(world: () => World): Promise<{ url: string; auth: string[]; ranges: URLSearchParams[]; close(): Promise<void> }> {
  const auth: string[] = [];
  const ranges: URLSearchParams[] = [];
  const vector = (v: Vec): unknown => ({
    status: 'success',
    data: { resultType: 'vector', result: v.map((s) => ({ metric: s.metric, value: [T, String(s.value)] })) },
  });
  const server = http.createServer((req, res) => {
    const u = new URL(req.url!, 'http://x');
    auth.push(req.headers.authorization ?? '');
    const q = u.searchParams.get('query') ?? '';
    const w = world();
    let body: unknown;
    if (w.fail) {
      res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'error', errorType: 'unavailable', error: w.fail }));
      return;
    }
    if (u.pathname === '/prom/api/v1/query') {
      const table: Record<string, Vec> = {
        rigwatch_build_info: w.info,
        up: w.up,
        rigwatch_gpu_utilization_ratio: w.util,
        rigwatch_gpu_memory_used_bytes: w.used,
        rigwatch_gpu_memory_total_bytes: w.total,
        'rigwatch_alerts{alertstate="firing"}': w.alerts,
        rigwatch_alerts_for_state: w.forState,
      };
      body = q in table ? vector(table[q]) : { status: 'error', errorType: 'bad_data', error: `unexpected query ${q}` };
    } else if (u.pathname === '/prom/api/v1/query_range') {
      ranges.push(u.searchParams);
      const start = Number(u.searchParams.get('start'));
      const step = Number(u.searchParams.get('step'));
      // Three points: start, start+step, start+2·step, value = the step index.
      body = {
        status: 'success',
        data: { resultType: 'matrix', result: [{ metric: { __name__: q.split('{')[0] }, values: [0, 1, 2].map((i) => [start + i * step, String(i)]) }] },
      };
    } else {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      resolve({ url: `http://127.0.0.1:${port}/prom/`, auth, ranges, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

const host = (instance: string, hostname: string): Vec[number] => ({
  metric: { __name__: 'rigwatch_build_info', instance, job: 'rigwatch', hostname, version: '0.1.0' },
  value: 1,
});
const g = (instance: string, gpu: string, value: number): Vec[number] => ({ metric: { instance, gpu }, value });

describe('PrometheusConnection model (scripted Prometheus API)', () => {
  let fake: Awaited<ReturnType<typeof startFake>>;
  let world: World;
  const conns: PrometheusConnection[] = [];
  beforeEach(async () => {
    world = {
      info: [host('a:9465', 'gpu-box'), host('b:9465', 'gpu-box'), host('c:9465', 'infer')],
      up: [
        { metric: { instance: 'a:9465' }, value: 1 },
        { metric: { instance: 'b:9465' }, value: 1 },
        { metric: { instance: 'c:9465' }, value: 1 },
      ],
      util: [g('a:9465', '0', 0.5), g('c:9465', '1', 0.9), g('c:9465', '0', 0.1)],
      used: [g('a:9465', '0', 1e9)],
      total: [g('a:9465', '0', 8e10)],
      alerts: [
        { metric: { instance: 'c:9465', alertname: 'gpu-hot', severity: 'warning', series: 'gpu.1.utilization_ratio', alertstate: 'firing' }, value: 1 },
      ],
      forState: [{ metric: { instance: 'c:9465', alertname: 'gpu-hot', severity: 'warning', series: 'gpu.1.utilization_ratio' }, value: T - 60 }],
    };
    fake = await startFake(() => world);
  });
  afterEach(async () => {
    for (const c of conns.splice(0)) c.dispose();
    await fake.close();
  });
  const open = async (): Promise<PrometheusConnection> => {
    const c = new PrometheusConnection({ url: fake.url, token: 's3cret', pollSeconds: 3600 });
    conns.push(c);
    await c.pollNow();
    return c;
  };

  it('one host connection per collector, GPUs sorted, duplicate hostnames told apart, the token sent', async () => {
    const c = await open();
    assert.equal(c.state, 'live');
    assert.equal(c.name, `Prometheus ${new URL(fake.url).host}`);
    assert.deepEqual(
      c
        .hosts()
        .map((h) => h.name)
        .sort(),
      ['gpu-box (a:9465) · Prometheus', 'gpu-box (b:9465) · Prometheus', 'infer · Prometheus'],
    );
    const hc = c.hosts().find((h) => h.instance === 'c:9465')!;
    assert.equal(hc.id, `prometheus:${fake.url.replace(/\/$/, '')}#c:9465`);
    assert.deepEqual(Object.keys(hc.model.latest!.series), [
      'gpu.0.utilization_ratio',
      'gpu.0.memory_used_bytes',
      'gpu.0.memory_total_bytes',
      'gpu.1.utilization_ratio',
      'gpu.1.memory_used_bytes',
      'gpu.1.memory_total_bytes',
    ]);
    assert.equal(hc.model.latest!.series['gpu.1.utilization_ratio'], 0.9);
    assert.equal(hc.model.latest!.series['gpu.1.memory_used_bytes'], null);
    assert.deepEqual(
      hc.model.sources.map((s) => [s.id, s.state, s.description]),
      [['gpu', 'ready', '2 GPUs via Prometheus']],
    );
    const hb = c.hosts().find((h) => h.instance === 'b:9465')!;
    assert.deepEqual(
      hb.model.sources.map((s) => [s.state, s.reason]),
      [['unavailable', 'Prometheus has no GPU series for this collector']],
    );
    const alert = hc.model.alertList()[0];
    assert.deepEqual(
      [alert.id, alert.state, alert.severity, alert.value, alert.activeSince],
      ['gpu-hot:gpu.1.utilization_ratio', 'firing', 'warning', 0.9, (T - 60) * 1000],
    );
    assert.ok(fake.auth.length >= 7 && fake.auth.every((a) => a === 'Bearer s3cret'));
  });

  it('alerts resolve, hosts whose target is down stay failed, removed targets disappear', async () => {
    const c = await open();
    const hc = c.hosts().find((h) => h.instance === 'c:9465')!;
    const got: ServerMessage[] = [];
    hc.onDidReceive((m) => got.push(m));
    let hostLists = 0;
    c.onDidChangeHosts(() => hostLists++);
    world.alerts = [];
    world.forState = [];
    // b's target fails: Prometheus keeps `up 0` and drops its series; a is removed from the config.
    world.info = [host('c:9465', 'infer')];
    world.up = [
      { metric: { instance: 'b:9465' }, value: 0 },
      { metric: { instance: 'c:9465' }, value: 1 },
    ];
    await c.pollNow();
    const ev = got.find((m): m is AlertMessage => m.type === 'alert')!;
    assert.deepEqual(
      ev.events.map((e) => [e.transition, e.alert.id, e.alert.state, e.notify]),
      [['resolved', 'gpu-hot:gpu.1.utilization_ratio', 'resolved', false]],
    );
    assert.equal(hc.model.alertList()[0].state, 'resolved');
    assert.deepEqual(
      c
        .hosts()
        .map((h) => h.instance)
        .sort(),
      ['b:9465', 'c:9465'],
    );
    assert.equal(hostLists, 1);
    const hb = c.hosts().find((h) => h.instance === 'b:9465')!;
    assert.equal(hb.state, 'failed');
    assert.equal(hb.reason, 'Prometheus cannot scrape b:9465 (up = 0)');
  });

  it('answers history: patterns expanded against known series, step fitted, `since` honoured; other requests refused', async () => {
    const c = await open();
    const ha = c.hosts().find((h) => h.instance === 'a:9465')!;
    const r = (await ha.request({
      type: 'history',
      series: ['gpu.*.utilization_ratio', 'host.cpu_busy_ratio'],
      from: T * 1000 - 600_000,
      to: T * 1000,
      points: 100,
    })) as HistoryReplyMessage;
    assert.deepEqual(
      r.series.map((s) => s.name),
      ['gpu.0.utilization_ratio', 'host.cpu_busy_ratio'],
    );
    assert.equal(r.series[0].stepMs, 6000);
    assert.deepEqual(r.series[0].points[1], [T * 1000 - 600_000 + 6000, 1, 1, 1]);
    assert.equal(fake.ranges[0].get('query'), 'rigwatch_gpu_utilization_ratio{gpu="0",instance="a:9465"}');
    assert.equal(fake.ranges[0].get('step'), '6');
    const since = T * 1000 - 60_000;
    const b = (await ha.request({ type: 'history', series: ['gpu.0.utilization_ratio'], since, to: T * 1000 })) as HistoryReplyMessage;
    assert.equal(b.from, since);
    assert.ok(b.series[0].points.length > 0 && b.series[0].points.every((p) => p[0] > since), 'strictly after since');
    const refused = await ha.request({ type: 'logging', enabled: true });
    assert.equal(refused.type === 'result' && refused.ok, false);
    await assert.rejects(c.request({ type: 'history', series: ['*'] }), /needs a host/);
  });

  it('an error answer is shown with the retry delay; hosts become "reconnecting" while Prometheus is away', async () => {
    const c = await open();
    const states: string[] = [];
    c.onDidChangeState((s) => states.push(`${s.state}: ${s.reason}`));
    world.fail = 'TSDB not ready';
    await c.pollNow();
    assert.equal(c.state, 'reconnecting');
    assert.equal(c.reason, 'Prometheus query failed: TSDB not ready; retrying in 3600 s');
    assert.deepEqual(states, ['reconnecting: Prometheus query failed: TSDB not ready; retrying in 3600 s']);
    assert.ok(c.hosts().every((h) => h.state === 'reconnecting' && /^Prometheus is unreachable: /.test(h.reason ?? '')));
  });
});
