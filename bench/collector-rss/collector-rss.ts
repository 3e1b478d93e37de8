// Benchmark (prints, never asserts): the built collector (dist/collector.js) with the default
// configuration (every source on, found or not, 1 s interval) and one WebSocket client that reads
// every sample, next to a bare Node process (`setInterval(() => {}, 1000)`) started in the same run,
// and prometheus-node-exporter (scraped at 1 Hz) when it is installed. RSS from /proc/<pid>/status
// at the end of the window (default 5 min), plus the collector's peak, thread count, CPU time and
// where its resident memory is (bench/collector-rss/_smaps.ts). Every process gets the collector's
// launch settings (COLLECTOR_NODE_FLAGS, COLLECTOR_ENV) through the test helper; bare node gets none.
// Target (issue 17): the collector under 60 MB after 5 min.
// Needs dist/collector.js (`node build.mjs`); prometheus-node-exporter is optional (apt-get install prometheus-node-exporter).
// Run: node -r esbuild-register bench/collector-rss/collector-rss.ts   (BENCH_SECONDS=N to shorten)
// BENCH_BASELINE=<path to another build's collector.js> runs that bundle too, in the same window with
// the same settings and its own client, for a same-run before/after (e.g. a build of the previous commit);
// BENCH_BASELINE_FLAGS="--max-semi-space-size=1" gives it other Node flags (e.g. the previous commit's).

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startCollector, openWs, COLLECTOR_JS } from '../../test/helpers/collector-process';
import { COLLECTOR_ENV, COLLECTOR_NODE_FLAGS } from '../../protocol/collector-node-flags';
import { freePort } from '../../remote/ssh';
import { smapsGroups } from './_smaps';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 300);
/** The baseline's Node flags: the collector's own unless BENCH_BASELINE_FLAGS (space-separated) says otherwise, e.g. an older release's. */
const BASELINE_FLAGS: readonly string[] =
  process.env.BENCH_BASELINE_FLAGS !== undefined ? process.env.BENCH_BASELINE_FLAGS.split(/\s+/).filter(Boolean) : COLLECTOR_NODE_FLAGS;
const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';
const KB = 1024;
const MB = 1024 * 1024;

/** A field of /proc/<pid>/status in bytes (kB fields) or as a count. */
function status(pid: number, field: 'VmRSS' | 'RssAnon' | 'RssFile' | 'Threads'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
  const n = Number(m?.[1] ?? NaN);
  return field === 'Threads' ? n : n * KB;
}

