// The measuring half of gpu-tick-cost.ts, run as an esbuild bundle (the form the collector ships in):
// fake library and nvidia-smi paths come from the environment (GPU_BENCH_NVML, GPU_BENCH_SMI).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { gpuFactory } from '../../collector/sources/gpu';
import { NvmlBackend } from '../../collector/sources/gpu/nvml-backend';
import { createLogger } from '../../collector/log';
import { buildSmiQuery, parseQueryGpuLine } from '../../collector/sources/gpu/smi-parse';
import type { GpuSource } from '../../collector/sources/gpu';
import { makeFakeStateDir, writeFakeState } from '../../test/fakes/nvml/build';
import { runWorkerIfRequested } from '../../collector/workers';

const GPUS = 8;
const NVML_TICKS = 3000;
const SPAWN_TICKS = 150;
const STREAM_SECONDS = 4;
const STREAM_INTERVAL_MS = 100;
const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

function childrenCpuUs(): number {
  // /proc/self/stat fields 16, 17: cutime, cstime of waited-for children (clock ticks).
  const f = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return ((Number(f[13]) + Number(f[14])) * 1e6) / CLOCK_TICKS_PER_SECOND;
}

function pidCpuUs(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e6) / CLOCK_TICKS_PER_SECOND;
}

/** Full GC (node --expose-gc): run before a phase, and at its end so each row pays for its own garbage. */
function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function selfCpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

interface Row {
  name: string;
  ticks: number;
  selfUs: number;
  childUs: number;
  wallMs: number;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => execFile(file, args, { env, maxBuffer: 1 << 24 }, (e, out) => (e ? reject(e) : resolve(out))));
}

/** A tiny XML reader for the fields a monitor needs: per <gpu>, the text of a few leaf elements. */
function parseSmiXml(xml: string): Record<string, number | string | null>[] {
  const out: Record<string, number | string | null>[] = [];
  for (const m of xml.matchAll(/<gpu id="([^"]+)">([\s\S]*?)<\/gpu>/g)) {
    const body = m[2];
    const leaf = (tag: string): string | null => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(body)?.[1] ?? null;
    const num = (tag: string): number | null => {
      const v = leaf(tag);
      const n = v === null ? NaN : parseFloat(v);
      return Number.isFinite(n) ? n : null;
    };
    out.push({
      bus: m[1], name: leaf('product_name'), uuid: leaf('uuid'), total: num('total'), used: num('used'), util: num('gpu_util'),
      memUtil: num('memory_util'), temp: num('gpu_temp'), power: num('power_draw'), limit: num('current_power_limit'),
      sm: num('sm_clock'), mem: num('mem_clock'), fan: num('fan_speed'), pstate: leaf('performance_state'),
    });
  }
  return out;
}

