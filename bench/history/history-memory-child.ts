// Helper of bench/history/history.ts (not a benchmark itself): bundled with esbuild and run under plain
// `node`, like dist/collector.js, so the RSS it prints is not inflated by esbuild-register.
// Fills 7 days × N series (argv[2]) and prints JSON { rss0, rss1, ticks, fillMs }.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TieredHistory } from '../../collector/history';
import { silentLogger } from '../../collector/log';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function main(): Promise<void> {
  const series = Number(process.argv[2] ?? 200);
  (globalThis as { gc?: () => void }).gc?.();
  const rss0 = process.memoryUsage().rss;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-bench-histmem-'));
  const h = await TieredHistory.open({ file: path.join(dir, 'history.bin'), intervalMs: 1000, log: silentLogger, maxSeries: 100_000 });
  const names = Array.from({ length: series }, (_, i) => `bench.s${i}.value_count`);
  const values: Record<string, number> = {};
  const now = Date.now();
  let ticks = 0;
  const fill0 = performance.now();
  const tick = (t: number): void => {
    for (let i = 0; i < series; i++) values[names[i]!] = Math.sin(t / 1e6 + i) * 100;
    h.record(t, values);
    ticks++;
  };
  // Every 10 s for 7 days fills every aggregated bucket; every second for the last hour fills raw.
  for (let t = now - 7 * DAY; t < now - HOUR; t += 10_000) tick(t);
  for (let t = now - HOUR; t <= now; t += 1000) tick(t);
  const fillMs = performance.now() - fill0;
  (globalThis as { gc?: () => void }).gc?.();
  const rss1 = process.memoryUsage().rss;
  fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ rss0, rss1, ticks, fillMs, held: h.seriesNames().length }) + '\n');
}

void main();
