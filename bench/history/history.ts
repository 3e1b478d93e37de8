// Benchmark (prints, never asserts): history query cost and memory.
// - At the same point budget (600), a 7-day query vs a 1-hour query (target: at most 2×), single
//   series and all 200 series.
// - RSS with 7 days × 200 series held (target: under 100 MB), measured in a child bundled with esbuild
//   and run under plain node (esbuild-register alone adds ~25 MB), and what a flush costs.
// Run: node -r esbuild-register bench/history/history.ts

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { buildSync } from 'esbuild';
import { TieredHistory } from '../../collector/history';
import { silentLogger } from '../../collector/log';

const SERIES = 200;
const INTERVAL_MS = 1000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function mb(n: number): string {
  return (n / 1048576).toFixed(1) + ' MB';
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function timeQueries(label: string, n: number, fn: () => unknown): number {
  fn();
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) fn();
  const d = process.cpuUsage(t0);
  const ms = (d.user + d.system) / 1000 / n;
  console.log(`${label.padEnd(46)} ${ms.toFixed(3).padStart(8)} ms CPU per query`);
  return ms;
}

/** RSS of a plain-node process holding 7 days of `series` series. */
function memoryChild(dir: string, series: number): { rss0: number; rss1: number; ticks: number; fillMs: number; held: number } {
  const out = path.join(dir, 'history-memory-child.js');
  buildSync({
    entryPoints: [path.join(__dirname, 'history-memory-child.ts')],
    bundle: true,
    platform: 'node',
    target: 'node18',
    outfile: out,
    logLevel: 'error',
  });
  return JSON.parse(execFileSync(process.execPath, ['--expose-gc', out, String(series)], { encoding: 'utf8' })) as ReturnType<typeof memoryChild>;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-bench-hist-'));
  try {
    const node0 = memoryChild(dir, 0);
    for (const n of [SERIES, 1000]) {
      const m = memoryChild(dir, n);
      console.log(
        `plain node, ${String(m.held).padStart(4)} series × 7 d: RSS ${mb(m.rss1)} (empty process ${mb(node0.rss1)}; history ${mb(m.rss1 - node0.rss1)}, ${((m.rss1 - node0.rss1) / n / 1024).toFixed(0)} KB per series)${n === SERIES ? ' (target < 100 MB)' : ''}`,
      );
    }
    gc();
    const rss0 = process.memoryUsage().rss;
    const h = await TieredHistory.open({ file: path.join(dir, 'history.bin'), intervalMs: INTERVAL_MS, log: silentLogger, maxSeries: 10_000 });
    const names = Array.from({ length: SERIES }, (_, i) => `bench.s${i}.value_count`);
    const now = Date.now();
    const start = now - 7 * DAY;
    const values: Record<string, number | null> = {};
    // Every 10 s for 7 days (fills every 10 s / 1 min / 5 min bucket), then every second for the last
    // hour (fills the raw tier): every slot of every ring has been written, so RSS is the real cost.
    const fill0 = performance.now();
    let ticks = 0;
    const tick = (t: number): void => {
      for (let i = 0; i < SERIES; i++) values[names[i]!] = Math.sin(t / 1e6 + i) * 100 + (i % 7 === 0 && t % 13 === 0 ? NaN : 0);
      h.record(t, values);
      ticks++;
    };
    for (let t = start; t < now - HOUR; t += 10_000) tick(t);
    for (let t = now - HOUR; t <= now; t += INTERVAL_MS) tick(t);
    const fillMs = performance.now() - fill0;
    console.log(
      `filled ${SERIES} series × 7 days: ${ticks} ticks in ${(fillMs / 1000).toFixed(1)} s (${((fillMs * 1000) / ticks / SERIES).toFixed(2)} µs per value)`,
    );
    gc();
    const rss1 = process.memoryUsage().rss;
    console.log(`(this process, under esbuild-register: RSS ${mb(rss1)}, history's share ${mb(rss1 - rss0)})`);

    const one = [names[17]!];
    const all = ['bench.*'];
    const q1h1 = timeQueries('1 h, 600 points, 1 series', 300, () => h.query({ series: one, from: now - HOUR, to: now, points: 600 }, now));
    const q7d1 = timeQueries('7 d, 600 points, 1 series', 300, () => h.query({ series: one, from: now - 7 * DAY, to: now, points: 600 }, now));
    const q1hA = timeQueries(`1 h, 600 points, all ${SERIES} series`, 5, () => h.query({ series: all, from: now - HOUR, to: now, points: 600 }, now));
    const q7dA = timeQueries(`7 d, 600 points, all ${SERIES} series`, 5, () => h.query({ series: all, from: now - 7 * DAY, to: now, points: 600 }, now));
    timeQueries('6 h, 600 points, 1 series', 300, () => h.query({ series: one, from: now - 6 * HOUR, to: now, points: 600 }, now));
    timeQueries('24 h, 600 points, 1 series', 300, () => h.query({ series: one, from: now - DAY, to: now, points: 600 }, now));
    timeQueries('since 5 min ago (backfill), 1 series', 300, () => h.query({ series: one, since: now - 300_000 }, now));
    console.log(`ratio 7 d / 1 h at 600 points: ${(q7d1 / q1h1).toFixed(2)}× (1 series), ${(q7dA / q1hA).toFixed(2)}× (${SERIES} series) (target ≤ 2×)`);

    const f0 = performance.now();
    const c0 = process.cpuUsage();
    await h.flush();
    const c = process.cpuUsage(c0);
    const size = fs.statSync(path.join(dir, 'history.bin')).size;
    console.log(`flush: ${mb(size)} file, ${(performance.now() - f0).toFixed(0)} ms wall, ${((c.user + c.system) / 1000).toFixed(0)} ms CPU`);
    const o0 = performance.now();
    const reopened = await TieredHistory.open({ file: path.join(dir, 'history.bin'), intervalMs: INTERVAL_MS, log: silentLogger, maxSeries: 10_000 });
    console.log(`open (load ${reopened.seriesNames().length} series): ${(performance.now() - o0).toFixed(0)} ms wall`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
