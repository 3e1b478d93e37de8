// Benchmark (prints, never asserts): CPU per host sample — Rigwatch's /proc + statfs reader vs the
// systeminformation calls that give the same numbers (currentLoad, mem, fsSize, disksIO, networkStats),
// both in this run. systeminformation spawns helper processes, so their CPU is counted too: children's
// user+system time from /proc/self/stat (cutime, cstime) is added to this process's own cpuUsage.
// Target (issue 2): the host sample at least 20× cheaper.
// Run: node -r esbuild-register bench/host/host-vs-systeminformation.ts

import * as fs from 'node:fs';
import * as si from 'systeminformation';
import { HostSource } from '../../collector/sources/host';
import { silentLogger } from '../../collector/log';

const USER_HZ = 100;

/** CPU ms of this process plus its reaped children. */
function cpuMs(): number {
  const u = process.cpuUsage();
  const stat = fs.readFileSync('/proc/self/stat', 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const children = (Number(f[13]) + Number(f[14])) * (1000 / USER_HZ); // fields 16, 17
  return (u.user + u.system) / 1000 + children;
}

async function measure(label: string, n: number, fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up (first calls load modules, prime caches)
  const c0 = cpuMs();
  const w0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  const cpu = (cpuMs() - c0) / n;
  const wall = (performance.now() - w0) / n;
  console.log(`${label.padEnd(44)} ${cpu.toFixed(3).padStart(8)} ms CPU  ${wall.toFixed(3).padStart(8)} ms wall  (n=${n})`);
  return cpu;
}

async function main(): Promise<void> {
  const signal = new AbortController().signal;
  const plain = new HostSource({ log: silentLogger, processes: false });
  await plain.probe(signal);
  const withTop = new HostSource({ log: silentLogger });
  await withTop.probe(signal);
  let t = 0;
  // Top lists refresh every 5 s: a fake clock advancing 1 s per call gives the 1 Hz amortised cost.
  const withTopClocked = new HostSource({ log: silentLogger, now: () => (t += 1000) });
  await withTopClocked.probe(signal);

  const files = ['/proc/stat', '/proc/meminfo', '/proc/loadavg', '/proc/uptime', '/proc/diskstats', '/proc/net/dev', '/proc/self/mountinfo'];
  console.log('-- raw read cost of the seven /proc files + one statfs');
  await measure('readFileSync + statfsSync', 2000, async () => {
    for (const f of files) fs.readFileSync(f, 'latin1');
    fs.statfsSync('/');
  });
  await measure('fs.promises.readFile + statfs (parallel)', 2000, () =>
    Promise.all([...files.map((f) => fs.promises.readFile(f, 'latin1')), fs.promises.statfs('/')]),
  );

  console.log('-- one host sample');
  const ours = await measure('rigwatch host sample (no top lists)', 2000, () => plain.sample(signal));
  await measure('rigwatch host sample (top lists every 5 s)', 500, () => withTopClocked.sample(signal));
  await measure('rigwatch top-process refresh alone', 100, async () => {
    t += 5000;
    return withTopClocked.sample(signal);
  });
  const theirs = await measure('systeminformation equivalent', 30, () =>
    Promise.all([si.currentLoad(), si.mem(), si.fsSize(), si.disksIO(), si.networkStats('*')]),
  );
  console.log(`ratio: systeminformation / rigwatch = ${(theirs / ours).toFixed(1)}× (target ≥ 20×)`);
  await plain.close();
  await withTop.close();
  await withTopClocked.close();
}

void main();
