// The Runs group of the Services tree, the status-bar tooltip's runs and run notifications, from a
// snapshot carrying the runs source's details.

import * as assert from 'node:assert/strict';
import type { RunInfo } from '../../protocol/details/runs';
import { servicesTree } from '../../extension/views/services-model';
import { runAlertMessage, runDescription } from '../../extension/views/runs-model';
import { viewFormat } from '../../client/views/view-format';

const formatNumber = viewFormat((s) => s).number;
import { statusTooltip } from '../../extension/views/status-text';
import type { TreeNode } from '../../extension/views/tree-node';
import { liveSnapshot, SOURCES, twoGpuSample } from './fixtures';

function run(extra: Partial<RunInfo> = {}): RunInfo {
  return {
    id: 'train-4242',
    name: 'train.py',
    state: 'running',
    origin: 'gpu',
    command: 'python train.py --logdir runs',
    cwd: '/work',
    user: 'ada',
    container: null,
    pids: [4242, 4250],
    startedAt: 1_700_000_000_000 - 11_520_000,
    endedAt: null,
    elapsedSeconds: 11_520,
    exit: null,
    gpus: [{ index: 1, memoryBytes: 10 * 1024 ** 3 }],
    lastStep: 5000,
    loss: { tag: 'train/loss', key: 'run.train-4242.train_loss', value: 0.41, text: '0.41', step: 5000, t: 1 },
    throughput: { tag: 'tokens_per_sec', key: 'run.train-4242.tokens_per_sec', value: 1234, text: '1234', step: 5000, t: 1 },
    stalledSeconds: 0,
    scalars: [
      { tag: 'train/loss', key: 'run.train-4242.train_loss', value: 0.41, text: '0.41', step: 5000, t: 1 },
      { tag: 'lr', key: 'run.train-4242.lr', value: 0.0001, text: '0.0001', step: 5000, t: 1 },
      { tag: 'tokens_per_sec', key: 'run.train-4242.tokens_per_sec', value: 1234, text: '1234', step: 5000, t: 1 },
    ],
    files: [{ path: '/work/runs/events.out.tfevents.1', format: 'tensorboard', problem: '1 corrupt record(s) skipped' }],
    summary: 'Run train.py running for 3 h 12 min — step 5000, loss 0.41',
    ...extra,
  };
}

function find(nodes: TreeNode[], id: string): TreeNode | undefined {
  for (const n of nodes) {
    if (n.id === id) return n;
    const c = find(n.children ?? [], id);
    if (c) return c;
  }
  return undefined;
}

function snapshotWith(runs: RunInfo[]) {
  const s = twoGpuSample();
  s.details.runs = { kind: 'runs', runs, notes: [] };
  return liveSnapshot(s, [], [...SOURCES, { id: 'runs', kind: 'runs', state: 'ready' }]);
}

describe('runs in the extension views', () => {
  it('a Runs group with state, elapsed, step, loss, throughput, GPUs; tooltip lists every scalar', () => {
    const snap = snapshotWith([
      run(),
      run({
        id: 'eval-7',
        name: 'eval.py',
        state: 'finished',
        gpus: [],
        loss: null,
        throughput: null,
        lastStep: null,
        scalars: [],
        files: [],
        elapsedSeconds: 300,
      }),
    ]);
    const tree = servicesTree([snap]);
    const group = find(tree, `conn/${snap.id}/runs`);
    assert.ok(group, 'Runs group present');
    assert.equal(group.description, '1 active');
    const row = find(tree, `conn/${snap.id}/run/train-4242`) as TreeNode;
    assert.equal(row.label, 'train.py');
    assert.equal(row.description, 'running · 3 h 12 min · step 5000 · loss 0.41 · 1234 tok/s · GPU 1');
    for (const t of ['train/loss', 'lr', 'tokens\\_per\\_sec']) assert.ok((row.tooltip ?? '').includes(t), `tooltip has ${t}: ${row.tooltip}`);
    assert.match(row.tooltip ?? '', /1 corrupt record/);
    assert.equal(find(tree, `conn/${snap.id}/run/eval-7`)?.description, 'finished · 5 min');
  });

  it('without runs the group says how runs are found', () => {
    const snap = snapshotWith([]);
    const tree = servicesTree([snap]);
    assert.equal(find(tree, `conn/${snap.id}/runs`)?.description, '0 active');
    assert.equal(find(tree, `conn/${snap.id}/runs/none`)?.label, 'No training runs');
  });

  it('gone runs say how they ended', () => {
    assert.equal(
      runDescription(run({ state: 'gone', exit: 'exit code 1', gpus: [], throughput: null }), { number: formatNumber }),
      'ended (exit code 1) · 3 h 12 min · step 5000 · loss 0.41',
    );
  });

  it('the status-bar tooltip names runs on the shown GPUs with their last loss', () => {
    const tip = statusTooltip(snapshotWith([run(), run({ id: 'cpu-1', name: 'cpu.py', gpus: [] })]));
    assert.match(tip, /train\\?\.py on GPU 1: running · loss 0\.41 · step 5000/);
    assert.doesNotMatch(tip, /cpu\\?\.py/);
  });

  it('run notifications read as sentences about the run', () => {
    const runs = [run({ state: 'finished', summary: 'Run train.py finished after 3 h 12 min — step 5000, loss 0.41' })];
    assert.equal(
      runAlertMessage('run-ended', 'run.train-4242.ended_state', 'Run train-4242 ended', runs),
      'Run train.py finished after 3 h 12 min — step 5000, loss 0.41',
    );
    assert.equal(
      runAlertMessage('run-loss-nonfinite', 'run.train-4242.loss_nonfinite_state', 'Run train-4242: loss is NaN or infinite', runs),
      'Run train.py: loss is NaN or infinite',
    );
    assert.equal(runAlertMessage('gpu-temperature', 'gpu.0.temperature_celsius', 'GPU 0 hot', runs), 'GPU 0 hot');
    assert.equal(runAlertMessage('run-ended', 'run.other-1.ended_state', 'Run other-1 ended', runs), 'Run other-1 ended');
  });
});
