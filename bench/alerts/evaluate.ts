// Benchmark: evaluating the default alert rules over 500 series per tick, against the host source's
// per-tick cost (HostSource.sample(): /proc + statfs) measured in the same run, interleaved in rounds.
// Target (issue 6): alert evaluation under 2 % of the host source's per-tick cost. Prints numbers only.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SeriesMap, SourceStatus } from '../../protocol';
import { createAlertEngine } from '../../collector/alerts';
import { HostSource } from '../../collector/sources/host';
import { silentLogger } from '../../collector/log';

const SERIES = 500;
const ROUNDS = 5;
const HOST_SAMPLES_PER_ROUND = 100;
const ALERT_TICKS_PER_ROUND = 2000;
const TICK_MS = 1000;
/** A single evaluate() call longer than this was preempted by the OS (the scan itself is ~50 µs), in µs. */
const PREEMPTED_US = 1000;

/** A realistic 500-series tick: 8 GPUs, host with many cores/mounts, 2 PG, 2 Redis, containers, models. */
function seriesNames(): string[] {
  const n: string[] = [];
  const gpu = [
    'utilization_ratio',
    'memory_utilization_ratio',
    'memory_used_bytes',
    'memory_total_bytes',
    'memory_used_ratio',
    'temperature_celsius',
    'power_watts',
    'power_limit_watts',
    'fan_ratio',
    'sm_clock_hertz',
    'memory_clock_hertz',
    'pcie_rx_bytes_per_second',
    'pcie_tx_bytes_per_second',
    'encoder_utilization_ratio',
    'decoder_utilization_ratio',
    'pstate_count',
    'ecc_volatile_errors_count',
  ];
  for (let i = 0; i < 8; i++) for (const m of gpu) n.push(`gpu.${i}.${m}`);
  n.push(
    'host.cpu_busy_ratio',
    'host.load1_count',
    'host.load5_count',
    'host.load15_count',
    'host.memory_total_bytes',
    'host.memory_used_bytes',
    'host.memory_available_bytes',
    'host.memory_used_ratio',
    'host.swap_total_bytes',
    'host.swap_used_bytes',
    'host.uptime_seconds',
  );
  for (let c = 0; c < 64; c++) n.push(`host.cpu.${c}.busy_ratio`);
  for (const m of ['root', 'data', 'scratch', 'home'])
    for (const k of ['total_bytes', 'used_bytes', 'avail_bytes', 'used_ratio']) n.push(`host.mount.${m}.${k}`);
  for (const d of ['nvme0n1', 'nvme1n1', 'sda']) n.push(`host.disk.${d}.read_bytes_per_second`, `host.disk.${d}.write_bytes_per_second`);
  for (const pg of ['main', 'analytics'])
    for (const m of [
      'up_state',
      'connections_active_count',
      'connections_idle_count',
      'connections_total_count',
      'max_connections_count',
      'connections_used_ratio',
      'cache_hit_ratio',
      'xact_per_second',
      'rows_returned_per_second',
      'deadlocks_per_second',
      'database_size_bytes',
      'longest_query_seconds',
      'blocked_count',
    ])
      n.push(`postgres.${pg}.${m}`);
  for (const r of ['cache', 'queue'])
    for (const m of [
      'up_state',
      'ping_latency_seconds',
      'clients_connected_count',
      'memory_used_bytes',
      'maxmemory_bytes',
      'memory_used_ratio',
      'hit_ratio',
      'ops_per_second',
      'evicted_keys_per_second',
    ])
      n.push(`redis.${r}.${m}`);
  for (const md of ['llama', 'vllm', 'triton'])
    for (const m of [
      'up_state',
      'latency_seconds',
      'requests_running_count',
      'requests_waiting_count',
      'kv_cache_usage_ratio',
      'request_latency_p50_seconds',
      'request_latency_p95_seconds',
      'request_latency_p99_seconds',
      'generation_tokens_per_second',
    ])
      n.push(`models.${md}.${m}`);
  n.push('docker.containers_unhealthy_count', 'docker.containers_restarting_count', 'docker.containers_running_count');
  for (let c = 0; n.length < SERIES; c++)
    for (const m of ['cpu_ratio', 'memory_used_bytes', 'memory_limit_bytes', 'restart_count', 'running_state', 'health_state'])
      if (n.length < SERIES) n.push(`docker.c${c}.${m}`);
  return n;
}

function value(name: string, tick: number, rnd: () => number): number | null {
  const wobble = rnd() * 0.04;
  if (name.endsWith('temperature_celsius')) return name.startsWith('gpu.0.') || name.startsWith('gpu.1.') ? 84 + wobble * 50 : 55 + wobble * 50; // two GPUs dance at 84-86 °C
  if (name.endsWith('hit_ratio')) return 0.97 - wobble;
  if (name.endsWith('_ratio')) return 0.4 + wobble;
  if (name.endsWith('power_limit_watts')) return 400;
  if (name.startsWith('redis.') && name.endsWith('maxmemory_bytes')) return 4 * 1024 ** 3;
  if (name.startsWith('redis.') && name.endsWith('memory_used_bytes')) return (1 + wobble) * 1024 ** 3;
  if (name.endsWith('power_watts')) return name.startsWith('gpu.2.') ? 380 + wobble * 200 : 250 + wobble * 1000; // GPU 2 near its limit
  if (name.endsWith('p95_seconds')) return 0.2 + wobble + (tick % 600 > 550 ? 0.4 : 0);
  if (name.endsWith('_count') && name.startsWith('docker.containers_')) return name.includes('unhealthy') && tick % 300 > 280 ? 1 : 0;
  return 1000 * rnd();
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[s.length >> 1] as number;
}

