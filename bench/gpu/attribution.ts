// What process attribution (command, start time, owner from cgroup, cached per pid) adds to a GPU tick:
// 8 fake GPUs × 50 processes each, the GPU source's sample() with gpu.attribution on vs off, on a
// captured-format proc tree (RIGWATCH_PROC_ROOT) of 400 processes in containers, pods and units.
// Interleaved rounds, median ratio printed (target ≤ 1.20). Nothing is asserted. The tree is plain files,
// so each re-check also pays an fstat (a replaced file stays readable through its descriptor) that a real
// procfs does not need: the number is, if anything, pessimistic.
// Run: npm run bench -- gpu/attribution

import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { buildFakeNvml } from '../../test/fakes/nvml/build';

const ROOT = path.resolve(__dirname, '..', '..');
const OUT = path.join(ROOT, 'bench', 'out', 'gpu-attribution.js');
buildSync({
  entryPoints: [path.join(__dirname, '_attribution-main.ts')],
  outfile: OUT,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node18',
  external: ['koffi'],
  logLevel: 'warning',
});
const r = spawnSync(process.execPath, ['--expose-gc', OUT], { stdio: 'inherit', env: { ...process.env, GPU_BENCH_NVML: buildFakeNvml() } });
process.exit(r.status ?? 1);
