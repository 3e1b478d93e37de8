// A log directory with 10,000 files: the walk is spread over ticks within its per-tick budget (no
// tick looks at more entries than the budget), and the one event file among them is found and read.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLogger } from '../../../../collector/log';
import { MetricFiles, SCAN_ENTRIES_PER_TICK } from '../../../../collector/sources/runs/metric-files';
import type { MetricPoint } from '../../../../collector/sources/runs/parse';
import { event, simpleValue, tfrecord } from './tb-writer';

describe('runs: a log directory with 10,000 files', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-big-'));
    const ck = path.join(dir, 'checkpoints');
    fs.mkdirSync(ck);
    for (let i = 0; i < 10_000; i++) fs.writeFileSync(path.join(ck, `step-${i}.pt`), '');
    fs.writeFileSync(path.join(ck, 'events.out.tfevents.1.host'), tfrecord(event(9, 1, [simpleValue('loss', 0.5)])));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('walks in slices of at most the per-tick budget and finds the event file', async () => {
    const mf = new MetricFiles([dir], null, createLogger('error'));
    const points: MetricPoint[] = [];
    let ticks = 0;
    let prev = 0;
    let maxPerTick = 0;
    const now = Date.now();
    while (points.length === 0 && ticks < 100) {
      await mf.tick(now, (ps) => points.push(...ps));
      ticks++;
      maxPerTick = Math.max(maxPerTick, mf.entriesSeen - prev);
      prev = mf.entriesSeen;
    }
    assert.deepEqual(
      points.map((p) => [p.tag, p.value, p.step]),
      [['loss', 0.5, 9]],
    );
    assert.ok(maxPerTick <= SCAN_ENTRIES_PER_TICK, `at most ${SCAN_ENTRIES_PER_TICK} entries a tick (saw ${maxPerTick})`);
    assert.ok(ticks >= Math.floor(10_001 / SCAN_ENTRIES_PER_TICK), `spread over ticks (${ticks})`);
    assert.equal(mf.walks, 1);
    await mf.close();
  });
});
