// The runs source in a real tick loop (collector/collector.ts) on real processes: a PyTorch training
// loop on the CPU (Debian's python3-torch) found by a configured command pattern, and a real Python
// process listed as a GPU process by the fake NVML; its metrics from JSON lines and metrics.csv; its
// end reported within 2 ticks, with the exit status when the process is still a zombie.

import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Collector } from '../../../../collector/collector';
import { createLogger, type Logger } from '../../../../collector/log';
import { gpuFactory } from '../../../../collector/sources/gpu';
import { createRunsSource } from '../../../../collector/sources/runs';
import type { RunsSource } from '../../../../collector/sources/runs';
import type { Source } from '../../../../collector/source';
import type { SampleMessage } from '../../../../protocol';
import type { RunInfo } from '../../../../protocol/details/runs';
import { buildFakeNvml, makeFakeStateDir, writeFakeState } from '../../../fakes/nvml/build';
import { MemoryHistory } from '../../../fakes/test-sources';
import { PYTHON, TRAIN_PY, requireTorch, runsOf, waitReady } from './helpers';

describe('runs source in the tick loop (real Python training)', function () {
  this.timeout(120_000);
  let dir: string;
  let children: ChildProcess[] = [];
  let collector: Collector | undefined;
  let logs: string[];
  let log: Logger;
  before(requireTorch);
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-runs-'));
    logs = [];
    log = createLogger('debug', (l) => logs.push(l));
  });
  afterEach(async () => {
    await collector?.stop();
    collector = undefined;
    for (const c of children) c.kill('SIGKILL');
    children = [];
    delete process.env.FAKE_NVML_STATE;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const ctx = (config: unknown, latest: () => SampleMessage | undefined, env: NodeJS.ProcessEnv = {}) => ({
    config,
    env,
    intervalMs: 1000,
    dataDir: dir,
    log,
    latest,
  });

  /** Started for probing; the 60 s interval leaves the ticking to the test. */
  function start(c: Collector): Collector {
    c.start();
    return c;
  }

  async function tickUntil(c: Collector, pred: (m: SampleMessage) => boolean, max = 200, what = 'condition'): Promise<SampleMessage> {
    for (let i = 0; i < max; i++) {
      const m = await c.tick();
      if (m && pred(m)) return m;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no tick met: ${what}\n${logs.slice(-10).join('\n')}`);
  }

  it('CPU-only run found by a command pattern: process facts, JSON lines + CSV scalars, finished within 2 ticks', async () => {
    const logdir = path.join(dir, 'logs');
    const child = spawn(PYTHON, [TRAIN_PY, '--logdir', logdir, '--steps', '25', '--sleep', '0.15'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    await waitReady(child);
    let c!: Collector;
    const source = createRunsSource(ctx({ auto: false, watch: [{ command: 'train_torch\\.py', name: 'cpu' }] }, () => c.latest()));
    c = collector = start(new Collector([source], 60_000, { history: new MemoryHistory(), log }));
    const m = await tickUntil(c, (x) => runsOf(x).some((r) => r.scalars.some((s) => s.tag === 'train_loss')), 100, 'run with CSV scalars');
    const run = runsOf(m)[0] as RunInfo;
    assert.equal(run.id, `cpu-${child.pid}`);
    assert.equal(run.name, 'cpu');
    assert.equal(run.origin, 'config');
    assert.equal(run.state, 'running');
    assert.equal(run.pids[0], child.pid);
    assert.equal(fs.realpathSync(run.cwd as string), fs.realpathSync(dir));
    assert.equal(run.user, os.userInfo().username);
    assert.match(run.command ?? '', /train_torch\.py --logdir/);
    assert.ok(run.startedAt !== null && Math.abs(run.startedAt - Date.now()) < 120_000, `startedAt ${run.startedAt}`);
    assert.ok(run.elapsedSeconds !== null && run.elapsedSeconds >= 0);
    assert.equal(run.gpus.length, 0);
    // JSON lines (loss, lr, samples_per_sec) and CSV (train_loss) from the --logdir directory.
    const tags = new Set(run.scalars.map((s) => s.tag));
    for (const t of ['loss', 'lr', 'samples_per_sec', 'train_loss']) assert.ok(tags.has(t), `tag ${t} in ${[...tags].join(', ')}`);
    const loss = run.scalars.find((s) => s.tag === 'loss');
    assert.equal(m.series[`run.${run.id}.loss`], loss?.value);
    assert.ok(typeof m.series[`run.${run.id}.loss`] === 'number');
    assert.equal(m.series[`run.${run.id}.up_state`], 1);
    assert.equal(run.throughput?.tag, 'samples_per_sec');
    assert.ok(run.files.some((f) => f.format === 'jsonl') && run.files.some((f) => f.format === 'csv'));

    // The loss falls as it trains; the run ends; the next 2 ticks must say so.
    const first = loss?.value as number;
    await new Promise<void>((r) => child.on('exit', () => r()));
    let ended: RunInfo | undefined;
    for (let i = 0; i < 2 && !ended; i++) ended = runsOf(await c.tick()).find((r) => r.id === run.id && r.state === 'finished');
    assert.ok(ended, 'run reported finished within 2 ticks of its exit');
    assert.equal(ended.lastStep, 25);
    assert.ok((ended.loss?.value as number) < first, `loss fell: ${first} → ${ended.loss?.value}`);
    assert.match(
      ended.summary,
      /^Run cpu \(python3 train_torch\.py .*\) (finished \(exit code 0\)|ended \(exit status unknown\)) after (\d+ s|\d+ min \d+ s) — step 25, loss 0\.\d+$/,
    );
    assert.equal(c.latest()?.series[`run.${run.id}.ended_state`], 1);
  });

  it('exit status is reported when the ended process is still a zombie', async () => {
    // The shell starts the training in the background and becomes `sleep`, which never reaps it.
    const cmd = `${PYTHON} ${TRAIN_PY} --logdir ${dir}/l --steps 3 --sleep 0.5 --exit-code 3 & exec sleep 60`;
    const sh = spawn('sh', ['-c', cmd], { cwd: dir, stdio: 'ignore' });
    children.push(sh);
    let c!: Collector;
    const source = createRunsSource(ctx({ auto: false, watch: [{ command: 'train_torch\\.py' }] }, () => c.latest()));
    c = collector = start(new Collector([source], 60_000, { history: new MemoryHistory(), log }));
    await tickUntil(c, (x) => runsOf(x).length > 0, 200, 'run found');
    const m = await tickUntil(c, (x) => runsOf(x)[0]?.state === 'gone', 200, 'run gone');
    const run = runsOf(m)[0] as RunInfo;
    assert.equal(run.name, 'train_torch.py');
    assert.equal(run.exit, 'exit code 3');
    assert.match(
      run.summary,
      /^Run train_torch\.py \(python3 train_torch\.py .*\) ended \(exit code 3\) after (\d+ s|\d+ min \d+ s) — (step \d+, loss \S+|no metrics logged)$/,
    );
  });

  it('a real Python process listed by the fake NVML is a run on that GPU, with its VRAM', async () => {
    const lib = buildFakeNvml();
    const state = makeFakeStateDir();
    const logdir = path.join(dir, 'out');
    const child = spawn(PYTHON, [TRAIN_PY, '--logdir', logdir, '--steps', '400', '--sleep', '0.1'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    await waitReady(child);
    writeFakeState(state.stateFile, { count: 2, 'gpu.1.compute': `${child.pid}:${3 * 1024 ** 3}`, 'gpu.1.util': 87 });
    process.env.FAKE_NVML_STATE = state.stateFile;
    let c!: Collector;
    const gpu = gpuFactory.create({ ...ctx({ nvmlPath: lib }, () => undefined), env: { PATH: process.env.PATH, FAKE_NVML_STATE: state.stateFile } });
    const source: RunsSource = createRunsSource(ctx(undefined, () => c.latest()));
    c = collector = start(new Collector([...gpu, source as Source], 60_000, { history: new MemoryHistory(), log }));
    const m = await tickUntil(c, (x) => runsOf(x).some((r) => r.gpus.length > 0 && r.scalars.length > 0), 150, 'GPU run with scalars');
    const run = runsOf(m).find((r) => r.pids.includes(child.pid as number)) as RunInfo;
    assert.equal(run.origin, 'gpu');
    assert.equal(run.name, 'train_torch.py');
    assert.deepEqual(run.gpus, [{ index: 1, memoryBytes: 3 * 1024 ** 3 }]);
    assert.equal(m.series[`run.${run.id}.gpu_memory_used_bytes`], 3 * 1024 ** 3);
    assert.equal(m.series[`run.${run.id}.stalled_seconds`], 0);
    assert.ok(
      run.scalars.some((s) => s.tag === 'loss'),
      'metrics found under the --logdir argument with no configuration',
    );
    state.dispose();
  });

  it("a GPU run's owner is the GPU source's attribution of its process (one resolution, with the container's name)", async () => {
    const child = spawn(PYTHON, ['-c', 'import time; print("ready", flush=True); time.sleep(60)', 'train.py'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    await waitReady(child);
    const owner = { kind: 'container' as const, runtime: 'docker' as const, containerId: 'ab'.repeat(32), containerName: 'trainer', image: 'pytorch:2.3' };
    // A snapshot as the GPU source writes it: this process on GPU 0, its owner resolved and named there.
    const latest: SampleMessage = {
      type: 'sample',
      t: Date.now(),
      series: { 'gpu.0.utilization_ratio': 0.9 },
      details: {
        gpu: {
          kind: 'gpu',
          backend: 'nvml',
          driverVersion: null,
          cudaVersion: null,
          devices: [],
          processes: [{ pid: child.pid as number, name: 'python3', user: null, owner, gpuIndex: 0, usedMemoryBytes: 1024, smUtilRatio: null, type: 'compute' }],
        },
      },
    };
    const source = createRunsSource(ctx(undefined, () => latest));
    try {
      assert.equal((await source.probe()).status, 'ready');
      const res = await source.sample();
      const run = (res.details as { runs: RunInfo[] }).runs.find((r) => r.pids.includes(child.pid as number));
      assert.ok(run, 'the GPU process is a run');
      // Its own cgroup cannot name a container "trainer": the label can only come from the GPU source's owner.
      assert.equal(run.container, 'container trainer (pytorch:2.3)');
      assert.deepEqual(run.owner, owner);
    } finally {
      await source.close();
    }
  });
});
