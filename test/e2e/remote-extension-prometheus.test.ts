// The extension's Prometheus connection (plain mocha, no VS Code) against a real Prometheus scraping two
// real collectors with fake NVML GPUs: one host connection per collector, with GPU util/VRAM in its model
// (so the Services tree shows them), the firing alert in its Alerts, history answered from range queries
// (the dashboard's chart path), a collector that goes down, and an unreachable Prometheus.

import { strict as assert } from 'node:assert';
import type { HistoryReplyMessage, ServerMessage } from '../../protocol/messages';
import { PrometheusConnection, parsePrometheusUrl, type PrometheusHostConnection } from '../../extension/connection/prometheus-connection';
import { connectionNode } from '../../extension/views/services-model';
import type { Connection } from '../../extension/connection/connection';
import type { ConnectionSnapshot } from '../../extension/views/snapshot';
import { buildFakeNvml, makeFakeStateDir, writeFakeState } from '../fakes/nvml/build';
import { startCollector, type RunningCollector } from '../helpers/collector-process';
import { startPrometheus, type TestPrometheus } from '../helpers/prometheus-server';

/** What ConnectionManager.snapshot builds (that module imports vscode). */
function snapshot(c: Connection): ConnectionSnapshot {
  return {
    id: c.id,
    name: c.name,
    kind: c.kind,
    state: c.state,
    reason: c.reason,
    hello: c.model.hello,
    latest: c.model.latest,
    sources: c.model.sources,
    alerts: c.model.alertList(),
  };
}

