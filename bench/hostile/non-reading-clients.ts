// Benchmark: the real collector with 60 WebSocket clients that never read, each pipelining 20
// all-series 5000-point history requests, next to a same-run baseline (the same collector with one
// normal client). Prints peak RSS and the longest gap between samples a reading client saw.
// Targets (issue 17): peak RSS under 250 MB, longest gap under 1.5 intervals. Asserts nothing.

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import WebSocket from 'ws';
import { TieredHistory } from '../../collector/history';
import { silentLogger } from '../../collector/log';
import { startCollector, stopAllCollectors } from '../../test/helpers/collector-process';

const INTERVAL_MS = 1000;
const CLIENTS = 60;
const REQUESTS = 20;
const SERIES = 150;
const POINTS = 5000;
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 15_000);

function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

async function historyDir(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-bench-hostile-'));
  const h = await TieredHistory.open({ file: path.join(dir, 'history.bin'), intervalMs: INTERVAL_MS, log: silentLogger });
  const now = Date.now();
  for (let i = 0; i < POINTS; i++) {
    const s: Record<string, number> = {};
    for (let k = 0; k < SERIES; k++) s[`gpu.${k % 8}.fake_metric_${k}_ratio`] = Math.sin(i / 50 + k) * 1000.123456789;
    h.record(now - (POINTS - i) * INTERVAL_MS, s);
  }
  await h.flush();
  return dir;
}

async function run(label: string, hostile: boolean, requests = REQUESTS): Promise<void> {
  const dataDir = await historyDir();
  const c = await startCollector({ interval: INTERVAL_MS / 1000, dataDir });
  const reader = await c.ws();
  await reader.next('hello');
  await reader.next('sample');
  const times: number[] = [];
  reader.ws.on('message', (d) => {
    const t = d.toString();
    if (t.startsWith('{"type":"sample"')) times.push(JSON.parse(t).t);
  });
  const start = rss(c.proc.pid!);
  let peak = start;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rss(c.proc.pid!));
    } catch {
      // exited
    }
  }, 50);
  const bad: WebSocket[] = [];
  const closes: string[] = [];
  if (hostile) {
    for (let i = 0; i < CLIENTS; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${c.port}/ws?token=${c.token}`);
      ws.on('error', () => {});
      ws.on('close', (code, reason) => closes.push(`${code} ${reason.toString().slice(0, 40)}`));
      await new Promise((r) => ws.once('open', r));
      (ws as unknown as { _socket: net.Socket })._socket.pause();
      for (let k = 0; k < requests; k++) ws.send(JSON.stringify({ type: 'history', id: `h${k}`, series: ['*'], points: POINTS, from: 0 }));
      bad.push(ws);
    }
  }
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  clearInterval(timer);
  for (const ws of bad) ws.terminate();
  let gap = 0;
  for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i]! - times[i - 1]!);
  const alive = c.proc.exitCode === null && c.proc.signalCode === null;
  const why = new Map<string, number>();
  for (const k of closes) why.set(k, (why.get(k) ?? 0) + 1);
  console.log(
    `${label.padEnd(52)} peak RSS ${(peak / 1048576).toFixed(0).padStart(5)} MB (start ${(start / 1048576).toFixed(0)} MB)  longest gap ${gap} ms = ${(gap / INTERVAL_MS).toFixed(2)} intervals  samples ${times.length}  ${alive ? 'alive' : 'DIED'}${why.size ? `  closes: ${[...why].map(([k, n]) => `${n}x ${k}`).join('; ')}` : ''}`,
  );
  await stopAllCollectors();
  fs.rmSync(dataDir, { recursive: true, force: true });
  return void [peak, gap];
}

async function main(): Promise<void> {
  console.log(`history: ${SERIES} series x ${POINTS} points; interval ${INTERVAL_MS} ms; window ${WINDOW_MS} ms`);
  await run('baseline: one normal client', false);
  await run(`hostile: + ${CLIENTS} non-reading clients x ${REQUESTS} requests`, true);
  // Under the in-flight cap (16), so the clients are not refused at once: replies stream until they stall.
  await run(`hostile: + ${CLIENTS} non-reading clients x 16 requests`, true, 16);
  console.log('targets: peak RSS under 250 MB, longest gap under 1.5 intervals');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
