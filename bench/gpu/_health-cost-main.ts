// Measuring half of gpu-health-cost.ts: N sample() ticks of the GPU source on 8 fake GPUs (process CPU,
// which includes the NVML worker threads), and optionally the event thread's CPU while idle.
// Bundled twice by gpu-health-cost.ts: from this tree and from the base revision's sources.
import * as fs from 'node:fs';
import { gpuFactory, type GpuSource } from '../../collector/sources/gpu';
import { createLogger } from '../../collector/log';
import { makeFakeStateDir, writeFakeState } from '../../test/fakes/nvml/build';
import { runWorkerIfRequested } from '../../collector/workers';

const GPUS = 8;
const TICKS = Number(process.env.GPU_BENCH_TICKS ?? 1000);

async function main(): Promise<void> {
  const lib = process.env.GPU_BENCH_NVML as string;
  const idleS = Number(process.env.GPU_BENCH_IDLE_S ?? 0);
  const st = makeFakeStateDir();
  // NVLink (12 active links) and GPM on every GPU: the most calls a tick makes.
  const state: Record<string, string | number> = {
    count: GPUS,
    'gpu.*.compute': '100:1073741824;200:2147483648',
    'gpu.*.putil': '100:40;200:20',
    'gpu.*.nvlinks': 12,
    'gpu.*.gpm': 1,
    // NVLink throughput counters moving (field values → per-link rates), and one GPU in MIG mode with
    // 7 instances sampled per GPU instance (GPM). Older fakes ignore the keys they do not know.
    'gpu.*.nvlink_rx_kibps': 1000000,
    'gpu.*.nvlink_tx_kibps': 500000,
    'gpu.7.mig': 1,
    'gpu.7.mig_instances': 7,
    'gpu.7.mig_mem_used': 1073741824,
    'gpu.7.mig_sm': 10,
  };
  // GPU_BENCH_PLAIN=1: the workload before NVLink throughput and MIG series (to compare with older numbers).
  if (process.env.GPU_BENCH_PLAIN === '1') for (const k of Object.keys(state)) if (k.includes('nvlink_') || k.startsWith('gpu.7.mig')) delete state[k];
  // GPU_BENCH_EXTRA: fake-state keys (JSON) merged over these, to see what one feature costs.
  if (process.env.GPU_BENCH_EXTRA) Object.assign(state, JSON.parse(process.env.GPU_BENCH_EXTRA) as Record<string, string | number>);
  writeFakeState(st.stateFile, state);
  process.env.FAKE_NVML_STATE = st.stateFile;
  const env = { ...process.env, FAKE_NVML_STATE: st.stateFile };
  const log = createLogger('error', () => undefined);
  const [src] = gpuFactory.create({ config: { nvmlPath: lib }, env, intervalMs: 1000, dataDir: st.dir, log, latest: () => undefined }) as GpuSource[];
  const signal = new AbortController().signal;
  const p = await src.probe(signal);
  if (p.status !== 'ready') throw new Error(`probe: ${JSON.stringify(p)}`);
  for (let i = 0; i < 100; i++) await src.sample(signal);
  const c0 = process.cpuUsage();
  const w0 = process.hrtime.bigint();
  for (let i = 0; i < TICKS; i++) await src.sample(signal);
  const c1 = process.cpuUsage(c0);
  const wallUs = Number(process.hrtime.bigint() - w0) / 1000;
  const out: Record<string, number | null> = { cpuUsPerTick: (c1.user + c1.system) / TICKS, wallUsPerTick: wallUs / TICKS };
  if (idleS > 0) {
    await new Promise((r) => setTimeout(r, idleS * 1000));
    await src.close();
    const ns = (src as { eventThreadCpuNs?: number | null }).eventThreadCpuNs ?? null;
    out.eventThreadCpuNs = ns;
    out.idleS = idleS;
  } else await src.close();
  st.dispose();
  fs.writeSync(1, JSON.stringify(out) + '\n');
}

if (!runWorkerIfRequested()) {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
