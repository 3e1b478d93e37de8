// The measuring half of attribution.ts, run as an esbuild bundle.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gpuFactory, type GpuSource } from '../../collector/sources/gpu';
import { createLogger } from '../../collector/log';
import { makeFakeStateDir, writeFakeState } from '../../test/fakes/nvml/build';
import { runWorkerIfRequested } from '../../collector/workers';

const GPUS = 8;
const PER_GPU = 50;
const ROUNDS = 15;
const TICKS = 300;
const FIRST_PID = 100000;

function cgroupOf(i: number): string {
  const id = i.toString(16).padStart(64, 'a');
  if (i % 3 === 0) return `0::/system.slice/docker-${id}.scope\n`;
  if (i % 3 === 1)
    return `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0c4a7d2e_9b1f_4e3a_8c6d_${i.toString(16).padStart(12, '0')}.slice/cri-containerd-${id}.scope\n`;
  return `0::/user.slice/user-1000.slice/user@1000.service/app.slice/job-${i}.service\n`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const proc = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-bench-proc-'));
  fs.writeFileSync(path.join(proc, 'stat'), 'cpu 1 2 3\nbtime 1700000000\n');
  fs.mkdirSync(path.join(proc, '1'));
  fs.writeFileSync(path.join(proc, '1', 'status'), 'Name:\tinit\nUid:\t0\t0\t0\t0\nNSpid:\t1\n');
  fs.symlinkSync('1', path.join(proc, 'self'));
  const st = makeFakeStateDir();
  const state: Record<string, string | number> = { count: GPUS };
  for (let g = 0; g < GPUS; g++) {
    const list: string[] = [];
    const util: string[] = [];
    for (let k = 0; k < PER_GPU; k++) {
      const i = g * PER_GPU + k;
      const pid = FIRST_PID + i;
      const d = path.join(proc, String(pid));
      fs.mkdirSync(d);
      fs.writeFileSync(path.join(d, 'stat'), `${pid} (python3) S 1 ${pid} ${pid} 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 ${5000 + i} 1000 10 1`);
      fs.writeFileSync(path.join(d, 'cmdline'), ['/usr/bin/python3', '-u', `train_${i}.py`, '--epochs', '10'].join('\0') + '\0');
      fs.writeFileSync(path.join(d, 'comm'), 'python3\n');
      fs.writeFileSync(path.join(d, 'status'), `Name:\tpython3\nUid:\t1000\t1000\t1000\t1000\nNSpid:\t${pid}\t${i + 7}\n`);
      fs.writeFileSync(path.join(d, 'cgroup'), cgroupOf(i));
      list.push(`${pid}:${(k + 1) * 1024 ** 2}`);
      util.push(`${pid}:${k % 7}`);
    }
    state[`gpu.${g}.compute`] = list.join(';');
    state[`gpu.${g}.putil`] = util.join(';');
  }
  writeFakeState(st.stateFile, state);
  process.env.FAKE_NVML_STATE = st.stateFile;
  const env = { ...process.env, FAKE_NVML_STATE: st.stateFile, RIGWATCH_PROC_ROOT: proc };
  const log = createLogger('error');
  const signal = new AbortController().signal;
  const make = async (attribution: boolean): Promise<GpuSource> => {
    const [s] = gpuFactory.create({
      config: { nvmlPath: process.env.GPU_BENCH_NVML, attribution, kubeletUrl: false },
      env,
      intervalMs: 1000,
      dataDir: st.dir,
      log,
      latest: () => undefined,
    }) as GpuSource[];
    const p = await s.probe(signal);
    if (p.status !== 'ready') throw new Error(JSON.stringify(p));
    return s;
  };
  const on = await make(true);
  const off = await make(false);
  const check = async (s: GpuSource, owner: boolean): Promise<void> => {
    const r = await s.sample(signal);
    const procs = (r.details as { processes: { owner?: unknown }[] }).processes;
    if (procs.length !== GPUS * PER_GPU) throw new Error(`expected ${GPUS * PER_GPU} processes, got ${procs.length}`);
    if (owner !== (procs[0].owner !== undefined)) throw new Error('attribution state not as configured');
  };
  for (let i = 0; i < 300; i++) {
    await check(on, true);
    await check(off, false);
  }
  const cpu = (): number => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  const measure = async (s: GpuSource): Promise<number> => {
    (globalThis as { gc?: () => void }).gc?.();
    const c0 = cpu();
    for (let i = 0; i < TICKS; i++) await s.sample(signal);
    return (cpu() - c0) / TICKS;
  };
  const a: number[] = [];
  const b: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const x = await measure(off);
    const y = await measure(on);
    b.push(x);
    a.push(y);
    ratios.push(y / x);
  }
  await on.close();
  await off.close();
  st.dispose();
  fs.rmSync(proc, { recursive: true, force: true });
  console.log(`GPU sample() CPU per tick, ${GPUS} fake GPUs × ${PER_GPU} processes, median of ${ROUNDS} interleaved rounds of ${TICKS} ticks`);
  console.log(`  attribution off (pid, name, user): ${median(b).toFixed(0)} µs/tick`);
  console.log(
    `  attribution on  (+ command, start, owner, NSpid, names joined; read once per (pid, start time), ≤ 4 start-time re-checks/tick through held stat descriptors): ${median(a).toFixed(0)} µs/tick`,
  );
  console.log(`  on / off: median ${median(ratios).toFixed(3)}× (rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')}; target ≤ 1.20×)`);
}

if (!runWorkerIfRequested())
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
