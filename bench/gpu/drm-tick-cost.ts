// Tick cost of the DRM backend (AMD/Intel through sysfs + fdinfo): 8 MI300X (copies of the captured
// amdgpu-6.8-mi300x tree at 8 PCI slots) and 200 GPU processes (each with 2 DRM fds of one client and
// 18 other fds) among 300 processes without GPU fds, over 6 simulated minutes at a 1 s interval with the
// default cadences. Prints the median tick of each kind (sysfs only; + process scan; + discovery walk of
// young processes and GPU users; + full walk), the mean, and same-run ratios to the host source's tick
// and to the 2 ms target. Nothing is asserted.
// Caveat: the tree lives in files, not in a kernel: real sysfs/procfs reads cost the kernel's
// formatting on top (gpu_busy_percent and gpu_metrics ask the SMU firmware, ~tens of µs each).
// Run: npm run bench -- drm    (or: node -r esbuild-register bench/gpu/drm-tick-cost.ts)

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLogger } from '../../collector/log';
import { DrmBackend, DRM_DISCOVERY_INTERVAL_MS, DRM_PROCESS_INTERVAL_MS } from '../../collector/sources/gpu/drm/drm-backend';
import { DRM_FULL_WALK_MS, WALK_BUDGET_LINKS, YOUNG_PROCESS_MS } from '../../collector/sources/gpu/drm/fdinfo';
import { HostSource } from '../../collector/sources/host';

const GPUS = 8;
const GPU_PROCS = 200;
const OTHER_PROCS = 300;
const OTHER_FDS = 18;
const TICKS = 360;
const TARGET_MS = 2;
const INTERVAL_MS = 1000;

const FIX = path.resolve(__dirname, '../../test/fixtures/gpu/drm/amdgpu-6.8-mi300x');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-drm-bench-'));
const sys = path.join(root, 'sys');
const proc = path.join(root, 'proc');

function build(): void {
  const card = path.join(FIX, 'sys/class/drm/card1');
  for (let i = 0; i < GPUS; i++) {
    const dst = path.join(sys, 'class/drm', `card${i}`);
    fs.cpSync(card, dst, { recursive: true });
    const slot = `0000:${(0x11 + i * 0x20).toString(16).padStart(2, '0')}:00.0`;
    const ue = path.join(dst, 'device/uevent');
    fs.writeFileSync(ue, fs.readFileSync(ue, 'utf8').replace('0000:11:00.0', slot));
  }
  const info = fs.readFileSync(path.join(FIX, 'proc/4242/fdinfo/5'), 'utf8');
  for (let p = 0; p < GPU_PROCS + OTHER_PROCS; p++) {
    const pid = 10_000 + p;
    const dir = path.join(proc, String(pid));
    fs.mkdirSync(path.join(dir, 'fd'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'fdinfo'));
    fs.writeFileSync(path.join(dir, 'cmdline'), `python3\0worker${p}.py\0`);
    fs.writeFileSync(path.join(dir, 'status'), `Name:\tpython3\nUid:\t1000\t1000\t1000\t1000\n`);
    for (let fd = 0; fd < OTHER_FDS; fd++) {
      fs.symlinkSync(fd < 3 ? '/dev/null' : `socket:[${pid * 100 + fd}]`, path.join(dir, 'fd', String(fd)));
      fs.writeFileSync(path.join(dir, 'fdinfo', String(fd)), 'pos:\t0\nflags:\t02\nmnt_id:\t8\nino:\t1\n');
    }
    if (p < GPU_PROCS) {
      const slot = `0000:${(0x11 + (p % GPUS) * 0x20).toString(16).padStart(2, '0')}:00.0`;
      const text = info.replace('drm-client-id:\t12', `drm-client-id:\t${100 + p}`).replace('0000:11:00.0', slot);
      for (const fd of [OTHER_FDS, OTHER_FDS + 1]) {
        fs.symlinkSync(`/dev/dri/renderD${128 + (p % GPUS)}`, path.join(dir, 'fd', String(fd)));
        fs.writeFileSync(path.join(dir, 'fdinfo', String(fd)), text);
      }
    }
  }
}

const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main(): Promise<void> {
  build();
  const log = createLogger('error', () => {});
  let clock = 0;
  const b = DrmBackend.open({ sysRoot: sys, procRoot: proc, log, now: () => clock });
  if (!b) throw new Error('bench tree has no GPU');
  const host = new HostSource({ log, processes: false });
  await host.probe();
  await host.sample();

  // A simulated timeline at a 1 s interval with the default cadences; the first YOUNG_PROCESS_MS are
  // skipped (start-up: the first full walk).
  const kinds: Record<string, number[]> = { 'sysfs only': [], '+ process scan': [], '+ discovery walk': [], '+ full walk': [] };
  const all: number[] = [];
  const hostT: number[] = [];
  let procs = 0;
  for (let i = 0; i < TICKS; i++) {
    clock = i * INTERVAL_MS;
    let t0 = performance.now();
    const r = b.read();
    const dt = performance.now() - t0;
    t0 = performance.now();
    await host.sample();
    hostT.push(performance.now() - t0);
    if (clock < YOUNG_PROCESS_MS) continue;
    all.push(dt);
    const st = b.scannerStats;
    kinds[st?.walk === 'full' ? '+ full walk' : st?.walk === 'discovery' ? '+ discovery walk' : st?.scanned ? '+ process scan' : 'sysfs only'].push(dt);
    procs = r.processes.length;
  }
  const h = median(hostT);
  const m = mean(all);
  console.log(
    `DRM backend: ${GPUS} × MI300X, ${procs} GPU processes (${GPU_PROCS * 2} DRM fds), ${GPU_PROCS + OTHER_PROCS} processes, ${(GPU_PROCS + OTHER_PROCS) * OTHER_FDS + GPU_PROCS * 2} fds`,
  );
  console.log(
    `cadences: tick ${INTERVAL_MS} ms, process scan ${DRM_PROCESS_INTERVAL_MS} ms, discovery (young + known) ${DRM_DISCOVERY_INTERVAL_MS} ms, full walk ${DRM_FULL_WALK_MS} ms`,
  );
  for (const [k, xs] of Object.entries(kinds)) console.log(`  ${k.padEnd(18)} median ${median(xs).toFixed(3)} ms  (${xs.length} ticks)`);
  console.log(
    `  mean per tick: ${m.toFixed(3)} ms, max ${Math.max(...all).toFixed(3)} ms (a full walk is spread over scans: ${WALK_BUDGET_LINKS} fd links per scan at most)`,
  );
  console.log(`  host source tick (real /proc, same run): median ${h.toFixed(3)} ms`);
  console.log(`  ratio mean / target ${TARGET_MS} ms: ${(m / TARGET_MS).toFixed(2)}   ratio mean / host tick: ${(m / h).toFixed(2)}`);
  // DRM_BENCH_KEEP=1 keeps the tree (to poke at it) and prints where.
  if (process.env.DRM_BENCH_KEEP) console.log(`  tree kept at ${root}`);
  else fs.rmSync(root, { recursive: true, force: true });
}

main().catch((e) => {
  fs.rmSync(root, { recursive: true, force: true });
  console.error(e);
  process.exit(1);
});