async function main(): Promise<void> {
  const lib = process.env.GPU_BENCH_NVML!;
  const smi = process.env.GPU_BENCH_SMI!;
  const st = makeFakeStateDir();
  const state: Record<string, string | number> = { count: GPUS };
  for (let i = 0; i < GPUS; i++) state[`gpu.${i}.compute`] = `${process.pid}:${(i + 1) * 1024 ** 3}`;
  writeFakeState(st.stateFile, state);
  process.env.FAKE_NVML_STATE = st.stateFile;
  const env = { ...process.env, FAKE_NVML_STATE: st.stateFile };
  const log = createLogger('error');
  const signal = new AbortController().signal;
  const rows: Row[] = [];

  // 1. NVML
  {
    const [src] = gpuFactory.create({ config: { nvmlPath: lib }, env, intervalMs: 1000, dataDir: st.dir, log, latest: () => undefined }) as GpuSource[];
    const p = await src.probe(signal);
    if (p.status !== 'ready') throw new Error(`NVML probe: ${JSON.stringify(p)}`);
    for (let i = 0; i < 200; i++) await src.sample(signal); // warm-up (JIT, caches)
    gc();
    const s0 = selfCpuUs();
    const w0 = performance.now();
    let n = 0;
    for (let i = 0; i < NVML_TICKS; i++) n += Object.keys((await src.sample(signal)).series).length;
    gc();
    rows.push({ name: 'NVML (koffi, worker, 1 batch/tick)', ticks: NVML_TICKS, selfUs: selfCpuUs() - s0, childUs: 0, wallMs: performance.now() - w0 });
    if (n !== NVML_TICKS * GPUS * 20) throw new Error(`unexpected series count ${n}`);
    await src.close();
  }

  // 1b. The same NVML batch without building series/details (where the NVML row's time goes).
  {
    const r = await NvmlBackend.open({ libPath: lib, initTimeoutMs: 10_000, callTimeoutMs: 2000, log });
    if (!r.ok) throw new Error(r.message);
    for (let i = 0; i < 200; i++) await r.backend.read(signal);
    gc();
    const s0 = selfCpuUs();
    const w0 = performance.now();
    for (let i = 0; i < NVML_TICKS; i++) await r.backend.read(signal);
    gc();
    rows.push({ name: '  of which: NVML batch only (no series build)', ticks: NVML_TICKS, selfUs: selfCpuUs() - s0, childUs: 0, wallMs: performance.now() - w0 });
    r.backend.close();
  }

  // 2. The shipped fallback: one streaming child.
  {
    const [src] = gpuFactory.create({ config: { backend: 'nvidia-smi', nvidiaSmiPath: smi, processIntervalMs: 60_000 }, env, intervalMs: STREAM_INTERVAL_MS, dataDir: st.dir, log, latest: () => undefined }) as GpuSource[];
    const p = await src.probe(signal);
    if (p.status !== 'ready') throw new Error(`smi probe: ${JSON.stringify(p)}`);
    const pid = src.smiBackend!.childPid!;
    const c0 = pidCpuUs(pid);
    gc();
    const s0 = selfCpuUs();
    const w0 = performance.now();
    let ticks = 0;
    const end = Date.now() + STREAM_SECONDS * 1000;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, STREAM_INTERVAL_MS));
      await src.sample(signal);
      ticks++;
    }
    const childUs = pidCpuUs(pid) - c0;
    // Idle waiting is not work: count only CPU, report wall as the sample() call cost ≈ 0.
    gc();
    rows.push({ name: `nvidia-smi -lms ${STREAM_INTERVAL_MS} stream (fallback)`, ticks, selfUs: selfCpuUs() - s0, childUs, wallMs: NaN });
    void w0;
    await src.close();
  }

  // 3. Spawn --query-gpu per sample.
  {
    const q = buildSmiQuery(null);
    const args = [`--query-gpu=${q.names.join(',')}`, '--format=csv,noheader,nounits'];
    await run(smi, args, env);
    gc();
    const s0 = selfCpuUs();
    const c0 = childrenCpuUs();
    const w0 = performance.now();
    for (let i = 0; i < SPAWN_TICKS; i++) {
      const out = await run(smi, args, env);
      const parsed = out.trim().split('\n').map((l) => parseQueryGpuLine(l, q));
      if (parsed.length !== GPUS || parsed.some((r) => r === null)) throw new Error('bad csv');
    }
    gc();
    rows.push({ name: 'spawn nvidia-smi --query-gpu per sample', ticks: SPAWN_TICKS, selfUs: selfCpuUs() - s0, childUs: childrenCpuUs() - c0, wallMs: performance.now() - w0 });
  }

  // 4. Spawn -q -x per sample + XML parse.
  {
    await run(smi, ['-q', '-x'], env);
    gc();
    const s0 = selfCpuUs();
    const c0 = childrenCpuUs();
    const w0 = performance.now();
    for (let i = 0; i < SPAWN_TICKS; i++) {
      const gpus = parseSmiXml(await run(smi, ['-q', '-x'], env));
      if (gpus.length !== GPUS) throw new Error('bad xml');
    }
    gc();
    rows.push({ name: 'spawn nvidia-smi -q -x per sample + XML parse', ticks: SPAWN_TICKS, selfUs: selfCpuUs() - s0, childUs: childrenCpuUs() - c0, wallMs: performance.now() - w0 });
  }

  st.dispose();
  const base = rows[0];
  const per = (r: Row): number => (r.selfUs + r.childUs) / r.ticks;
  console.log(`GPU per-tick cost, ${GPUS} fake GPUs (same state for every path)\n`);
  console.log(['path'.padEnd(48), 'ticks'.padStart(6), 'CPU µs/tick'.padStart(12), '(self+child)'.padStart(16), 'wall ms/tick'.padStart(13), 'vs NVML'.padStart(9)].join(''));
  for (const r of rows) {
    console.log([
      r.name.padEnd(48),
      String(r.ticks).padStart(6),
      per(r).toFixed(1).padStart(12),
      `${(r.selfUs / r.ticks).toFixed(0)}+${(r.childUs / r.ticks).toFixed(0)}`.padStart(16),
      (Number.isNaN(r.wallMs) ? '—' : (r.wallMs / r.ticks).toFixed(3)).padStart(13),
      `${(per(r) / per(base)).toFixed(2)}×`.padStart(9),
    ].join(''));
  }
  const find = (prefix: string): Row => rows.find((r) => r.name.startsWith(prefix))!;
  const spawn = find('spawn nvidia-smi --query-gpu');
  const xml = find('spawn nvidia-smi -q -x');
  const batch = find('  of which');
  console.log(`\nNVML sample() is ${(per(spawn) / per(base)).toFixed(0)}× cheaper than spawning nvidia-smi --query-gpu per sample (target ≥ 50×), ${(per(xml) / per(base)).toFixed(0)}× cheaper than -q -x + XML.`);
  console.log(`The NVML batch alone (worker + shared-memory hand-off, no series) is ${(per(spawn) / per(batch)).toFixed(0)}× cheaper than the per-sample spawn.`);
  console.log('Child CPU comes from /proc clock ticks (10 ms resolution); spawn rows average over many ticks.');
}

// In the bundle, NVML worker threads run this same file: serve them first.
if (!runWorkerIfRequested()) main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
