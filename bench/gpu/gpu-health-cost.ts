// GPU health (issue 12) cost: tick cost of the GPU source on 8 fake GPUs with memory health, energy,
// violation counters and the event thread, against the base revision's GPU source (default `main`,
// GPU_BENCH_BASE=<rev>) in the same run, rounds interleaved; then the event thread's CPU while idle
// (GPU_BENCH_IDLE_S, default 60 s; target < 0.1 % of a core). Prints numbers; asserts nothing.
// GPU_BENCH_TICKS (default 1000) ticks per round; GPU_BENCH_PLAIN=1 leaves out the NVLink throughput
// counters and the MIG GPU (the workload of the first health measurements).
// Run: npm run bench -- gpu-health    (or: node -r esbuild-register bench/gpu/gpu-health-cost.ts)

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { buildFakeNvml } from '../../test/fakes/nvml/build';

const ROOT = path.resolve(__dirname, '..', '..');
const OUT_DIR = path.join(ROOT, 'bench', 'out');
const ROUNDS = 5;
const BASE = process.env.GPU_BENCH_BASE ?? 'main';
const IDLE_S = Number(process.env.GPU_BENCH_IDLE_S ?? 60);

function bundle(root: string, out: string): void {
  buildSync({
    entryPoints: [path.join(root, 'bench', 'gpu', '_health-cost-main.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    external: ['koffi'],
    logLevel: 'warning',
    nodePaths: [path.join(ROOT, 'node_modules')],
  });
}

// The base tree: its collector/, protocol/, client/ (the collector imports its backoff) and fakes, with this tree's measuring script.
const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-gpu-base-'));
const tar = execFileSync('git', ['archive', BASE, 'collector', 'protocol', 'client', 'test/fakes'], { cwd: ROOT, maxBuffer: 1 << 28 });
execFileSync('tar', ['-x', '-C', baseDir], { input: tar });
fs.mkdirSync(path.join(baseDir, 'bench', 'gpu'), { recursive: true });
fs.copyFileSync(path.join(__dirname, '_health-cost-main.ts'), path.join(baseDir, 'bench', 'gpu', '_health-cost-main.ts'));
fs.mkdirSync(OUT_DIR, { recursive: true });
const baseJs = path.join(OUT_DIR, 'gpu-health-base.js');
const headJs = path.join(OUT_DIR, 'gpu-health-head.js');
bundle(baseDir, baseJs);
bundle(ROOT, headJs);
// The base fake is built from the base sources; koffi resolves from this tree's node_modules.
const baseLib = execFileSync(
  process.execPath,
  ['-r', 'esbuild-register', '-e', `process.stdout.write(require(${JSON.stringify(path.join(baseDir, 'test/fakes/nvml/build.ts'))}).buildFakeNvml())`],
  { cwd: ROOT },
).toString();
const headLib = buildFakeNvml();

function run(js: string, lib: string, idleS = 0): Record<string, number> {
  const r = spawnSync(process.execPath, [js], {
    env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules'), GPU_BENCH_NVML: lib, GPU_BENCH_IDLE_S: String(idleS) },
    encoding: 'utf8',
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) throw new Error(`${js} failed (status ${r.status}, signal ${r.signal}): ${r.stderr}${r.stdout}`);
  return JSON.parse(last) as Record<string, number>;
}
const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const base: number[] = [];
const head: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  base.push(run(baseJs, baseLib).cpuUsPerTick);
  head.push(run(headJs, headLib).cpuUsPerTick);
}
const ratios = head.map((h, i) => h / base[i]);
console.log(`GPU sample() CPU per tick, 8 fake GPUs (process CPU incl. NVML worker), ${ROUNDS} interleaved rounds:`);
console.log(`  base (${BASE}):  median ${median(base).toFixed(1)} µs  (${base.map((x) => x.toFixed(1)).join(', ')})`);
console.log(`  with health:    median ${median(head).toFixed(1)} µs  (${head.map((x) => x.toFixed(1)).join(', ')})`);
console.log(`  ratio with health / base: median ${median(ratios).toFixed(2)}× (rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')}; target ≤ 2×)`);
if (IDLE_S > 0) {
  const r = run(headJs, headLib, IDLE_S);
  const ns = r.eventThreadCpuNs;
  if (ns === null || ns === undefined) console.log('event thread CPU: not readable (/proc/thread-self/schedstat)');
  else
    console.log(
      `event thread CPU over ${IDLE_S} s idle (after registration): ${(ns / 1e6).toFixed(1)} ms = ${((ns / 1e9 / IDLE_S) * 100).toFixed(3)} % of a core (target < 0.1 %)`,
    );
}
fs.rmSync(baseDir, { recursive: true, force: true });
