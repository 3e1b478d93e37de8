// A real Prometheus scraping two real collectors (each with its own fake NVML GPUs, bearer tokens):
// the fleet client lists both hosts with their GPU numbers and answers a range query for a chart.

import { strict as assert } from 'node:assert';
import { listFleet, fleetHistory, PrometheusApi, seriesSelector, stepFor } from '../../extension/connection/prometheus-api';
import { startCollector, type RunningCollector } from '../helpers/collector-process';
import { startPrometheus, type TestPrometheus } from '../helpers/prometheus-server';
import { buildFakeNvml, makeFakeStateDir, writeFakeState } from '../fakes/nvml/build';

describe('fleet through Prometheus (real Prometheus, two collectors)', function () {
  this.timeout(90_000);
  let prom: TestPrometheus;
  const collectors: RunningCollector[] = [];
  const states = [makeFakeStateDir(), makeFakeStateDir()];

  before(async () => {
    const lib = buildFakeNvml();
    writeFakeState(states[0].stateFile, { count: 2, 'gpu.0.util': 35, 'gpu.1.util': 80, 'gpu.*.mem_total': 85899345920, 'gpu.*.mem_used': 10737418240 });
    writeFakeState(states[1].stateFile, { count: 1, 'gpu.0.util': 5, 'gpu.0.mem_total': 25769803776, 'gpu.0.mem_used': 1073741824, 'gpu.0.temp': 90 });
    for (const s of states) {
      collectors.push(
        await startCollector({
          interval: 0.5,
          config: { alerts: { rules: [{ id: 'gpu-temperature', for: 0, criticalFor: 0 }] } },
          env: { RIGWATCH_NVML_PATH: lib, FAKE_NVML_STATE: s.stateFile },
        }),
      );
    }
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
    await prom?.stop();
    for (const c of collectors) await c.stop();
    for (const s of states) s.dispose();
  });

  it('lists both collectors with hostname, version and per-GPU util/VRAM, and the firing alert', async () => {
    const api = new PrometheusApi(prom.url);
    let fleet = await listFleet(api);
    for (let i = 0; i < 150 && !(fleet.length === 2 && fleet.every((h) => h.up && h.gpus.length > 0 && h.gpus.every((g) => g.utilization !== null))); i++) {
      await new Promise((r) => setTimeout(r, 200));
      fleet = await listFleet(api);
    }
    assert.equal(fleet.length, 2, JSON.stringify(fleet));
    const a = fleet.find((h) => h.instance === `127.0.0.1:${collectors[0].port}`)!;
    const b = fleet.find((h) => h.instance === `127.0.0.1:${collectors[1].port}`)!;
    assert.ok(a && b);
    assert.equal(a.up, true);
    assert.match(a.version, /^\d+\.\d+\.\d+/);
    assert.deepEqual(
      a.gpus.map((g) => [g.index, g.utilization, g.memoryTotal, g.memoryUsed]),
      [
        ['0', 0.35, 85899345920, 10737418240],
        ['1', 0.8, 85899345920, 10737418240],
      ],
    );
    assert.deepEqual(
      b.gpus.map((g) => [g.index, g.utilization, g.memoryTotal]),
      [['0', 0.05, 25769803776]],
    );
    // 90 °C is over the fake board's 87 °C slowdown threshold: critical for the GPU temperature rule (its `for` set to 0 here).
    for (let i = 0; i < 50 && !b.firingAlerts.length; i++) {
      await new Promise((r) => setTimeout(r, 200));
      Object.assign(
        b,
        (await listFleet(api)).find((h) => h.instance === b.instance),
      );
    }
    assert.ok(
      b.firingAlerts.some((al) => al.series === 'gpu.0.temperature_celsius' && al.severity === 'critical'),
      JSON.stringify(b.firingAlerts),
    );
    assert.equal(a.firingAlerts.filter((al) => al.series.includes('temperature')).length, 0);
  });

  it('answers a range query for a chart with a step that fits the point budget', async () => {
    const api = new PrometheusApi(prom.url);
    const instance = `127.0.0.1:${collectors[0].port}`;
    assert.equal(seriesSelector('gpu.1.utilization_ratio', instance), `rigwatch_gpu_utilization_ratio{gpu="1",instance="${instance}"}`);
    assert.equal(stepFor(3600_000, 600), 6);
    let util, mem;
    // Prometheus holds only the seconds since it started: wait until a few steps have data.
    for (let i = 0; ; i++) {
      const to = Date.now();
      [util, mem] = await fleetHistory(api, instance, ['gpu.1.utilization_ratio', 'host.memory_total_bytes'], to - 60_000, to, 30);
      if (util.points.length >= 3 || i > 40) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(util.stepMs, 2000);
    assert.ok(util.points.length >= 2, `points: ${util.points.length}`);
    assert.ok(util.points.length <= 31);
    assert.ok(util.points.every((p) => p[2] === 0.8));
    assert.ok(mem.points.length >= 2 && mem.points.every((p) => (p[2] ?? 0) > 0));
  });

  it('names an unreachable Prometheus and a bad answer', async () => {
    await assert.rejects(new PrometheusApi('http://127.0.0.1:1').query('up'), /cannot reach Prometheus at http:\/\/127\.0\.0\.1:1/);
    await assert.rejects(new PrometheusApi(`${collectors[0].url}/`).query('up'), /unexpected response|refused|Prometheus query failed/);
  });
});
