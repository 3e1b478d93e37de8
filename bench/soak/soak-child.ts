// Helper of bench/soak/soak.ts (not a benchmark itself): bundled with esbuild and run under plain
// `node --expose-gc`. Drives the real Collector tick loop, TieredHistory (on disk, flushed every 10 s
// of the fake clock) and the default alert rules in-process for 24 h of 1 Hz ticks with 4 fake GPUs
// and a host, on an injected clock that advances 1 s per tick (wall and monotonic alike). Prints JSON.

import * as fs from 'node:fs';
import * as v8 from 'node:v8';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SampleResult, Source } from '../../collector/source';
import { Collector } from '../../collector/collector';
import { TieredHistory } from '../../collector/history';
import type { SeriesRings } from '../../collector/history/rings';
import { RuleAlertEngine } from '../../collector/alerts/engine';
import { parseAlertsConfig } from '../../collector/alerts/rules';
import { silentLogger } from '../../collector/log';
import { smapsGroups } from '../collector-rss/_smaps';

const INTERVAL_MS = 1000;
const FLUSH_EVERY_TICKS = 10;
const GPUS = 4;

/** Four GPUs whose load, VRAM, temperature and power wander; one runs hot for 10 min every 3 h. */
class FakeGpus implements Source {
  readonly id = 'gpu';
  readonly kind = 'gpu';
  constructor(private readonly clock: () => number) {}
  async probe(): Promise<{ status: 'ready'; description: string }> {
    return { status: 'ready', description: '4 fake GPUs' };
  }
  async sample(): Promise<SampleResult> {
    const t = this.clock() / 1000;
    const series: Record<string, number> = {};
    for (let g = 0; g < GPUS; g++) {
      const load = 0.5 + 0.45 * Math.sin(t / 300 + g);
      const hot = g === 1 && t % 10_800 < 600;
      series[`gpu.${g}.utilization_ratio`] = load;
      series[`gpu.${g}.memory_utilization_ratio`] = load * 0.6;
      series[`gpu.${g}.memory_used_bytes`] = 40e9 + 30e9 * load;
      series[`gpu.${g}.memory_total_bytes`] = 80e9;
      series[`gpu.${g}.temperature_celsius`] = hot ? 91 : 55 + 20 * load;
      series[`gpu.${g}.power_watts`] = 100 + 250 * load;
      series[`gpu.${g}.power_limit_watts`] = 400;
      series[`gpu.${g}.sm_clock_hertz`] = 1.41e9;
      series[`gpu.${g}.memory_clock_hertz`] = 1.593e9;
      series[`gpu.${g}.fan_speed_ratio`] = 0.3 + 0.5 * load;
      series[`gpu.${g}.pcie_rx_bytes_per_second`] = 1e9 * load;
      series[`gpu.${g}.pcie_tx_bytes_per_second`] = 5e8 * load;
      series[`gpu.${g}.process_count`] = 2;
    }
    return { series };
  }
  close(): void {}
}

/** Host CPU, memory, disks and network. */
class FakeHost implements Source {
  readonly id = 'host';
  readonly kind = 'host';
  constructor(private readonly clock: () => number) {}
  async probe(): Promise<{ status: 'ready'; description: string }> {
    return { status: 'ready', description: 'fake host' };
  }
  async sample(): Promise<SampleResult> {
    const t = this.clock() / 1000;
    const series: Record<string, number> = {
      'host.cpu_busy_ratio': 0.3 + 0.2 * Math.sin(t / 600),
      'host.memory_used_ratio': 0.5,
      'host.memory_used_bytes': 64e9,
      'host.memory_total_bytes': 128e9,
      'host.load1_count': 4,
    };
    for (const m of ['root', 'data']) series[`host.mount.${m}.used_ratio`] = 0.4;
    for (const n of ['eth0', 'lo']) {
      series[`host.net.${n}.rx_bytes_per_second`] = 1e6;
      series[`host.net.${n}.tx_bytes_per_second`] = 1e6;
    }
    return { series };
  }
  close(): void {}
}

function mem(): { rss: number; heapUsed: number; external: number; groups: Record<string, number> } {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    external: m.external,
    groups: { ...smapsGroups(process.pid), heapTotal: m.heapTotal, v8physical: v8.getHeapStatistics().total_physical_size },
  };
}

/** Touches one byte a page of every series' ring memory (the history's one ArrayBuffer per series). */
function prefault(history: TieredHistory): void {
  const series = (history as unknown as { series: Map<string, SeriesRings> }).series;
  for (const rings of series.values()) {
    const b = new Uint8Array(rings.raw.t.buffer);
    for (let i = 0; i < b.length; i += 4096) b[i] = b[i]!;
  }
}

async function main(): Promise<void> {
  const hours = Number(process.argv[2] ?? 24);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-soak-'));
  let clock = 1_750_000_000_000;
  const now = (): number => clock;
  const history = await TieredHistory.open({ file: path.join(dir, 'history.bin'), intervalMs: INTERVAL_MS, log: silentLogger, monoNow: now });
  const alerts = new RuleAlertEngine(parseAlertsConfig(undefined).rules, 1000, path.join(dir, 'alerts.json'), silentLogger);
  await alerts.load();
  const col = new Collector([new FakeGpus(now), new FakeHost(now)], INTERVAL_MS, { history, alerts, log: silentLogger, now, monoNow: now });
  let events = 0;
  col.on('alert', (e: unknown[]) => (events += e.length));
  // The collector's own loop runs (start()): its scheduler sees the clock advance one interval per
  // sample, so every delay is 0 and ticks follow each other as fast as they complete (the sample
  // times step by exactly one interval). An hour of
  // warm-up fills the raw ring, so "start" is the steady state every collector reaches after an hour.
  const ticks = hours * 3600;
  const marks: ({ hour: number } & ReturnType<typeof mem>)[] = [];
  const markEvery = Number(process.env.SOAK_MARK_MINUTES ?? 360) * 60;
  const t0 = performance.now();
  let start: { rss: number; heapUsed: number } | undefined;
  // After the first minute every series exists: growth from here includes the rings filling.
  let first: { rss: number; heapUsed: number } | undefined;
  let n = 0;
  await new Promise<void>((resolve) => {
    col.on('sample', () => {
      n++;
      clock += INTERVAL_MS;
      if (n % FLUSH_EVERY_TICKS === 0) void col.flush();
      if (n === 60) {
        // SOAK_PREFAULT=1: every ring page made resident now (each byte rewritten with itself, so the
        // data is untouched), as if the history were full: growth from here is not the rings filling.
        if (process.env.SOAK_PREFAULT === '1') prefault(history);
        first = mem();
      }
      if (n === 3600) start = mem();
      if (n % markEvery === 0) marks.push({ hour: n / 3600, ...mem() });
      if (n >= ticks) resolve();
    });
    col.start();
    // start() plans the first tick one interval ahead: move the clock there, so each later tick is
    // due the moment the previous one ends (the first one still waits 1 s of real time).
    clock += INTERVAL_MS;
  });
  await col.flush();
  const end = mem();
  const wallS = (performance.now() - t0) / 1000;
  await col.stop();
  const sizes: Record<string, number> = {};
  for (const f of fs.readdirSync(dir)) sizes[f] = fs.statSync(path.join(dir, f)).size;
  fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ hours, ticks, wallS, first, start, end, marks, sizes, events, series: history.seriesNames().length }) + '\n');
}

void main();
