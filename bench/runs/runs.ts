// Benchmark of the runs source (nothing is asserted):
//  1. CPU per MB of new TensorBoard events: 1 MB of scalar events appended, then one read.
//  2. Tick cost with 5 active runs vs none: the source's sample() on a clock moved 1 s per call (so
//     the 5 s process-table search happens in both), each run's JSON-lines and event files growing
//     every tick. Ticks interleave the two cases; prints medians and the median same-round difference.

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLogger } from '../../collector/log';
import { createRunsSource } from '../../collector/sources/runs';
import { MetricFiles } from '../../collector/sources/runs/metric-files';
import { event, simpleValue, tensorValue, tfrecord } from '../../test/collector/sources/runs/tb-writer';

const log = createLogger('error');
const MB = 1024 * 1024;

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] as number;
}

function eventsOfSize(bytes: number, fromStep: number): Buffer {
  const parts: Buffer[] = [];
  let n = 0;
  let step = fromStep;
  while (n < bytes) {
    const rec = tfrecord(
      event(step, 1.7e9 + step, [simpleValue('train/loss', 1 / step), simpleValue('lr', 1e-4), tensorValue('tokens_per_sec', 5000, 'float_val')]),
    );
    parts.push(rec);
    n += rec.length;
    step++;
  }
  return Buffer.concat(parts);
}

async function perMb(dir: string): Promise<void> {
  const file = path.join(dir, 'events.out.tfevents.1.bench');
  fs.writeFileSync(file, '');
  const mf = new MetricFiles([dir], null, log);
  await mf.tick(Date.now(), () => undefined);
  const samples: number[] = [];
  let step = 1;
  let points = 0;
  for (let r = 0; r < 10; r++) {
    const chunk = eventsOfSize(MB, step);
    step += 1e6;
    fs.appendFileSync(file, chunk);
    const c0 = cpuMs();
    await mf.tick(Date.now(), (ps) => (points += ps.length));
    samples.push(((cpuMs() - c0) * MB) / chunk.length);
  }
  await mf.close();
  console.log(`TensorBoard events: ${median(samples).toFixed(1)} ms CPU per MB (median of 10; ${Math.round(points / 10)} scalars per MB)`);
}

async function tickCost(dir: string): Promise<void> {
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  for (let i = 0; i < 5; i++) {
    const d = path.join(dir, `run${i}`);
    fs.mkdirSync(d);
    dirs.push(d);
    children.push(spawn('sh', ['-c', `sleep 600; : rwbench-run --logdir ${d}`], { cwd: d, stdio: 'ignore' }));
  }
  let clock = Date.now();
  const now = (): number => clock;
  const mk = (pattern: string) =>
    createRunsSource(
      { config: { auto: false, watch: [{ command: pattern }] }, env: {}, intervalMs: 1000, dataDir: dir, log, latest: () => undefined },
      { now },
    );
  const active = mk('rwbench-run');
  const none = mk('no-such-command-rwbench');
  await active.probe();
  await none.probe();
  let step = 1;
  const grow = (): void => {
    for (const d of dirs) {
      fs.appendFileSync(path.join(d, 'metrics.jsonl'), JSON.stringify({ step, loss: 1 / step, tokens_per_sec: 5000 }) + '\n');
      fs.appendFileSync(path.join(d, 'events.out.tfevents.1.bench'), tfrecord(event(step, 1.7e9 + step, [simpleValue('loss', 1 / step)])));
    }
    step++;
  };
  // Warm up: discovery, the first walks, and the JIT (a collector runs for days: steady state counts).
  for (let i = 0; i < 100; i++) {
    grow();
    clock += 1000;
    await active.sample();
    await none.sample();
  }
  const runs = ((await active.sample()).details as { runs: unknown[] }).runs.length;
  const a: number[] = [];
  const b: number[] = [];
  const ROUNDS = 15;
  for (let r = 0; r < ROUNDS; r++) {
    let ca = 0;
    let cb = 0;
    for (let i = 0; i < 20; i++) {
      grow();
      clock += 1000;
      let c0 = cpuMs();
      await active.sample();
      ca += cpuMs() - c0;
      c0 = cpuMs();
      await none.sample();
      cb += cpuMs() - c0;
    }
    a.push(ca / 20);
    b.push(cb / 20);
  }
  await active.close();
  await none.close();
  for (const c of children) c.kill('SIGKILL');
  const ma = median(a);
  const mb = median(b);
  // The same round's two cases share the machine's load: their difference is the fairer number.
  const added = median(a.map((x, i) => x - (b[i] as number)));
  console.log(`tick cost (CPU per sample, median of ${ROUNDS} rounds × 20): ${runs} active runs ${ma.toFixed(3)} ms, no runs ${mb.toFixed(3)} ms`);
  console.log(`added by 5 active runs: ${added.toFixed(3)} ms per tick (median of same-round differences; target < 1 ms); ratio ${(ma / mb).toFixed(2)}×`);
}

void (async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-bench-runs-'));
  try {
    // RUNS_BENCH_PART=tick runs only the tick-cost part.
    if (process.env.RUNS_BENCH_PART !== 'tick') await perMb(dir);
    await tickCost(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
})();
