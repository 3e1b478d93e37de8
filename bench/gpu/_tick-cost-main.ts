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
const ROUNDS = 5;
const NVML_TICKS = 1000;
const SPAWN_TICKS = 40;
const STREAM_TICKS = 30;
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

/** Full GC (node --expose-gc) before each measured window, so no window inherits another's garbage. */
function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function selfCpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
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
      bus: m[1],
      name: leaf('product_name'),
      uuid: leaf('uuid'),
      total: num('total'),
      used: num('used'),
      util: num('gpu_util'),
      memUtil: num('memory_util'),
      temp: num('gpu_temp'),
      power: num('power_draw'),
      limit: num('current_power_limit'),
      sm: num('sm_clock'),
      mem: num('mem_clock'),
      fan: num('fan_speed'),
      pstate: leaf('performance_state'),
    });
  }
  return out;
}

/** Measures `fn` over `ticks` calls: CPU µs per tick (self + children) and wall ms per tick. */
async function measure(
  ticks: number,
  fn: () => Promise<void>,
  childUs: () => number = childrenCpuUs,
): Promise<{ cpu: number; self: number; child: number; wall: number }> {
  gc();
  const s0 = selfCpuUs();
  const c0 = childUs();
  const w0 = performance.now();
  for (let i = 0; i < ticks; i++) await fn();
  // No forced GC inside the window: a full GC costs in proportion to the live heap, not to this path's
  // garbage, and would inflate the rows with few ticks. Young-generation GCs during the loop are counted.
  const self = (selfCpuUs() - s0) / ticks;
  const child = (childUs() - c0) / ticks;
  return { cpu: self + child, self, child, wall: (performance.now() - w0) / ticks };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
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

  const [nvml] = gpuFactory.create({ config: { nvmlPath: lib }, env, intervalMs: 1000, dataDir: st.dir, log, latest: () => undefined }) as GpuSource[];
  const p = await nvml.probe(signal);
  if (p.status !== 'ready') throw new Error(`NVML probe: ${JSON.stringify(p)}`);
  const raw = await NvmlBackend.open({ libPath: lib, initTimeoutMs: 10_000, callTimeoutMs: 2000, log });
  if (!raw.ok) throw new Error(raw.message);
  const q = buildSmiQuery(null);
  const csvArgs = [`--query-gpu=${q.names.join(',')}`, '--format=csv,noheader,nounits'];

  const nvmlSample = async (): Promise<void> => {
    const r = await nvml.sample(signal);
    if (r.series['gpu.7.temperature_celsius'] !== 47) throw new Error('unexpected NVML value');
  };
  const nvmlBatch = async (): Promise<void> => {
    await raw.backend.read(signal);
  };
  const spawnCsv = async (): Promise<void> => {
    const out = await run(smi, csvArgs, env);
    const parsed = out
      .trim()
      .split('\n')
      .map((l) => parseQueryGpuLine(l, q));
    if (parsed.length !== GPUS || parsed.some((r) => r === null)) throw new Error('bad csv');
  };
  const spawnXml = async (): Promise<void> => {
    const gpus = parseSmiXml(await run(smi, ['-q', '-x'], env));
    if (gpus.length !== GPUS) throw new Error('bad xml');
  };

  // Warm-up: JIT (including background compiles) and caches, so rounds measure the steady state.
  for (let i = 0; i < 3000; i++) {
    await nvmlSample();
    await nvmlBatch();
  }
  for (let i = 0; i < 10; i++) {
    await spawnCsv();
    await spawnXml();
  }

  // Interleaved rounds: every path sees the same machine load; the median round is reported.
  const names = [
    'NVML sample() (koffi, worker, 1 batch/tick)',
    '  of which: NVML batch only (no series)',
    'spawn nvidia-smi --query-gpu per sample',
    'spawn nvidia-smi -q -x per sample + XML',
  ];
  const results: { cpu: number; self: number; child: number; wall: number }[][] = names.map(() => []);
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    results[0].push(await measure(NVML_TICKS, nvmlSample));
    results[1].push(await measure(NVML_TICKS, nvmlBatch));
    results[2].push(await measure(SPAWN_TICKS, spawnCsv));
    results[3].push(await measure(SPAWN_TICKS, spawnXml));
    ratios.push(results[2][round].cpu / results[0][round].cpu);
  }
  raw.backend.close();
  await nvml.close();

  // The shipped fallback: one streaming child (its CPU read from /proc), measured once.
  const [fallback] = gpuFactory.create({
    config: { backend: 'nvidia-smi', nvidiaSmiPath: smi, processIntervalMs: 60_000 },
    env,
    intervalMs: STREAM_INTERVAL_MS,
    dataDir: st.dir,
    log,
    latest: () => undefined,
  }) as GpuSource[];
  const fp = await fallback.probe(signal);
  if (fp.status !== 'ready') throw new Error(`smi probe: ${JSON.stringify(fp)}`);
  const tickStream = async (): Promise<void> => {
    await new Promise((r) => setTimeout(r, STREAM_INTERVAL_MS));
    await fallback.sample(signal);
  };
  for (let i = 0; i < 20; i++) await tickStream();
  const pid = fallback.smiBackend!.childPid!;
  const stream = await measure(STREAM_TICKS, tickStream, () => pidCpuUs(pid));
  await fallback.close();
  st.dispose();

  const base = median(results[0].map((r) => r.cpu));
  console.log(`GPU per-tick cost, ${GPUS} fake GPUs, same driver state for every path; median of ${ROUNDS} interleaved rounds\n`);
  console.log(['path'.padEnd(46), 'CPU µs/tick'.padStart(12), 'self+child'.padStart(13), 'wall µs/tick'.padStart(13), 'vs NVML'.padStart(9)].join(''));
  const line = (name: string, cpu: number, self: number, child: number, wall: number | null): void =>
    console.log(
      [
        name.padEnd(46),
        cpu.toFixed(1).padStart(12),
        `${self.toFixed(0)}+${child.toFixed(0)}`.padStart(13),
        (wall === null ? '—' : wall.toFixed(0)).padStart(13),
        `${(cpu / base).toFixed(2)}×`.padStart(9),
      ].join(''),
    );
  names.forEach((n, i) => {
    const rs = results[i];
    line(n, median(rs.map((r) => r.cpu)), median(rs.map((r) => r.self)), median(rs.map((r) => r.child)), median(rs.map((r) => r.wall)) * 1000);
  });
  line(`nvidia-smi -lms ${STREAM_INTERVAL_MS} stream (the fallback), per tick`, stream.cpu, stream.self, stream.child, null);
  const xmlRatios = results[3].map((r, i) => r.cpu / results[0][i].cpu);
  const batchRatios = results[2].map((r, i) => r.cpu / results[1][i].cpu);
  console.log(
    `\nspawn --query-gpu / NVML sample(): median ${median(ratios).toFixed(0)}× (rounds: ${ratios.map((r) => r.toFixed(0)).join(', ')}; target ≥ 50×)`,
  );
  console.log(`spawn -q -x + XML / NVML sample(): median ${median(xmlRatios).toFixed(0)}×`);
  console.log(`spawn --query-gpu / NVML batch alone: median ${median(batchRatios).toFixed(0)}×`);
  console.log('Child CPU comes from /proc clock ticks (10 ms resolution), averaged over each round; wall time includes waiting.');
}

// In the bundle, NVML worker threads run this same file: serve them first.
if (!runWorkerIfRequested())
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