function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = (): void => {
      const v = fn();
      if (v) return resolve(v);
      if (Date.now() - start > timeoutMs) return reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

describe('extension Prometheus connection (real Prometheus, two collectors)', function () {
  this.timeout(90_000);
  let prom: TestPrometheus;
  let conn: PrometheusConnection | undefined;
  const collectors: RunningCollector[] = [];
  const states = [makeFakeStateDir(), makeFakeStateDir()];

  before(async () => {
    const lib = buildFakeNvml();
    writeFakeState(states[0].stateFile, { count: 2, 'gpu.0.util': 35, 'gpu.1.util': 80, 'gpu.*.mem_total': 85899345920, 'gpu.*.mem_used': 10737418240 });
    writeFakeState(states[1].stateFile, { count: 1, 'gpu.0.util': 5, 'gpu.0.mem_total': 25769803776, 'gpu.0.mem_used': 1073741824, 'gpu.0.temp': 90 });
    for (const s of states)
      collectors.push(
        await startCollector({
          interval: 0.5,
          config: { docker: false, alerts: { rules: [{ id: 'gpu-temperature', for: 0, criticalFor: 0 }] } },
          env: { RIGWATCH_NVML_PATH: lib, FAKE_NVML_STATE: s.stateFile },
        }),
      );
    const jobs = collectors
      .map(
        (c, i) => `
  - job_name: rigwatch-${i}
    scrape_interval: 1s
    scrape_timeout: 900ms
    authorization:
      credentials: ${c.token}
    static_configs:
      - targets: ['127.0.0.1:${c.port}']`,
      )
      .join('');
    prom = await startPrometheus(`global:\n  scrape_interval: 1s\nscrape_configs:${jobs}\n`);
  });

  after(async () => {
    conn?.dispose();
    await prom?.stop();
    for (const c of collectors) await c.stop();
    for (const s of states) s.dispose();
  });

  const hostOf = (port: number): PrometheusHostConnection | undefined => conn!.hosts().find((h) => h.instance === `127.0.0.1:${port}`);

  it('lists both collectors as host connections with GPU util/VRAM and the firing alert', async () => {
    conn = new PrometheusConnection({ url: `${prom.url}/`, pollSeconds: 1 });
    assert.equal(conn.kind, 'prometheus');
    assert.equal(conn.id, `prometheus:${prom.url}`);
    assert.equal(conn.state, 'connecting');
    let hostEvents = 0;
    conn.onDidChangeHosts(() => hostEvents++);
    // Prometheus needs a few scrapes; the alert needs the collector's rule to fire first.
    await waitFor('both hosts with GPU numbers and the alert', () => {
      const a = hostOf(collectors[0].port);
      const b = hostOf(collectors[1].port);
      return a && b && a.model.latest?.series['gpu.1.utilization_ratio'] === 0.8 && b.model.alertList().some((x) => x.state === 'firing');
    });
    assert.equal(conn.state, 'live');
    assert.ok(hostEvents >= 1);
    const a = hostOf(collectors[0].port)!;
    const b = hostOf(collectors[1].port)!;
    assert.equal(a.kind, 'prometheus-host');
    assert.equal(a.state, 'live');
    assert.deepEqual(a.model.latest!.series, {
      'gpu.0.utilization_ratio': 0.35,
      'gpu.0.memory_used_bytes': 10737418240,
      'gpu.0.memory_total_bytes': 85899345920,
      'gpu.1.utilization_ratio': 0.8,
      'gpu.1.memory_used_bytes': 10737418240,
      'gpu.1.memory_total_bytes': 85899345920,
    });
    assert.match(a.model.hello!.host.collectorVersion, /^\d+\.\d+\.\d+/);
    assert.equal(b.model.latest!.series['gpu.0.memory_total_bytes'], 25769803776);
    const alert = b.model.alertList().find((x) => x.series === 'gpu.0.temperature_celsius')!;
    assert.equal(alert.severity, 'critical');
    assert.equal(alert.state, 'firing');
    assert.ok(alert.activeSince > Date.now() - 120_000 && alert.activeSince <= Date.now(), 'activeSince from rigwatch_alerts_for_state');
    assert.equal(a.model.alertList().filter((x) => x.series.includes('temperature')).length, 0);
    // What the Services tree builds from it: the GPUs with their numbers.
    const node = connectionNode(snapshot(a));
    const gpus = node.children!.find((n) => n.label === 'GPUs')!;
    assert.deepEqual(
      gpus.children!.map((g) => [g.label, g.description]),
      [
        ['GPU 0 · 35% · 10/80 GiB', ''],
        ['GPU 1 · 80% · 10/80 GiB', ''],
      ],
    );
  });

  it('answers a chart history request (send → onDidReceive, and request) from range queries', async () => {
    const a = hostOf(collectors[0].port)!;
    const got: ServerMessage[] = [];
    a.onDidReceive((m) => got.push(m));
    // Prometheus holds only the seconds since it started: ask until a few steps have data.
    let reply: HistoryReplyMessage;
    let to: number;
    for (let i = 0; ; i++) {
      to = Date.now();
      a.send({ type: 'history', id: `chart${i}`, series: ['gpu.1.*', 'host.memory_total_bytes'], from: to - 60_000, to, points: 30 });
      reply = await waitFor('the history reply', () => got.find((m): m is HistoryReplyMessage => m.type === 'history' && m.id === `chart${i}`));
      if ((reply.series.find((s) => s.name === 'gpu.1.utilization_ratio')?.points.length ?? 0) >= 3 || i > 40) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual(reply.series.map((s) => s.name).sort(), [
      'gpu.1.memory_total_bytes',
      'gpu.1.memory_used_bytes',
      'gpu.1.utilization_ratio',
      'host.memory_total_bytes',
    ]);
    const util = reply.series.find((s) => s.name === 'gpu.1.utilization_ratio')!;
    assert.equal(util.stepMs, 2000, '60 s over 30 points');
    assert.ok(util.points.length >= 2, `points: ${util.points.length}`);
    assert.ok(util.points.every((p) => p[1] === 0.8 && p[0] >= to - 60_000 && p[0] <= to));
    const mem = reply.series.find((s) => s.name === 'host.memory_total_bytes')!;
    assert.ok(mem.points.length >= 2 && mem.points.every((p) => (p[1] ?? 0) > 0));
    const r2 = await a.request({ type: 'ack', alertId: 'x' });
    assert.equal(r2.type === 'result' && r2.ok, false);
    assert.match(r2.type === 'result' ? (r2.error ?? '') : '', /not available through Prometheus/);
  });

  it('a collector Prometheus cannot scrape stays listed as failed with the reason', async () => {
    const b = hostOf(collectors[1].port)!;
    await collectors[1].stop();
    await waitFor('failed', () => b.state === 'failed', 30_000);
    assert.equal(b.reason, `Prometheus cannot scrape 127.0.0.1:${collectors[1].port} (up = 0)`);
    assert.ok(conn!.hosts().includes(b));
    assert.equal(conn!.state, 'live');
  });

  it('an unreachable Prometheus is "failed" with the reason and the retry delay; a bad URL is refused', async () => {
    const dead = new PrometheusConnection({ url: 'http://127.0.0.1:1', pollSeconds: 5 });
    try {
      await waitFor('failed', () => dead.state === 'failed');
      assert.match(dead.reason!, /^cannot reach Prometheus at http:\/\/127\.0\.0\.1:1: .+; retrying in 5 s$/);
      assert.deepEqual(dead.hosts(), []);
    } finally {
      dead.dispose();
    }
    assert.throws(() => parsePrometheusUrl('prometheus:9090'), /"prometheus:" is not supported/);
    assert.throws(() => parsePrometheusUrl('http://user:pw@prom:9090'), /bearer token, not in the URL/);
    assert.equal(parsePrometheusUrl(' https://prom.lab/prometheus/ '), 'https://prom.lab/prometheus');
  });
});
