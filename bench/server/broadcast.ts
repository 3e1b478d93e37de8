// Benchmark: one tick broadcast to 50 WebSocket clients through CollectorServer (serialise once,
// same buffer to all) vs the baseline of sending one pre-serialised 4 KB buffer with ws directly.
// Target (issue 2): server CPU within 1.5x of the baseline. Prints numbers; asserts nothing.

import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { Collector } from '../../collector/collector';
import { CollectorServer } from '../../collector/server/server';
import { silentLogger } from '../../collector/log';
import type { SampleMessage } from '../../protocol';
import { MemoryHistory } from '../../test/fakes/test-sources';

const CLIENTS = 50;
const TICKS = 1000;

function sample(i: number): SampleMessage {
  const series: Record<string, number | null> = {};
  // About 4 KB of JSON: ~110 series, like 2 GPUs + host.
  for (let k = 0; k < 110; k++) series[`gpu.${k % 8}.metric_${k}_ratio`] = Math.round(Math.random() * 1e4) / 1e4 + i * 0;
  return { type: 'sample', t: Date.now(), series, details: {} };
}

function clients(url: string, m: number): Promise<ChildProcess> {
  const child = fork(path.join(__dirname, 'ws-clients.ts'), [url, String(CLIENTS), String(m)], { execArgv: ['-r', 'esbuild-register'] });
  return new Promise((resolve) => child.once('message', () => resolve(child)));
}

function finished(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => child.once('message', () => resolve()));
}

async function run(label: string, send: (i: number) => void, child: ChildProcess): Promise<number> {
  const done = finished(child);
  const before = process.cpuUsage();
  for (let i = 0; i < TICKS; i++) {
    send(i);
    if (i % 20 === 0) await new Promise((r) => setImmediate(r));
  }
  await done;
  const cpu = process.cpuUsage(before);
  const ms = (cpu.user + cpu.system) / 1000;
  console.log(`${label.padEnd(44)} ${ms.toFixed(1).padStart(8)} ms CPU for ${TICKS} ticks x ${CLIENTS} clients (${((ms / TICKS) * 1000).toFixed(0)} us/tick)`);
  child.send('exit');
  return ms;
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function main(): Promise<void> {
  const payload = Buffer.from(JSON.stringify(sample(0)));
  console.log(`payload ${payload.length} bytes; ${ROUNDS} interleaved rounds`);

  // Baseline: plain ws, one pre-serialised buffer.
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await new Promise((r) => wss.once('listening', r));
  const port = (wss.address() as AddressInfo).port;
  const sendBaseline = (): void => {
    for (const ws of wss.clients) ws.send(payload, { binary: false });
  };

  // Rigwatch server: serialises each tick once and sends the same buffer to all clients.
  const collector = new Collector([], 1000, { history: new MemoryHistory(), log: silentLogger });
  const server = new CollectorServer({
    collector,
    history: new MemoryHistory(),
    hostInfo: { hostname: 'bench', platform: 'linux', arch: 'x64', collectorVersion: 'bench', pid: process.pid, startedAt: Date.now() },
    policy: { token: undefined, loopbackOnly: true, allowedOrigins: [] },
    log: silentLogger,
    assets: { js: '', css: '' },
  });
  const p2 = await server.listen(0, '127.0.0.1');
  const msgs = Array.from({ length: TICKS }, (_, i) => sample(i));

  // Warm-up round so JIT state does not favour whichever runs second.
  await run('warm-up (not counted)', sendBaseline, await clients(`ws://127.0.0.1:${port}`, TICKS));
  const ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    await new Promise((res) => setTimeout(res, 300));
    const base = await run(`round ${r + 1} baseline: ws, pre-serialised buffer`, sendBaseline, await clients(`ws://127.0.0.1:${port}`, TICKS));
    await new Promise((res) => setTimeout(res, 300));
    const ours = await run(
      `round ${r + 1} rigwatch broadcast (serialise once)`,
      (i) => server.broadcast(msgs[i]),
      await clients(`ws://127.0.0.1:${p2}/ws`, TICKS + 1 /* hello */),
    );
    ratios.push(ours / base);
  }
  wss.close();
  await server.close();
  ratios.sort((a, b) => a - b);
  console.log(
    `ratio rigwatch/baseline per round: ${ratios.map((x) => x.toFixed(2)).join(', ')}; median ${ratios[Math.floor(ratios.length / 2)].toFixed(2)}x (target <= 1.5x)`,
  );
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