const mb = (b: number): string => (b / MB).toFixed(1);

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** Another build of the collector, started as the test helper starts dist/collector.js, with one client that reads every message. */
async function startBaseline(js: string): Promise<{ proc: ChildProcess; stop: () => Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-bench-baseline-'));
  const token = 'bench-baseline-token';
  const proc = spawn(
    process.execPath,
    [...BASELINE_FLAGS, js, '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--interval', '1', '--token', token],
    {
      env: { ...process.env, ...COLLECTOR_ENV },
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`baseline ${js} did not start within 15 s`)), 15_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  const client = await openWs(`ws://127.0.0.1:${port}/ws?token=${token}`);
  await client.next('hello');
  client.ws.on('message', () => (client.messages.length = 0));
  return {
    proc,
    stop: async () => {
      await client.close().catch(() => {});
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function main(): Promise<void> {
  if (!fs.existsSync(COLLECTOR_JS)) throw new Error(`${COLLECTOR_JS} is missing: run "node build.mjs" first`);
  // The default configuration: no config file, default interval (1 s); only the port and data dir are the test's.
  const collector = await startCollector({ interval: 1 });
  const baselineJs = process.env.BENCH_BASELINE;
  const baseline = baselineJs ? await startBaseline(path.resolve(baselineJs)) : undefined;
  const bare: ChildProcess = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  let ne: ChildProcess | undefined;
  let nePort = 0;
  if (fs.existsSync(NODE_EXPORTER)) {
    nePort = await freePort();
    ne = spawn(NODE_EXPORTER, [`--web.listen-address=127.0.0.1:${nePort}`], { stdio: ['ignore', 'ignore', 'ignore'] });
  } else {
    console.log(`(${NODE_EXPORTER} not installed: apt-get install prometheus-node-exporter to compare with it)`);
  }
  try {
    const client = await collector.ws();
    await client.next('hello');
    let samples = 0;
    client.ws.on('message', () => {
      samples++;
      // Keep nothing: the helper queues every message, which would grow this process, not the collector.
      client.messages.length = 0;
    });
    const pid = collector.proc.pid!;
    let peak = 0;
    let basePeak = 0;
    const basePid = baseline?.proc.pid;
    const t0 = performance.now();
    const marks = new Set([10, 60, 120, 300, 600, 1800, 3600].filter((s) => s < SECONDS));
    for (let s = 1; s <= SECONDS; s++) {
      if (ne)
        await fetch(`http://127.0.0.1:${nePort}/metrics`).then(
          (r) => r.text(),
          () => '',
        );
      peak = Math.max(peak, status(pid, 'VmRSS'));
      if (basePid) basePeak = Math.max(basePeak, status(basePid, 'VmRSS'));
      if (marks.has(s))
        console.log(
          `  ${String(s).padStart(4)} s: collector RSS ${mb(status(pid, 'VmRSS'))} MB${basePid ? `, baseline ${mb(status(basePid, 'VmRSS'))} MB` : ''}`,
        );
      await new Promise((r) => setTimeout(r, Math.max(0, t0 + s * 1000 - performance.now())));
    }
    const rss = status(pid, 'VmRSS');
    const bareRss = status(bare.pid!, 'VmRSS');
    console.log(`window: ${SECONDS} s, default config (1 s interval), one WebSocket client (${samples} messages read)`);
    console.log(
      `collector:        RSS ${mb(rss)} MB (anon ${mb(status(pid, 'RssAnon'))}, file ${mb(status(pid, 'RssFile'))}), peak ${mb(peak)} MB, ${status(pid, 'Threads')} threads  (target < 60 MB)`,
    );
    console.log(
      `  where: ${Object.entries(smapsGroups(pid))
        .filter(([, b]) => b >= 0.05 * MB)
        .map(([g, b]) => `${g} ${mb(b)}`)
        .join(', ')}; CPU ${cpuSeconds(pid).toFixed(1)} s`,
    );
    if (basePid) {
      const baseRss = status(basePid, 'VmRSS');
      console.log(
        `baseline:         RSS ${mb(baseRss)} MB (anon ${mb(status(basePid, 'RssAnon'))}, file ${mb(status(basePid, 'RssFile'))}), peak ${mb(basePeak)} MB, ${status(basePid, 'Threads')} threads  (${baselineJs})`,
      );
      console.log(
        `  where: ${Object.entries(smapsGroups(basePid))
          .filter(([, b]) => b >= 0.05 * MB)
          .map(([g, b]) => `${g} ${mb(b)}`)
          .join(', ')}; CPU ${cpuSeconds(basePid).toFixed(1)} s`,
      );
      console.log(`collector − baseline: ${mb(rss - baseRss)} MB`);
    }
    console.log(`bare node:        RSS ${mb(bareRss)} MB, ${status(bare.pid!, 'Threads')} threads`);
    if (ne?.pid) console.log(`node_exporter:    RSS ${mb(status(ne.pid, 'VmRSS'))} MB (scraped at 1 Hz)`);
    console.log(`ratio collector / bare node: ${(rss / bareRss).toFixed(2)}×; above bare node: ${mb(rss - bareRss)} MB`);
  } finally {
    bare.kill();
    ne?.kill();
    await baseline?.stop();
    await collector.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