async function main(): Promise<void> {
  let seed = 42;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const names = seriesNames();
  const dir = mkdtempSync(join(tmpdir(), 'rw-bench-alerts-'));
  // As in the collector: the history's names version, unchanged while no series is new.
  const engine = await createAlertEngine({ config: undefined, file: join(dir, 'alerts.json'), log: silentLogger, namesVersion: () => 0 });
  const sources: SourceStatus[] = [
    'host',
    'gpu',
    'postgres.main',
    'postgres.analytics',
    'redis.cache',
    'redis.queue',
    'docker',
    'models.llama',
    'models.vllm',
    'models.triton',
  ].map((id) => ({ id, kind: id.split('.')[0] as string, state: 'ready' as const }));
  // Pre-computed values; each tick's map is built fresh (like the collector does) outside the timed call.
  const values: number[][] = [];
  for (let i = 0; i < 600; i++) values.push(names.map((n) => value(n, i, rnd) as number));
  const tickMap = (i: number): SeriesMap => {
    const row = values[i % values.length] as number[];
    const m: SeriesMap = {};
    for (let k = 0; k < names.length; k++) m[names[k] as string] = row[k] as number;
    return m;
  };

  const hostDefault = new HostSource({ log: silentLogger });
  const hostNoProc = new HostSource({ log: silentLogger, processes: false });
  const ac = new AbortController();
  for (const h of [hostDefault, hostNoProc]) {
    const p = await h.probe(ac.signal);
    if (p.status !== 'ready') throw new Error(`host source unavailable: ${p.reason}`);
    for (let i = 0; i < 10; i++) await h.sample(ac.signal);
  }

  let t = Date.UTC(2026, 10, 22);
  let tick = 0;
  let events = 0;
  for (let i = 0; i < 3000; i++) events += engine.evaluate((t += TICK_MS), tickMap(tick++), sources).length; // warm-up

  const alertUs: number[] = [];
  const perCall: number[] = [];
  const hostUs: Record<string, number[]> = { default: [], noProcesses: [] };
  const hostCpuUs: Record<string, number[]> = { default: [], noProcesses: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const [label, h] of [
      ['default', hostDefault],
      ['noProcesses', hostNoProc],
    ] as const) {
      const c0 = process.cpuUsage();
      const w0 = performance.now();
      for (let i = 0; i < HOST_SAMPLES_PER_ROUND; i++) await h.sample(ac.signal);
      const w = ((performance.now() - w0) * 1000) / HOST_SAMPLES_PER_ROUND;
      const c = process.cpuUsage(c0);
      (hostUs[label] as number[]).push(w);
      (hostCpuUs[label] as number[]).push((c.user + c.system) / HOST_SAMPLES_PER_ROUND);
    }
    let spent = 0;
    for (let i = 0; i < ALERT_TICKS_PER_ROUND; i++) {
      const m = tickMap(tick++);
      const w0 = performance.now();
      events += engine.evaluate((t += TICK_MS), m, sources).length;
      const d = performance.now() - w0;
      spent += d;
      perCall.push(d * 1000);
    }
    alertUs.push((spent * 1000) / ALERT_TICKS_PER_ROUND);
  }

  const a = median(alertUs);
  perCall.sort((x, y) => x - y);
  const pct = (q: number): string => (perCall[Math.min(perCall.length - 1, Math.floor(q * perCall.length))] as number).toFixed(1);
  // On this shared 2-core machine a call is sometimes preempted for milliseconds; those are not our work.
  const kept = perCall.filter((x) => x <= PREEMPTED_US);
  const trimmed = kept.reduce((x, y) => x + y, 0) / kept.length;
  const byRule: Record<string, number> = {};
  for (const ev of engine.alertHistory()) byRule[`${ev.alert.ruleId}/${ev.transition}`] = (byRule[`${ev.alert.ruleId}/${ev.transition}`] ?? 0) + 1;
  console.log(
    `series per tick: ${names.length}; rules: ${engine.rules().length}; active alerts at end: ${engine.active().length}; events over ${tick} ticks: ${events}`,
  );
  console.log(`last ${engine.alertHistory().length} events by rule/transition: ${JSON.stringify(byRule)}`);
  console.log(
    `alert evaluate per tick: mean ${a.toFixed(2)} µs (median of ${ROUNDS} rounds × ${ALERT_TICKS_PER_ROUND} ticks, each call timed, map built outside); ` +
      `mean without ${perCall.length - kept.length} preempted calls (> ${PREEMPTED_US / 1000} ms): ${trimmed.toFixed(2)} µs`,
  );
  console.log(
    `  per call: p50 ${pct(0.5)} µs, p99 ${pct(0.99)} µs, max ${pct(1)} µs (the full-name discovery scan runs every 30 s of tick time, and on a tick that adds names)`,
  );
  for (const label of ['default', 'noProcesses'] as const) {
    const h = median(hostUs[label] as number[]);
    const hc = median(hostCpuUs[label] as number[]);
    console.log(
      `host source sample (${label.padEnd(11)}): ${h.toFixed(1)} µs wall, ${hc.toFixed(1)} µs CPU (median of ${ROUNDS} rounds × ${HOST_SAMPLES_PER_ROUND} samples)`,
    );
    console.log(
      `  ratio alerts/host (${label}): ${((100 * trimmed) / h).toFixed(2)} % of its wall time, ${((100 * trimmed) / hc).toFixed(2)} % of its CPU time ` +
        `[untrimmed mean: ${((100 * a) / h).toFixed(2)} % / ${((100 * a) / hc).toFixed(2)} %]   (target < 2 %)`,
    );
  }
  await hostDefault.close();
  await hostNoProc.close();
  rmSync(dir, { recursive: true, force: true });
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
