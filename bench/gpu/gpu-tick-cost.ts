// Per-tick CPU cost of reading 8 GPUs: NVML path vs the streaming nvidia-smi fallback vs spawning
// nvidia-smi (--query-gpu, or -q -x + XML) per sample. Builds the fakes with gcc, bundles
// _tick-cost-main.ts with esbuild (like dist/collector.js, koffi external) and runs it; the numbers and
// ratios are printed by that process. Nothing is asserted.
// Run: npm run bench -- gpu    (or: node -r esbuild-register bench/gpu/gpu-tick-cost.ts)

import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { buildFakeNvidiaSmi, buildFakeNvml } from '../../test/fakes/nvml/build';

const ROOT = path.resolve(__dirname, '..', '..');
const OUT = path.join(ROOT, 'bench', 'out', 'gpu-tick-cost.js');

buildSync({
  entryPoints: [path.join(__dirname, '_tick-cost-main.ts')],
  outfile: OUT,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node18',
  external: ['koffi'],
  logLevel: 'warning',
});
const r = spawnSync(process.execPath, ['--expose-gc', OUT], {
  stdio: 'inherit',
  env: { ...process.env, GPU_BENCH_NVML: buildFakeNvml(), GPU_BENCH_SMI: buildFakeNvidiaSmi() },
});
process.exit(r.status ?? 1);
