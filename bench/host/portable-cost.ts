// Cost of the portable host backend, on this Linux machine: the main-thread tick (os.cpus, os.*mem,
// statfs) against the /proc backend's tick, and one systeminformation round (what the worker does every
// 5 s): wall time, this process's CPU, its children's CPU and how many processes it spawns. On macOS and
// Windows systeminformation spawns different (and more) commands: those numbers are not measured here.
// Run: npm run bench -- portable    (or: node -r esbuild-register bench/host/portable-cost.ts)

import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import { createLogger } from '../../collector/log';
// systeminformation itself is imported lazily inside round(), after the wrappers below are in place.
import { round } from '../../collector/sources/host/portable/si-worker';
import { HostSource, PortableHostSource } from '../../collector/sources/host';

const ROUNDS = 5;
const TICKS = 200;
const CLOCK_TICKS_PER_SECOND = 100;

// Count spawns by wrapping the child_process entry points systeminformation uses (before it loads).
let spawns = 0;
// The CommonJS module object itself (an ES namespace import would be a copy systeminformation never sees).
const cp = createRequire(__filename)('node:child_process') as Record<string, (...a: unknown[]) => unknown>;
for (const name of ['spawn', 'exec', 'execFile', 'execSync', 'execFileSync', 'spawnSync']) {
  const orig = cp[name];
  cp[name] = (...a: unknown[]) => {
    spawns++;
    return orig.apply(cp, a);
  };
}

function childrenCpuMs(): number {
  const f = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return ((Number(f[13]) + Number(f[14])) * 1000) / CLOCK_TICKS_PER_SECOND;
}
const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const log = createLogger('error', () => {});
  const wall: number[] = [];
  const cpu: number[] = [];
  const child: number[] = [];
  const spawned: number[] = [];
  await round({ intervalMs: 0, processes: true }); // warm: module load, first-call caches
  for (let i = 0; i < ROUNDS; i++) {
    const c0 = process.cpuUsage();
    const k0 = childrenCpuMs();
    const s0 = spawns;
    const t0 = performance.now();
    await round({ intervalMs: 0, processes: true });
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    child.push(childrenCpuMs() - k0);
    spawned.push(spawns - s0);
  }
  console.log(`systeminformation round (fsSize + fsStats + networkStats + mem + processes), ${ROUNDS} rounds, Linux:`);
  console.log(
    `  wall median ${median(wall).toFixed(1)} ms, own CPU median ${median(cpu).toFixed(1)} ms, children CPU median ${median(child).toFixed(1)} ms, spawns per round ${median(spawned)}`,
  );
  console.log(
    `  at the default 5 s cadence: ${(median(cpu) / 5).toFixed(1)} ms CPU per second in the worker thread + ${(median(child) / 5).toFixed(1)} ms in spawned processes`,
  );

  const proc = new HostSource({ log, processes: false });
  const port = new PortableHostSource({ log, processes: false, slowIntervalMs: 60_000 });
  await proc.probe();
  await port.probe();
  await port.waitRounds(1);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < TICKS; i++) {
    let t0 = performance.now();
    await proc.sample();
    a.push(performance.now() - t0);
    t0 = performance.now();
    await port.sample();
    b.push(performance.now() - t0);
  }
  port.close();
  console.log(
    `main-thread tick: /proc backend median ${median(a).toFixed(3)} ms, portable median ${median(b).toFixed(3)} ms, ratio portable / proc ${(median(b) / median(a)).toFixed(2)}`,
  );
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
