// The default rules on what an ML box really looks like. A "healthy busy box" — the fake NVML
// read through the real GPU source: 8 GPUs at 97 %, 95 % of VRAM held, power at the cap, 70 °C,
// one GPU held at 90 % by a vLLM server — stays silent for a simulated hour; a GPU at its own
// slowdown temperature fires; values wobbling ±1 % around any default level fire at most once.
// Also the exact text of every default rule, firing and resolved.

import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlertEvent, SeriesMap } from '../../../protocol';
import { createAlertEngine, DEFAULT_RULE_CONFIGS, type RuleAlertEngine } from '../../../collector/alerts';
import { silentLogger } from '../../../collector/log';
import { buildFakeNvml } from '../../fakes/nvml/build';
import { gpuHarness, NEVER, type GpuHarness } from '../sources/gpu/helpers';

const T0 = Date.UTC(2026, 11, 5, 8, 0, 0);
const SEC = 1000;
const HOUR_S = 3600;
const GIB = 1024 ** 3;

/** Fake NVML state of the busy box: every GPU at 97 %, 95 % VRAM held, at its power cap, 70 °C. */
function busyBox(extra: Record<string, string | number> = {}): Record<string, string | number> {
  const total = 80 * GIB;
  const held = Math.round(0.95 * total);
  return {
    count: 8,
    'gpu.*.name': 'NVIDIA H100 80GB HBM3',
    'gpu.*.mem_total': total,
    'gpu.*.mem_used': held,
    'gpu.*.util': 97,
    'gpu.*.memutil': 60,
    'gpu.*.power_mw': 700_000,
    'gpu.*.power_limit_mw': 700_000,
    'gpu.*.temp': 70,
    'gpu.*.temp_slowdown': 87,
    'gpu.*.temp_shutdown': 92,
    // The power cap is a software limit: NVML reports SW power cap (0x4) as the clock-event reason.
    'gpu.*.reasons': '0x4',
    'gpu.*.compute': `${process.pid}:${held}`,
    // GPU 7 serves vLLM, which pre-allocates 90 % of VRAM.
    'gpu.7.mem_used': Math.round(0.9 * total),
    'gpu.7.compute': `${process.pid}:${Math.round(0.9 * total)}`,
    ...extra,
  };
}

/** vLLM and host series of a busy, healthy serving box (latency steady with a little jitter). */
function servingSeries(s: number): SeriesMap {
  return {
    'models.vllm.request_latency_p95_seconds': 0.2 + 0.01 * Math.sin(s / 7),
    'models.vllm.kv_cache_usage_ratio': 0.9,
    'models.vllm.requests_running_count': 12,
    'host.cpu_busy_ratio': 0.45,
    'host.memory_used_ratio': 0.6,
    'host.mount.root.used_ratio': 0.5,
  };
}

