// Benchmark (issue 9, extension side): time from "connect" to the first sample for an already-deployed
// remote through the extension's SshConnection (ssh master, probe, reuse, forward, compact WebSocket,
// first delta decoded), against the bare path in the same run (SshRemote.connect + a plain WebSocket's
// first sample). Runs a real sshd (root needed). Prints medians and the ratio; asserts nothing.

import { SshRemote } from '../../remote/ssh';
import { SshConnection } from '../../extension/connection/ssh-connection';
import { COLLECTOR_JS, openWs } from '../../test/helpers/collector-process';
import { startSshd } from '../../test/helpers/sshd';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const sshd = await startSshd();
  const opts = { target: { destination: sshd.alias }, bundlePath: COLLECTOR_JS, sshArgs: ['-F', sshd.sshConfig], interval: 1 };
  try {
    // Deploy once so every round measures the "already deployed" path.
    const first = new SshRemote(opts);
    const t0 = performance.now();
    await first.connect();
    console.log(`first connect (deploy + start), once: ${(performance.now() - t0).toFixed(0)} ms`);
    await first.close();

    const bare: number[] = [];
    const ext: number[] = [];
    const bareHello: number[] = [];
    const extHello: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      // Alternate which path goes first so drift on a shared machine hits both.
      for (const which of i % 2 ? ['ext', 'bare'] : ['bare', 'ext']) {
        if (which === 'bare') {
          const r = new SshRemote(opts);
          const t = performance.now();
          const rc = await r.connect();
          const ws = await openWs(`ws://127.0.0.1:${rc.localPort}/ws?token=${rc.token}`);
          await ws.next('hello');
          bareHello.push(performance.now() - t);
          await ws.next('sample');
          bare.push(performance.now() - t);
          await ws.close();
          await r.close();
        } else {
          const t = performance.now();
          const c = new SshConnection(opts);
          // hello carries the latest sample; wait for the first one after it, like the bare path.
          await new Promise<void>((resolve, reject) => {
            let helloSeen = false;
            const sub = c.onDidReceive((m) => {
              if (m.type === 'hello') {
                helloSeen = true;
                extHello.push(performance.now() - t);
              } else if (m.type === 'sample' && helloSeen) {
                sub.dispose();
                resolve();
              }
            });
            c.onDidChangeState((s) => s.state === 'failed' && reject(new Error(s.reason)));
          });
          ext.push(performance.now() - t);
          await c.close();
        }
      }
    }
    console.log(`connect to an already-deployed remote → hello (carries the latest sample: numbers on screen), median of ${ROUNDS}:`);
    console.log(`  bare (SshRemote + WebSocket):        ${median(bareHello).toFixed(0)} ms  [${bareHello.map((x) => x.toFixed(0)).join(', ')}]`);
    console.log(`  extension (SshConnection, compact):  ${median(extHello).toFixed(0)} ms  [${extHello.map((x) => x.toFixed(0)).join(', ')}]`);
    console.log(`  ratio extension/bare = ${(median(extHello) / median(bareHello)).toFixed(2)}`);
    console.log(`connect → first new sample after hello, median of ${ROUNDS} (interval 1 s: includes waiting for the next tick):`);
    console.log(`  bare (SshRemote + WebSocket):        ${median(bare).toFixed(0)} ms  [${bare.map((x) => x.toFixed(0)).join(', ')}]`);
    console.log(`  extension (SshConnection, compact):  ${median(ext).toFixed(0)} ms  [${ext.map((x) => x.toFixed(0)).join(', ')}]`);
    console.log(`  ratio extension/bare = ${(median(ext) / median(bare)).toFixed(2)}`);
    const stop = new SshRemote(opts);
    await stop.stopRemote();
    await stop.close();
  } finally {
    await sshd.stop();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
