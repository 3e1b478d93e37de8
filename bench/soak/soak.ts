// Benchmark (prints, never asserts): 24 h of 1 Hz ticks with 4 fake GPUs compressed into minutes.
// The real tick loop (Collector), history (TieredHistory on disk, flushed every 10 s, snapshots every
// 30 min of the fake clock) and the default alert rules run in one process on an injected clock that
// advances one interval per tick (the sources are in-process fakes: no NVML, no /proc). RSS and V8 heap
// after the first hour (steady state) and at the end, every 6 h in between, and the history files.
// Target: RSS growth within 10 % (printed from minute 1, hour 1, and hour 6 once the 10 s tier has filled).
// Runs with the collector's own Node flags and malloc environment. SOAK_PREFAULT=1 makes every ring page
// resident at minute 1 (as if history were full); SOAK_MARK_MINUTES=N prints a mark every N minutes.
// Run: node -r esbuild-register bench/soak/soak.ts [hours]

import * as path from 'node:path';
import * as os from 'node:os';
import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { buildSync } from 'esbuild';
import { COLLECTOR_ENV, COLLECTOR_NODE_FLAGS } from '../../protocol/collector-node-flags';

const MB = 1024 * 1024;

function main(): void {
  const hours = process.argv[2] ?? '24';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-soak-bundle-'));
  const out = path.join(dir, 'soak-child.js');
  buildSync({
    entryPoints: [path.join(__dirname, 'soak-child.ts')],
    bundle: true,
    platform: 'node',
    target: 'node18',
    outfile: out,
    logLevel: 'error',
    external: ['koffi', 'pg', 'ioredis', 'dockerode', 'ws'],
  });
  const r = JSON.parse(
    execFileSync(process.execPath, [...COLLECTOR_NODE_FLAGS, '--expose-gc', out, hours], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
      // The collector's own launch settings (every launcher's): without them the young generation grew
      // to 16 MiB semi-spaces under this fast clock's allocation rate, and that was most of the "growth".
      env: { ...process.env, ...COLLECTOR_ENV },
    }),
  ) as {
    hours: number;
    ticks: number;
    wallS: number;
    events: number;
    series: number;
    first: { rss: number; heapUsed: number };
    start: { rss: number; heapUsed: number };
    end: { rss: number; heapUsed: number };
    marks: { hour: number; rss: number; heapUsed: number; external: number; groups: Record<string, number> }[];
    sizes: Record<string, number>;
  };
  fs.rmSync(dir, { recursive: true, force: true });
  const f = (b: number): string => (b / MB).toFixed(1);
  console.log(
    `soak: ${r.hours} h = ${r.ticks} ticks of ${r.series} series in ${r.wallS.toFixed(0)} s (${(r.ticks / r.wallS).toFixed(0)} ticks/s), ${r.events} alert events`,
  );
  for (const m of r.marks)
    console.log(
      `  hour ${String(m.hour).padStart(2)}: RSS ${f(m.rss)} MB, heap ${f(m.heapUsed)} MB, external ${f(m.external)} MB; ` +
        Object.entries(m.groups)
          .filter(([, b]) => b >= 0.05 * MB)
          .map(([g, b]) => `${g} ${f(b)}`)
          .join(', '),
    );
  console.log(
    `  RSS minute 1 → end: ${f(r.first.rss)} → ${f(r.end.rss)} MB (${((r.end.rss / r.first.rss - 1) * 100).toFixed(1)} %; from the start, rings still empty)`,
  );
  console.log(`  RSS hour 1 → end: ${f(r.start.rss)} → ${f(r.end.rss)} MB (${((r.end.rss / r.start.rss - 1) * 100).toFixed(1)} %, target within 10 %)`);
  // The history rings are preallocated typed arrays whose pages become resident as they fill: the
  // 10 s tier covers 6 h; the 1 min and 5 min tiers fill for 24 h and 7 days, so SOAK_PREFAULT=1 is the run that shows a leak.
  const h6 = r.marks.find((m) => m.hour >= 6);
  if (h6)
    console.log(
      `  RSS hour ${h6.hour} → end: ${f(h6.rss)} → ${f(r.end.rss)} MB (${((r.end.rss / h6.rss - 1) * 100).toFixed(1)} %; raw and 10 s tiers full by then, 1 min and 5 min still filling)`,
    );
  console.log(`  heap hour 1 → end: ${f(r.start.heapUsed)} → ${f(r.end.heapUsed)} MB (${((r.end.heapUsed / r.start.heapUsed - 1) * 100).toFixed(1)} %)`);
  console.log(
    `  files: ${Object.entries(r.sizes)
      .map(([n, s]) => `${n} ${(s / 1024).toFixed(0)} KB`)
      .join(', ')}`,
  );
}

main();