describe('default alert rules', function () {
  this.timeout(60_000);
  let dir: string;
  let lib: string;
  let h: GpuHarness | undefined;

  before(() => {
    lib = buildFakeNvml();
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rw-defaults-'));
  });
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  async function engine(config: unknown = undefined): Promise<RuleAlertEngine> {
    return createAlertEngine({ config, file: join(dir, 'alerts.json'), log: silentLogger });
  }

  /** One sample of the fake NVML through the real GPU source. */
  async function gpuSample(state: Record<string, string | number>): Promise<SeriesMap> {
    if (!h) {
      h = gpuHarness({ nvmlPath: lib, backend: 'nvml' }, state);
      assert.equal((await h.source.probe(NEVER)).status, 'ready');
    } else {
      h.setState(state);
      // The fake re-reads its state file at most every 20 ms.
      await new Promise((r) => setTimeout(r, 60));
    }
    return (await h.source.sample(NEVER)).series;
  }

  it('a healthy busy box is silent for a simulated hour; a GPU at its slowdown temperature fires', async () => {
    const gpu = await gpuSample(busyBox());
    // What the fake says is what the rules see.
    assert.equal(gpu['gpu.3.utilization_ratio'], 0.97);
    assert.equal(gpu['gpu.3.memory_used_ratio'], 0.95);
    assert.equal(gpu['gpu.3.power_watts'], gpu['gpu.3.power_limit_watts']);
    assert.equal(gpu['gpu.3.temperature_slowdown_celsius'], 87);
    assert.equal(gpu['gpu.3.temperature_shutdown_celsius'], 92);

    const e = await engine();
    const events: AlertEvent[] = [];
    for (let s = 0; s < HOUR_S; s++) events.push(...e.evaluate(T0 + s * SEC, { ...gpu, ...servingSeries(s) }, []));
    assert.deepEqual(
      events.map((x) => `${x.transition} ${x.alert.message}`),
      [],
    );
    assert.deepEqual(e.active(), []);

    // GPU 3 reaches its own slowdown threshold: critical after 30 s, nothing for the other GPUs.
    const hot = await gpuSample(busyBox({ 'gpu.3.temp': 87 }));
    const fired: AlertEvent[] = [];
    for (let s = HOUR_S; s < HOUR_S + 120; s++) fired.push(...e.evaluate(T0 + s * SEC, { ...hot, ...servingSeries(s) }, []));
    const loud = fired.filter((x) => x.notify).map((x) => `${x.transition} ${x.alert.severity} ${x.alert.id} ${x.alert.message}`);
    assert.deepEqual(loud, ['firing critical gpu-temperature:gpu.3.temperature_celsius GPU 3 temperature 87 °C (above 86 °C; slowdown at 87 °C)']);
    assert.equal(fired.find((x) => x.transition === 'firing')?.t, T0 + (HOUR_S + 30) * SEC);

    // Cooling down resolves it with what it was and what it is.
    const cool = await gpuSample(busyBox({ 'gpu.3.temp': 72 }));
    const after = e.evaluate(T0 + (HOUR_S + 121) * SEC, { ...cool, ...servingSeries(0) }, []);
    assert.deepEqual(
      after.map((x) => `${x.transition} ${x.alert.message} notify=${x.notify}`),
      ['resolved GPU 3 temperature was 87 °C, now 72 °C notify=false'],
    );
  });

  it('VRAM fires only when it is full and still growing, not when it is merely held', async () => {
    const e = await engine();
    const name = 'gpu.0.memory_used_ratio';
    const at = (s: number, v: number): AlertEvent[] => e.evaluate(T0 + s * SEC, { [name]: v }, []);
    const events: AlertEvent[] = [];
    for (let s = 0; s < 600; s++) events.push(...at(s, 0.995)); // full, flat for 10 min
    assert.equal(events.length, 0, events.map((x) => x.alert.message).join());
    // Growing from 99.5 % towards 100 %: fires once growth has held for the window and `for`.
    for (let s = 600; s < 900; s++) events.push(...at(s, 0.995 + (s - 600) * 0.000015));
    const firing = events.filter((x) => x.transition === 'firing');
    assert.equal(firing.length, 1);
    assert.match(firing[0]?.alert.message ?? '', /^GPU 0 VRAM 99\.\d+ % used and growing \(above 99 %\)$/);
  });

  it('values wobbling ±1 % around any default level fire at most once in an hour', async () => {
    const counts = new Map<string, number>();
    for (const rc of DEFAULT_RULE_CONFIGS) {
      if (rc.baseline || rc.unit === 'count' || rc.unit === 'state' || !rc.selector) continue;
      for (const level of [rc.warning, rc.critical]) {
        if (typeof level !== 'number') continue;
        const series = rc.selector.replace('*', rc.id);
        const companion: SeriesMap = {};
        let denom = 1;
        let offset = 0;
        if (rc.ratioTo) companion[rc.ratioTo.replace('$1', rc.id)] = denom = 1000;
        if (rc.relativeTo) companion[rc.relativeTo.replace('$1', rc.id)] = offset = 87;
        // ±1 % of the level (ratios: ±1 point), a slow wave and tick-to-tick noise on top.
        const amp = rc.selector.endsWith('_ratio') || rc.ratioTo ? 0.01 : Math.max(1, Math.abs(level + offset) * 0.01);
        const fresh = await engine();
        let fired = 0;
        for (let s = 0; s < HOUR_S; s++) {
          const wobble = amp * (s % 2 === 0 ? 1 : -1) * (0.5 + 0.5 * Math.sin(s / 40));
          const v = (level + offset + wobble) * denom;
          for (const ev of fresh.evaluate(T0 + s * SEC, { ...companion, [series]: v }, []))
            if (ev.transition === 'firing' || ev.transition === 'escalated') fired++;
        }
        counts.set(`${rc.id}@${level}`, fired);
        assert.ok(fired <= 1, `${rc.id} around ${level}: ${fired} firings`);
      }
    }
    assert.ok(counts.size >= 10, [...counts.keys()].join());
  });

  it('prints each default rule in its own unit, firing and resolved', async () => {
    const e = await engine();
    const cases: [SeriesMap, SeriesMap][] = [
      [
        { 'gpu.1.temperature_celsius': 84, 'gpu.1.temperature_slowdown_celsius': 87 },
        { 'gpu.1.temperature_celsius': 60, 'gpu.1.temperature_slowdown_celsius': 87 },
      ],
      [{ 'gpu.2.temperature_celsius': 91 }, { 'gpu.2.temperature_celsius': 60 }],
      [{ 'postgres.main.connections_used_ratio': 0.904 }, { 'postgres.main.connections_used_ratio': 0.4 }],
      [{ 'postgres.main.cache_hit_ratio': 0.85 }, { 'postgres.main.cache_hit_ratio': 0.99 }],
      [
        { 'redis.a.memory_used_bytes': 900, 'redis.a.maxmemory_bytes': 1000 },
        { 'redis.a.memory_used_bytes': 100, 'redis.a.maxmemory_bytes': 1000 },
      ],
      [{ 'redis.b.memory_used_bytes': 1.5 * GIB }, { 'redis.b.memory_used_bytes': 0.5 * GIB }],
      [{ 'redis.a.hit_ratio': 0.3 }, { 'redis.a.hit_ratio': 0.9 }],
      [{ 'host.memory_used_ratio': 0.9 }, { 'host.memory_used_ratio': 0.5 }],
      [{ 'host.mount.root.used_ratio': 0.801 }, { 'host.mount.root.used_ratio': 0.5 }],
      [{ 'docker.containers_unhealthy_count': 2 }, { 'docker.containers_unhealthy_count': 0 }],
      [{ 'docker.containers_restarting_count': 1 }, { 'docker.containers_restarting_count': 0 }],
    ];
    const got: string[] = [];
    let s = 0;
    for (const [bad, good] of cases) {
      for (let i = 0; i < 90; i++)
        for (const ev of e.evaluate(T0 + s++ * SEC, bad, [])) if (ev.transition === 'firing') got.push(`${ev.alert.severity}: ${ev.alert.message}`);
      for (const ev of e.evaluate(T0 + s++ * SEC, good, [])) if (ev.transition === 'resolved') got.push(`resolved: ${ev.alert.message}`);
    }
    assert.deepEqual(got, [
      'warning: GPU 1 temperature 84 °C (above 81 °C; slowdown at 87 °C)',
      'resolved: GPU 1 temperature was 84 °C, now 60 °C',
      'critical: GPU 2 temperature 91 °C (above 90 °C)',
      'resolved: GPU 2 temperature was 91 °C, now 60 °C',
      'warning: PostgreSQL main share of max_connections in use 90 % (above 80 %)',
      'resolved: PostgreSQL main share of max_connections in use was 90 %, now 40 %',
      'warning: PostgreSQL main cache hit ratio 85 % (below 90 %)',
      'resolved: PostgreSQL main cache hit ratio was 85 %, now 99 %',
      'warning: Redis a share of maxmemory used 90 % (above 80 %)',
      'resolved: Redis a share of maxmemory used was 90 %, now 10 %',
      'warning: Redis b memory used 1.5 GiB, no maxmemory set (above 1 GiB)',
      'resolved: Redis b memory used was 1.5 GiB, now 512 MiB, no maxmemory set',
      'warning: Redis a hit ratio 30 % (below 50 %)',
      'resolved: Redis a hit ratio was 30 %, now 90 %',
      'warning: Host RAM used 90 % (above 85 %)',
      'resolved: Host RAM used was 90 %, now 50 %',
      'warning: Disk root used 80.1 % (above 80 %)',
      'resolved: Disk root used was 80.1 %, now 50 %',
      'critical: Unhealthy containers: 2',
      'resolved: Unhealthy containers: was 2, now 0',
      'warning: Restarting containers: 1',
      'resolved: Restarting containers: was 1, now 0',
    ]);
  });
});
