// The per-source series cap of the tick loop (issue 17): a source returning more series than
// limits.maxSeriesPerSource keeps the first N in its own order, the rest are dropped, and one warning
// (once) names the source and how many were dropped. Other sources are untouched.

import { strict as assert } from 'node:assert';
import { Collector } from '../../collector/collector';
import { silentLogger, type Logger } from '../../collector/log';
import { parseLimits } from '../../collector/server/limits';
import { seriesName } from '../../protocol/series';
import { MemoryHistory } from '../fakes/test-sources';
import { DiceSource } from '../fixtures/toy-source/source';

describe('collector: series cap per source', () => {
  it('keeps the first N series of a source, drops the rest and warns once', async () => {
    const warnings: string[] = [];
    const log: Logger = { ...silentLogger, warn: (m: string) => warnings.push(m), child: () => log };
    // 2 series of its own + 100 extra = 102 from the big die; the small one stays whole.
    const big = new DiceSource('toy.big', 100);
    const small = new DiceSource('toy.small');
    // A long interval so only the test drives ticks.
    const c = new Collector([big, small], 60_000, { history: new MemoryHistory(), log, maxSeriesPerSource: 50 });
    c.start();
    for (let i = 0; i < 100 && c.statuses().some((s) => s.state !== 'ready'); i++) await new Promise((r) => setTimeout(r, 10));
    try {
      for (let i = 0; i < 3; i++) {
        const m = (await c.tick())!;
        const bigKeys = Object.keys(m.series).filter((k) => k.startsWith('toy.big.'));
        assert.equal(bigKeys.length, 50, 'the first 50 series of toy.big');
        assert.deepEqual(bigKeys.slice(0, 3), ['toy.big.roll_count', 'toy.big.rolls_total', 'toy.big.face_0_count'], 'in the source order');
        assert.ok(!('toy.big.face_48_count' in m.series), 'series past the cap dropped');
        assert.equal(Object.keys(m.series).filter((k) => k.startsWith('toy.small.')).length, 2, 'another source is untouched');
        assert.equal(m.series[seriesName('collector', 'toy.big', 'up_state')], 1, 'the capped source is still up');
      }
      assert.equal(warnings.length, 1, `one warning: ${warnings.join(' | ')}`);
      assert.match(warnings[0]!, /toy\.big: returned 102 series, over the limit of 50 per source; kept the first 50 and dropped 52/);
    } finally {
      await c.stop();
    }
  });

  it('is configurable as limits.maxSeriesPerSource, with a stated default', () => {
    const d = parseLimits({});
    assert.ok(!('key' in d) && d.maxSeriesPerSource === 10_000);
    const l = parseLimits({ maxSeriesPerSource: 500 });
    assert.ok(!('key' in l) && l.maxSeriesPerSource === 500);
    const bad = parseLimits({ maxSeriesPerSource: 0 });
    assert.ok('key' in bad && bad.key === 'limits.maxSeriesPerSource');
  });
});
