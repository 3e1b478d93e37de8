// The run-ended alert's words and the run's summary, exactly: exit status where known ("exit status
// unknown" where not), elapsed through the one formatter, last step, and the loss or main metric.

import * as assert from 'node:assert/strict';
import { renderMessage } from '../../../../collector/alerts/format';
import { DEFAULT_RULE_CONFIGS } from '../../../../collector/alerts/rules';
import { runEndedText, runSummaryText, shortCommand, type RunTextInput } from '../../../../collector/sources/runs/text';

const base: RunTextInput = {
  name: 'train.py',
  command: '/usr/bin/python3 /home/alice/proj/train.py --lr 3e-4 --epochs 10',
  ended: true,
  exit: 'exit code 0',
  elapsedMs: (3 * 3600 + 12 * 60 + 4) * 1000,
  lastStep: 5000,
  metric: { tag: 'train/loss', value: 0.41234, isLoss: true },
};

describe('runs: alert and summary text', () => {
  it('run-ended: finished with exit code 0, elapsed, last step and loss', () => {
    assert.equal(runEndedText(base), 'train.py (python3 train.py --lr 3e-4 --epochs 10) finished (exit code 0) after 3 h 12 min — step 5000, loss 0.412');
  });

  it('run-ended: a failure, a signal, and an exit status Rigwatch cannot know', () => {
    assert.equal(
      runEndedText({ ...base, exit: 'exit code 1', elapsedMs: 125_000 }),
      'train.py (python3 train.py --lr 3e-4 --epochs 10) ended (exit code 1) after 2 min 5 s — step 5000, loss 0.412',
    );
    assert.equal(
      runEndedText({ ...base, exit: 'killed by signal 9', elapsedMs: 12_000, metric: { tag: 'loss', value: NaN, isLoss: true } }),
      'train.py (python3 train.py --lr 3e-4 --epochs 10) ended (killed by signal 9) after 12 s — step 5000, loss NaN',
    );
    assert.equal(
      runEndedText({ ...base, exit: null, elapsedMs: 45_000, lastStep: null, metric: null }),
      'train.py (python3 train.py --lr 3e-4 --epochs 10) ended (exit status unknown) after 45 s — no metrics logged',
    );
  });

  it('run-ended: the main metric when no loss is logged; a long command is cut', () => {
    const cmd = `python3 -m torch.distributed.run --nproc_per_node 8 pretrain.py --config ${'x'.repeat(80)}`;
    assert.equal(shortCommand(cmd)?.length, 60);
    assert.equal(
      runEndedText({ ...base, name: 'torchrun', command: cmd, metric: { tag: 'eval/accuracy', value: 0.9312, isLoss: false } }),
      `torchrun (${cmd.slice(0, 59)}…) finished (exit code 0) after 3 h 12 min — step 5000, eval/accuracy 0.931`,
    );
  });

  it('the default run-ended rule says "Run " and the source\'s words', () => {
    const rule = DEFAULT_RULE_CONFIGS.find((r) => r.id === 'run-ended');
    assert.ok(rule);
    const msg = renderMessage(rule.message ?? '', {
      rule: 'run-ended',
      series: 'run.train-4242.ended_state',
      severity: 'warning',
      value: '1',
      threshold: '0.5',
      op: 'above',
      for: '0 s',
      reason: '',
      relativeTo: '',
      subject: runEndedText(base),
      captures: ['train-4242'],
    });
    assert.equal(msg, 'Run train.py (python3 train.py --lr 3e-4 --epochs 10) finished (exit code 0) after 3 h 12 min — step 5000, loss 0.412');
  });

  it('summary of a live run, and of an ended one (the same words as the alert)', () => {
    assert.equal(
      runSummaryText({ ...base, ended: false, exit: null, elapsedMs: 65_000 }, 'running'),
      'Run train.py running for 1 min 5 s — step 5000, loss 0.412',
    );
    assert.equal(runSummaryText(base, 'finished'), `Run ${runEndedText(base)}`);
  });
});
