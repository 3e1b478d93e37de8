// Benchmark (prints, never asserts): the collector with only the host source at 1 Hz vs
// prometheus-node-exporter scraped at 1 Hz, over the same 60 s in the same run (both run at once, so
// they share whatever else the machine is doing). CPU time is read from /proc/<pid>/stat (utime+stime
// plus reaped children) at the start and end of the window; RSS from /proc/<pid>/status.
// Targets (issue 2): collector CPU ≤ node_exporter's; collector RSS < 60 MB.
// Needs dist/collector.js (`node build.mjs`) and `apt-get install prometheus-node-exporter`.
// Run: node -r esbuild-register bench/host/collector-vs-node-exporter.ts   (BENCH_SECONDS=N to shorten)

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { startCollector, COLLECTOR_JS } from '../../test/helpers/collector-process';
import { freePort } from '../../remote/ssh';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const USER_HZ = 100;
const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';

/** CPU ms (self + reaped children) of a process. */
function cpuMs(pid: number): number {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * (1000 / USER_HZ);
}

function rssMb(pid: number): number {
  const kb = Number(/^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1] ?? NaN);
  return kb / 1024;
}

async function main(): Promise<void> {
  if (!fs.existsSync(COLLECTOR_JS)) throw new Error(`${COLLECTOR_JS} is missing: run "node build.mjs" first`);
  if (!fs.existsSync(NODE_EXPORTER)) throw new Error(`${NODE_EXPORTER} is missing: apt-get install prometheus-node-exporter`);
  const collector = await startCollector({ interval: 1, config: { gpu: false, postgres: false, redis: false, docker: false, models: false } });
  const port = await freePort();
  const ne: ChildProcess = spawn(NODE_EXPORTER, [`--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    // Let both settle (module loading, first probe, first scrape) before the window opens.
    for (let i = 0; i < 50; i++) {
      const ok = await fetch(`http://127.0.0.1:${port}/metrics`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 3000));
    const cpid = collector.proc.pid!;
    const npid = ne.pid!;
    const c0 = cpuMs(cpid);
    const n0 = cpuMs(npid);
    let cMax = 0;
    let nMax = 0;
    let scrapes = 0;
    let scrapeBytes = 0;
    const t0 = performance.now();
    for (let s = 0; s < SECONDS; s++) {
      const next = t0 + (s + 1) * 1000;
      const body = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
      scrapes++;
      scrapeBytes += body.length;
      cMax = Math.max(cMax, rssMb(cpid));
      nMax = Math.max(nMax, rssMb(npid));
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
    const c = cpuMs(cpid) - c0;
    const n = cpuMs(npid) - n0;
    const current = (await (await collector.get('/api/current')).json()) as { latest?: { series?: Record<string, unknown> } };
    const series = Object.keys(current.latest?.series ?? {}).filter((k) => k.startsWith('host.')).length;
    console.log(`window: ${SECONDS} s, both at 1 Hz`);
    console.log(
      `rigwatch collector (host only, ${series} host series): ${c.toFixed(0)} ms CPU (${((c / SECONDS / 1000) * 100).toFixed(2)} % of a core), RSS now ${rssMb(cpid).toFixed(1)} MB, max ${cMax.toFixed(1)} MB (target < 60 MB)`,
    );
    console.log(
      `prometheus-node-exporter (${scrapes} scrapes, ${(scrapeBytes / scrapes / 1024).toFixed(0)} KB each): ${n.toFixed(0)} ms CPU (${((n / SECONDS / 1000) * 100).toFixed(2)} % of a core), RSS now ${rssMb(npid).toFixed(1)} MB, max ${nMax.toFixed(1)} MB`,
    );
    console.log(`ratio collector / node_exporter CPU: ${(c / n).toFixed(2)}× (target ≤ 1×)`);
  } finally {
    ne.kill('SIGTERM');
    await collector.stop();
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
