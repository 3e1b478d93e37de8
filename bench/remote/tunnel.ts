// Benchmark (issue 9): time from "connect" to the first sample for an already-deployed remote, and
// bytes per second on the tunnel at 1 Hz with 8 (fake) GPUs, compact form vs the plain form.
// Runs a real sshd (root needed) with a throwaway user. Prints numbers; asserts nothing.

import { SshRemote } from '../../remote/ssh';
import { COLLECTOR_JS, openWs } from '../../test/helpers/collector-process';
import { startSshd } from '../../test/helpers/sshd';
import { buildFakeNvidiaSmi, makeFakeStateDir, writeFakeState } from '../../test/fakes/nvml/build';
import WebSocket from 'ws';
import * as fs from 'node:fs';

const MEASURE_S = Number(process.env.BENCH_SECONDS ?? 30);

async function bytesPerSecond(url: string, seconds: number): Promise<{ bytes: number; messages: number }> {
  const ws = new WebSocket(url);
  let bytes = 0;
  let messages = 0;
  let counting = false;
  ws.on('message', (d: Buffer) => {
    if (!counting) return;
    // Payload plus the 2–4 byte frame header the server adds.
    bytes += d.length + (d.length < 126 ? 2 : 4);
    messages++;
  });
  await new Promise((r) => ws.once('open', r));
  await new Promise((r) => setTimeout(r, 1500)); // skip hello/keys
  counting = true;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  ws.close();
  return { bytes: bytes / seconds, messages };
}

async function main(): Promise<void> {
  const sshd = await startSshd();
  const state = makeFakeStateDir();
  fs.chmodSync(state.dir, 0o755);
  const smi = buildFakeNvidiaSmi();
  writeFakeState(state.stateFile, { count: 8, 'gpu.*.util': 40, 'gpu.*.mem_total': 85899345920, 'gpu.*.mem_used': 34359738368 });
  fs.chmodSync(state.stateFile, 0o644);
  // The remote collector has no koffi next to it: it streams the fake nvidia-smi (the fallback path).
  sshd.setUserEnvironment([`RIGWATCH_NVIDIA_SMI=${smi}`, `FAKE_NVML_STATE=${state.stateFile}`, 'PATH=/usr/local/bin:/usr/bin:/bin']);
  const opts = { target: { destination: sshd.alias }, bundlePath: COLLECTOR_JS, sshArgs: ['-F', sshd.sshConfig], interval: 1 };
  let heat: NodeJS.Timeout | undefined;
  try {
    const first = new SshRemote(opts);
    const t0 = performance.now();
    await first.connect();
    console.log(`first connect (deploy + start): ${(performance.now() - t0).toFixed(0)} ms`);
    await first.close();

    const again = new SshRemote(opts);
    const t1 = performance.now();
    const r = await again.connect();
    const ws = await openWs(`ws://127.0.0.1:${r.localPort}/ws?token=${r.token}`);
    await ws.next('sample');
    console.log(`connect to an already-deployed remote → first sample: ${(performance.now() - t1).toFixed(0)} ms (reused=${r.reused})`);
    await ws.close();

    // Values move like a busy box: utilisation, power, temperature and clocks change every second.
    let i = 0;
    heat = setInterval(() => {
      i++;
      const s: Record<string, number> = { count: 8, 'gpu.*.mem_total': 85899345920 };
      for (let g = 0; g < 8; g++) {
        s[`gpu.${g}.util`] = (i * 7 + g * 13) % 100;
        s[`gpu.${g}.power_mw`] = 200000 + ((i * 911 + g * 37) % 90000);
        s[`gpu.${g}.temp`] = 60 + ((i + g) % 15);
        s[`gpu.${g}.clock_sm`] = 1400 + ((i * 3 + g) % 300);
        s[`gpu.${g}.mem_used`] = 34359738368 + ((i * 104857600) % 4294967296);
      }
      writeFakeState(state.stateFile, s);
    }, 1000);
    const base = `ws://127.0.0.1:${r.localPort}/ws?token=${r.token}`;
    const compact = await bytesPerSecond(`${base}&compact=1`, MEASURE_S);
    const plain = await bytesPerSecond(base, MEASURE_S);
    console.log(`tunnel bytes/s at 1 Hz, 8 GPUs + host, over ${MEASURE_S} s:`);
    console.log(`  plain samples:   ${(plain.bytes / 1024).toFixed(2)} KB/s (${plain.messages} messages)`);
    console.log(`  compact deltas:  ${(compact.bytes / 1024).toFixed(2)} KB/s (${compact.messages} messages)  target < 3 KB/s`);
    console.log(`  ratio compact/plain = ${(compact.bytes / plain.bytes).toFixed(2)}`);
    await again.stopRemote();
    await again.close();
  } finally {
    if (heat) clearInterval(heat);
    await sshd.stop();
    state.dispose();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
