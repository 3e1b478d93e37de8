// Each default run rule fires end to end: runs source → tick loop → alert engine (default rules),
// on a clock the test moves (10 min of stall or 5 min of low throughput take milliseconds).

import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Collector } from '../../../../collector/collector';
import { createAlertEngine } from '../../../../collector/alerts';
import { createLogger } from '../../../../collector/log';
import { createRunsSource } from '../../../../collector/sources/runs';
import type { AlertEvent, SampleMessage } from '../../../../protocol';
import { MemoryHistory } from '../../../fakes/test-sources';
import { PYTHON, TRAIN_PY, requireTorch, runsOf, waitReady } from './helpers';

describe('runs: default alert rules fire end to end', function () {
  this.timeout(120_000);
  let dir: string;
  let child: ChildProcess | undefined;
  let c: Collector | undefined;
  let clock: number;
  let events: AlertEvent[];
  before(requireTorch);
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-run-alerts-'));
    clock = Date.now();
    events = [];
  });
  afterEach(async () => {
    await c?.stop();
    c = undefined;
    child?.kill('SIGKILL');
    child = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function setup(config: unknown): Promise<Collector> {
    const log = createLogger('error');
    const now = (): number => clock;
    const alerts = await createAlertEngine({ config: undefined, file: path.join(dir, 'alerts.json'), log });
    let col!: Collector;
    const source = createRunsSource({ config, env: {}, intervalMs: 1000, dataDir: dir, log, latest: () => col.latest() }, { now });
    col = c = new Collector([source], 60_000, { history: new MemoryHistory(), log, alerts, now });
    col.on('alert', (e: AlertEvent[]) => events.push(...e));
    col.start();
    for (let i = 0; i < 100 && col.statuses()[0]?.state !== 'ready'; i++) await new Promise((r) => setTimeout(r, 20));
    return col;
  }

  const firing = (rule: string): AlertEvent | undefined => events.find((e) => e.alert.ruleId === rule && e.transition === 'firing');

  async function tickUntil(col: Collector, pred: (m: SampleMessage) => boolean, stepMs: number, max: number, what: string): Promise<SampleMessage> {
    for (let i = 0; i < max; i++) {
      clock += stepMs;
      const m = await col.tick();
      if (m && pred(m)) return m;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`not reached: ${what}; events: ${events.map((e) => `${e.alert.ruleId} ${e.transition}`).join(', ')}`);
  }

  it('run-loss-nonfinite (critical) when the loss turns NaN, then run-ended with exit status, elapsed, step and loss', async () => {
    child = spawn(PYTHON, [TRAIN_PY, '--logdir', path.join(dir, 'l'), '--steps', '8', '--sleep', '0.4', '--nan-at', '4'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await waitReady(child);
    const col = await setup({ auto: false, watch: [{ command: 'train_torch\\.py', name: 'nan' }] });
    await tickUntil(col, () => firing('run-loss-nonfinite') !== undefined, 1000, 200, 'run-loss-nonfinite');
    const nf = firing('run-loss-nonfinite') as AlertEvent;
    assert.equal(nf.alert.severity, 'critical');
    assert.equal(nf.alert.series, `run.nan-${child.pid}.loss_nonfinite_state`);
    assert.equal(nf.alert.message, `Run nan-${child.pid}: loss is NaN or infinite`);
    assert.equal(nf.notify, true);
    const nanRun = runsOf(col.latest())[0];
    assert.equal(nanRun?.loss?.text, 'NaN');
    assert.equal(col.latest()?.series[`run.nan-${child.pid}.loss`], null, 'NaN travels as null; the text says NaN');
    await new Promise<void>((r) => (child as ChildProcess).on('exit', () => r()));
    await tickUntil(col, () => firing('run-ended') !== undefined, 1000, 2, 'run-ended within 2 ticks');
    // The words a user needs: name, short command, exit status (reaped by Node here: unknown), elapsed,
    // last step and loss. The elapsed time depends on the test clock; the rest is exact.
    const ended = firing('run-ended')?.alert.message ?? '';
    const cmd = `python3 train_torch.py --logdir ${path.join(dir, 'l')} --steps 8 --sleep 0.4 --nan-at 4`;
    const short = cmd.length > 60 ? `${cmd.slice(0, 59)}…` : cmd;
    const m = /^(.*) ended \(exit status unknown\) after (\d+ s|\d+ min \d+ s) — (.*)$/.exec(ended);
    assert.ok(m, ended);
    assert.equal(m[1], `Run nan (${short})`);
    assert.equal(m[3], 'step 8, loss NaN');
  });

  it('run-stalled after 10 min alive without new metrics', async () => {
    // Two steps, then a long sleep: alive, not advancing.
    child = spawn(PYTHON, [TRAIN_PY, '--logdir', path.join(dir, 'l'), '--steps', '3', '--sleep', '120'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    await waitReady(child);
    const col = await setup({ auto: false, watch: [{ command: 'train_torch\\.py', name: 'stuck' }] });
    await tickUntil(col, (m) => (runsOf(m)[0]?.scalars.length ?? 0) > 0, 1000, 200, 'first metrics');
    const m = await tickUntil(col, () => firing('run-stalled') !== undefined, 61_000, 12, 'run-stalled');
    assert.equal(runsOf(m)[0]?.state, 'stalled');
    assert.match(firing('run-stalled')?.alert.message ?? '', /^Run stuck-\d+ made no progress for \d+ (min|s)\b/);
    assert.ok(!firing('run-ended'));
  });

  it('run-throughput-drop when samples/s stays under half its 1 h median for 5 min (log-dir watch)', async () => {
    const logdir = path.join(dir, 'logs');
    fs.mkdirSync(logdir);
    const file = path.join(logdir, 'train.jsonl');
    fs.writeFileSync(file, '');
    const col = await setup({ auto: false, watch: [{ name: 'tput', logDir: logdir }] });
    let step = 0;
    const write = (sps: number): void => fs.appendFileSync(file, JSON.stringify({ step: ++step, loss: 1 / step, train_samples_per_second: sps }) + '\n');
    for (let i = 0; i < 60; i++) {
      write(1000 + (i % 5));
      clock += 10_000;
      await col.tick();
    }
    assert.ok(!firing('run-throughput-drop'));
    const m = await tickUntil(
      col,
      () => {
        write(300);
        return firing('run-throughput-drop') !== undefined;
      },
      10_000,
      40,
      'run-throughput-drop',
    );
    assert.equal(m.series['run.tput.throughput_per_second'], 300);
    const e = firing('run-throughput-drop') as AlertEvent;
    assert.equal(e.alert.series, 'run.tput.throughput_per_second');
    // It waited its 5 minutes.
    assert.ok(e.t - (e.alert.activeSince ?? e.t) >= 300_000, `active ${e.t - e.alert.activeSince} ms before firing`);
  });
});
