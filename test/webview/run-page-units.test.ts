// The run page's pure parts in Node: its address, scalar text, chart order, the by-step pairing, the saved
// UI state, and the extension's openRun envelope through the VS Code bridge.

import * as assert from 'node:assert/strict';
import type { RunInfo, RunScalar } from '../../protocol/details/runs';
import { VsCodeBridge } from '../../webview/bridge';
import { hashForRun, isRunId, runFromHash } from '../../webview/run-route';
import { NA } from '../../webview/format';
import { fmtScalar, orderedScalars, stepPoints, tagKey } from '../../webview/run-series';
import { parseUiState } from '../../webview/state';

function scalar(id: string, key: string, tag = key): RunScalar {
  return { tag, key: `run.${id}.${key}`, value: 1, text: '1', step: 1, t: 0 };
}

describe('run page: address, scalar text, order and step pairing', () => {
  it('reads #run=<id> (also beside a token), refuses ids the collector cannot have written', () => {
    assert.equal(runFromHash('#run=train-4242'), 'train-4242');
    assert.equal(runFromHash('#token=abc&run=nightly-12-345'), 'nightly-12-345');
    assert.equal(runFromHash(hashForRun('a_b.c-1')), 'a_b.c-1');
    assert.equal(runFromHash('#token=abc'), null);
    assert.equal(runFromHash('#run=%3Cimg%3E'), null, 'markup is not an id');
    assert.equal(runFromHash('#run=%E0%A4%A'), null, 'a malformed escape is ignored');
    assert.equal(runFromHash('#run='), null);
    assert.equal(isRunId('x'.repeat(129)), false);
    assert.equal(hashForRun(null), '');
  });

  it('keeps the run page in the saved UI state only when it is a run id', () => {
    assert.equal(parseUiState({ run: 'train-1' }).run, 'train-1');
    assert.equal(parseUiState({ run: '../../etc' }).run, undefined);
    assert.equal(parseUiState({ run: 7 }).run, undefined);
    assert.equal(parseUiState(undefined).run, undefined);
  });

  it('writes learning rates and losses in significant digits, not rounded to 0', () => {
    assert.equal(fmtScalar(3e-4), '0.0003');
    assert.equal(fmtScalar(2.5e-7), '2.5e-7');
    assert.equal(fmtScalar(0.41234), '0.412');
    assert.equal(fmtScalar(0), '0');
    assert.equal(fmtScalar(1234.5), '1235');
    assert.equal(fmtScalar(null), NA);
  });

  it('charts the loss first, then throughput and learning rate, then the rest as logged', () => {
    const id = 'train-1';
    const r = {
      id,
      scalars: [scalar(id, 'grad_norm'), scalar(id, 'lr'), scalar(id, 'eval_loss'), scalar(id, 'tokens_per_sec'), scalar(id, 'loss')],
      loss: scalar(id, 'loss'),
      throughput: scalar(id, 'tokens_per_sec'),
    } as unknown as RunInfo;
    assert.deepEqual(
      orderedScalars(r).map((s) => tagKey(id, s.key)),
      ['loss', 'eval_loss', 'tokens_per_sec', 'lr', 'grad_norm'],
    );
  });

  it('pairs each value with the step logged at or before it; a held step keeps its last value', () => {
    const values = [
      { x: 1000, y: 2.0 },
      { x: 1500, y: 1.8 },
      { x: 2000, y: 1.8 },
      { x: 2500, y: null },
      { x: 3000, y: 1.2 },
    ];
    const steps = [
      { x: 1000, y: 10 },
      { x: 1500, y: 20 },
      { x: 2000, y: 20 },
      { x: 2500, y: 30 },
      { x: 3000, y: 40 },
    ];
    assert.deepEqual(stepPoints(values, steps), [
      { x: 10, y: 2.0 },
      { x: 20, y: 1.8 },
      { x: 40, y: 1.2 },
    ]);
    // A value before the first step has none to take; no steps at all: nothing to draw.
    assert.deepEqual(stepPoints([{ x: 500, y: 3 }, ...values.slice(0, 1)], steps), [{ x: 10, y: 2.0 }]);
    assert.deepEqual(stepPoints(values, []), []);
  });

  it("the VS Code bridge hands the extension's openRun envelope to the page, and ignores a bad one", () => {
    const target = new EventTarget();
    const opened: string[] = [];
    const b = new VsCodeBridge({ postMessage: () => undefined, getState: () => undefined, setState: () => undefined }, target as unknown as Window);
    const warn = console.warn;
    const warned: string[] = [];
    console.warn = (m: string) => warned.push(m);
    try {
      b.start({ message: () => undefined, connection: () => undefined, openRun: (id) => opened.push(id) });
      const send = (data: unknown): void => {
        const e = new Event('message') as Event & { data: unknown };
        e.data = data;
        target.dispatchEvent(e);
      };
      send({ kind: 'openRun', runId: 'train-42' });
      send({ kind: 'openRun', runId: 42 });
      assert.deepEqual(opened, ['train-42']);
      assert.equal(warned.length, 1);
    } finally {
      console.warn = warn;
      b.dispose();
    }
  });
});
