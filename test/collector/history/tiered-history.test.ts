import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TieredHistory, HISTORY_MAGIC } from '../../../collector/history';
import { createLogger, silentLogger, type Logger } from '../../../collector/log';
import type { HistoryPoint } from '../../../protocol';

// Aligned to 5 minutes so every tier's buckets start exactly at T0.
const T0 = 1_700_000_100_000 - (1_700_000_100_000 % 300_000);
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function capture(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger('info', (l) => lines.push(l)), lines };
}

describe('TieredHistory', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-hist-'));
    file = path.join(dir, 'history.bin');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const open = (intervalMs = 1000, extra: { maxSeries?: number; log?: Logger } = {}): Promise<TieredHistory> =>
    TieredHistory.open({ file, intervalMs, log: extra.log ?? silentLogger, maxSeries: extra.maxSeries });

  /** Records series `a` = k at T0 + k s for k in [0, n). */
  function ramp(h: TieredHistory, n: number, name = 'host.a_count'): void {
    for (let k = 0; k < n; k++) h.record(T0 + k * 1000, { [name]: k });
  }

  it('keeps min/avg/max per 10 s bucket (hand-computed)', async () => {
    const h = await open();
    ramp(h, 60);
    // Two hours later raw no longer covers T0, so the 10 s tier answers; 6 buckets fit 6 points.
    const a = h.query({ series: ['host.a_count'], from: T0, to: T0 + MIN - 1, points: 6 }, T0 + 2 * HOUR);
    assert.equal(a.series[0]!.stepMs, 10_000);
    assert.deepEqual(
      a.series[0]!.points,
      [0, 1, 2, 3, 4, 5].map((j): HistoryPoint => [T0 + j * 10_000, 10 * j, 10 * j + 4.5, 10 * j + 9]),
    );
    // Budget 3: buckets merged in pairs (sum/count weighted, not an average of averages).
    const b = h.query({ series: ['host.a_count'], from: T0, to: T0 + MIN - 1, points: 3 }, T0 + 2 * HOUR);
    assert.equal(b.series[0]!.stepMs, 20_000);
    assert.deepEqual(b.series[0]!.points, [
      [T0, 0, 9.5, 19],
      [T0 + 20_000, 20, 29.5, 39],
      [T0 + 40_000, 40, 49.5, 59],
    ]);
  });

  it('stores bucket min/max in 4 bytes rounded outwards: never inside the true range, avg exact', async () => {
    const h = await open();
    for (const [i, v] of [
      [0, 0.1],
      [1, 0.7],
      [2, 0.3],
    ] as const)
      h.record(T0 + i * 1000, { 'a.x_ratio': v });
    for (const [i, v] of [
      [0, 25_276_063_745],
      [1, 25_276_063_741],
    ] as const)
      h.record(T0 + i * 1000, { 'a.y_bytes': v });
    for (const [i, v] of [
      [0, -1e-9],
      [1, 1e-9],
    ] as const)
      h.record(T0 + i * 1000, { 'a.z_count': v });
    const q = (name: string): HistoryPoint => h.query({ series: [name], from: T0, to: T0 + 9999, points: 1 }, T0 + 2 * HOUR).series[0]!.points[0]!;
    const check = (name: string, lo: number, avg: number, hi: number): void => {
      const [, min, a, max] = q(name);
      assert.ok(min! <= lo && lo - min! <= Math.abs(lo) * 1.2e-7 + 1e-44, `${name} min ${min} vs ${lo}`);
      assert.ok(max! >= hi && max! - hi <= Math.abs(hi) * 1.2e-7 + 1e-44, `${name} max ${max} vs ${hi}`);
      assert.equal(a, avg, `${name} avg`);
    };
    check('a.x_ratio', 0.1, (0.1 + 0.7 + 0.3) / 3, 0.7);
    check('a.y_bytes', 25_276_063_741, 25_276_063_743, 25_276_063_745);
    check('a.z_count', -1e-9, 0, 1e-9);
  });

  it('merges raw samples on an aligned grid when they exceed the budget', async () => {
    const h = await open();
    ramp(h, 60);
    const a = h.query({ series: ['host.a_count'], from: T0, to: T0 + MIN - 1, points: 10 }, T0 + MIN);
    assert.equal(a.series[0]!.stepMs, 6000);
    assert.deepEqual(
      a.series[0]!.points,
      Array.from({ length: 10 }, (_, j): HistoryPoint => [T0 + j * 6000, 6 * j, 6 * j + 2.5, 6 * j + 5]),
    );
    // Within budget: the raw samples themselves, exact times.
    const b = h.query({ series: ['host.a_count'], from: T0 + 10_000, to: T0 + 12_000 }, T0 + MIN);
    assert.deepEqual(b.series[0]!.points, [
      [T0 + 10_000, 10, 10, 10],
      [T0 + 11_000, 11, 11, 11],
      [T0 + 12_000, 12, 12, 12],
    ]);
  });

  it('keeps gaps null: missing ticks and null values are never zeros and do not drag the average', async () => {
    const h = await open();
    for (let k = 0; k < 60; k++) {
      if (k >= 10 && k < 30) continue; // collector down for 20 s
      h.record(T0 + k * 1000, { 'host.a_count': k === 31 || (k >= 40 && k < 50) ? null : k });
    }
    const a = h.query({ series: ['host.a_count'], from: T0, to: T0 + MIN - 1, points: 6 }, T0 + 2 * HOUR);
    assert.deepEqual(a.series[0]!.points, [
      [T0, 0, 4.5, 9],
      [T0 + 10_000, null, null, null],
      [T0 + 20_000, null, null, null],
      [T0 + 30_000, 30, (30 + 32 + 33 + 34 + 35 + 36 + 37 + 38 + 39) / 9, 39],
      [T0 + 40_000, null, null, null],
      [T0 + 50_000, 50, 54.5, 59],
    ]);
    const raw = h.query({ series: ['host.a_count'], from: T0 + 30_000, to: T0 + 32_000 }, T0 + MIN);
    assert.deepEqual(raw.series[0]!.points, [
      [T0 + 30_000, 30, 30, 30],
      [T0 + 31_000, null, null, null],
      [T0 + 32_000, 32, 32, 32],
    ]);
  });

  it('picks the finest tier that covers the range within the budget', async () => {
    const h = await open();
    const now = T0 + 8 * DAY;
    // One sample a minute for 8 days, then every second for the last hour: every tier has data and
    // firstT is older than every horizon.
    for (let t = T0; t < now - HOUR; t += MIN) h.record(t, { 'host.a_count': 1 });
    for (let t = now - HOUR; t <= now; t += 1000) h.record(t, { 'host.a_count': 1 });
    const step = (range: number, points?: number): number => h.query({ series: ['host.a_count'], from: now - range, to: now, points }, now).series[0]!.stepMs;
    assert.equal(step(HOUR), 7000, '1 h (3601 samples, both ends included): raw, merged 7 to a point');
    assert.equal(step(HOUR, 5000), 1000, '1 h at 5000 points: raw, unmerged');
    assert.equal(step(5 * MIN), 1000);
    assert.equal(step(6 * HOUR), 40_000, '6 h: 10 s tier, 4 buckets a point');
    assert.equal(step(DAY), 180_000, '24 h: 1 min tier, 3 buckets a point');
    assert.equal(step(7 * DAY), 1_200_000, '7 d: 5 min tier, 4 buckets a point');
    assert.equal(step(7 * DAY, 100), 6_300_000, '7 d at 100 points: 5 min tier merged 21 to a point');
  });

  it('uses the raw tier for any range while the collector is younger than an hour', async () => {
    const h = await open();
    ramp(h, 900);
    const now = T0 + 900_000;
    const a = h.query({ series: ['host.a_count'], from: now - DAY, to: now }, now);
    assert.equal(a.series[0]!.stepMs, 145_000, '86401 one-second buckets over 600 points');
    const withData = a.series[0]!.points.filter((p) => p[2] !== null);
    assert.ok(withData.length >= 6 && withData.length <= 8, `${withData.length} points with data`);
  });

  it('never returns more points than the budget', async () => {
    const h = await open();
    const now = T0 + 8 * DAY;
    for (let t = T0; t <= now; t += 30_000) h.record(t, { 'host.a_count': t % 7, 'host.b_count': t % 11 ? null : 1 });
    for (const range of [MIN, 5 * MIN, HOUR, 90 * MIN, 6 * HOUR, 13 * HOUR, DAY, 3 * DAY, 7 * DAY, 30 * DAY]) {
      for (const points of [1, 7, 100, 599, 600, 5000, 99999]) {
        const a = h.query({ series: ['host.*'], from: now - range - 1234, to: now - 17, points }, now);
        assert.equal(a.series.length, 2);
        for (const s of a.series) assert.ok(s.points.length <= Math.min(points, 5000), `${range} ms at ${points}: ${s.points.length} points`);
      }
    }
  });

  it('selects series by exact name or prefix', async () => {
    const h = await open();
    h.record(T0, { 'gpu.0.temperature_celsius': 50, 'gpu.0.power_watts': 100, 'gpu.1.power_watts': 90, 'host.cpu_busy_ratio': 0.5 });
    const names = (sel: string[]): string[] => h.query({ series: sel }, T0 + 1000).series.map((s) => s.name);
    assert.deepEqual(names(['gpu.0.*']), ['gpu.0.power_watts', 'gpu.0.temperature_celsius']);
    assert.deepEqual(names(['host.cpu_busy_ratio', 'gpu.1.power_watts']), ['gpu.1.power_watts', 'host.cpu_busy_ratio']);
    assert.deepEqual(names(['nope']), []);
    assert.deepEqual(h.seriesNames().sort(), ['gpu.0.power_watts', 'gpu.0.temperature_celsius', 'gpu.1.power_watts', 'host.cpu_busy_ratio']);
  });

  it('answers `since` with the raw samples strictly after it, newest kept within the budget', async () => {
    const h = await open();
    for (let k = 0; k < 100; k++) h.record(T0 + k * 1000 + 3, { 'host.a_count': k, 'host.b_count': k % 2 ? null : -k });
    const a = h.query({ series: ['host.a_count', 'host.b_count'], since: T0 + 90_003 }, T0 + 100_000);
    assert.deepEqual(
      a.series[0]!.points.map((p) => p[0]),
      Array.from({ length: 9 }, (_, j) => T0 + (91 + j) * 1000 + 3),
    );
    assert.deepEqual(a.series[0]!.points[0], [T0 + 91_003, 91, 91, 91]);
    assert.deepEqual(a.series[1]!.points[0], [T0 + 91_003, null, null, null]);
    assert.equal(a.series[0]!.stepMs, 1000);
    const capped = h.query({ series: ['host.a_count'], since: T0, points: 5 }, T0 + 100_000);
    assert.deepEqual(
      capped.series[0]!.points.map((p) => p[1]),
      [95, 96, 97, 98, 99],
    );
  });

  it('drops a tick out of order but survives the wall clock being stepped back', async () => {
    const h = await open();
    ramp(h, 10);
    h.record(T0 + 5500, { 'host.a_count': 99 });
    const since = (now: number): number[] => h.query({ series: ['host.a_count'], since: 0 }, now).series[0]!.points.map((p) => p[1]!);
    assert.deepEqual(since(T0 + 10_000), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    h.record(T0 - HOUR, { 'host.a_count': 42 });
    h.record(T0 - HOUR + 1000, { 'host.a_count': 43 });
    assert.deepEqual(since(T0 - HOUR + 1000), [42, 43], 'recording goes on after a step back of an hour');
  });

  it('ages data out of every tier', async () => {
    const h = await open();
    ramp(h, 60);
    const a = h.query({ series: ['host.a_count'], from: T0, to: T0 + MIN }, T0 + 8 * DAY);
    assert.ok(
      a.series[0]!.points.every((p) => p[2] === null),
      'nothing older than 7 days',
    );
  });

  it('round-trips through the file and keeps answering identically', async () => {
    const h = await open();
    for (let k = 0; k < 2 * 3600; k++)
      h.record(T0 + k * 1000, { 'host.a_count': k, 'host.b_ratio': k % 3 === 0 ? null : k / 7200, 'gpu.0.power_watts': 100 + (k % 50) });
    await h.flush();
    const buf = fs.readFileSync(file);
    assert.equal(buf.toString('latin1', 0, 8), HISTORY_MAGIC);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['history.bin', 'history.bin.journal'], 'no temp file left behind');
    const g = await open();
    const now = T0 + 2 * HOUR;
    for (const q of [{ from: now - HOUR }, { from: now - 6 * HOUR }, { from: now - DAY, points: 77 }, { since: now - 10_000 }, { from: now - 7 * DAY }]) {
      assert.deepEqual(g.query({ series: ['*'], ...q }, now), h.query({ series: ['*'], ...q }, now), JSON.stringify(q));
    }
    // A changed interval still loads: raw samples are re-fitted, tiers kept.
    const slow = await open(2000);
    assert.deepEqual(
      slow.query({ series: ['host.a_count'], from: now - 6 * HOUR }, now).series[0]!.points,
      h.query({ series: ['host.a_count'], from: now - 6 * HOUR }, now).series[0]!.points,
    );
  });

  it('appends ticks to a journal between snapshots and replays it on open; a torn append loses only that flush', async () => {
    const h = await open();
    const now = T0 + 2 * HOUR;
    for (let k = 0; k < 2 * 3600 - 200; k++) h.record(T0 + k * 1000, { 'host.a_count': k, 'host.b_ratio': k % 3 ? k / 7200 : null });
    await h.flush(); // first flush: snapshot
    const snapshotBytes = fs.readFileSync(file);
    for (let k = 2 * 3600 - 200; k < 2 * 3600 - 100; k++) h.record(T0 + k * 1000, { 'host.a_count': k, 'host.b_ratio': k / 7200 });
    await h.flush(); // journal append
    const journalAfterFirstAppend = fs.statSync(`${file}.journal`).size;
    for (let k = 2 * 3600 - 100; k <= 2 * 3600; k++) h.record(T0 + k * 1000, { 'host.a_count': k, 'host.b_ratio': k / 7200, 'host.new_count': 5 });
    await h.flush(); // journal append with a new series
    assert.deepEqual(fs.readFileSync(file), snapshotBytes, 'appends do not rewrite the snapshot');
    const all = (x: TieredHistory, q: object): unknown => x.query({ series: ['*'], ...q }, now);
    const g = await open();
    for (const q of [{ from: now - HOUR }, { from: now - 6 * HOUR, points: 100 }, { since: now - 300_000 }])
      assert.deepEqual(all(g, q), all(h, q), JSON.stringify(q));

    // Cut the last append in half, as a crash or a full disk would.
    const size = fs.statSync(`${file}.journal`).size;
    fs.truncateSync(`${file}.journal`, journalAfterFirstAppend + Math.floor((size - journalAfterFirstAppend) / 2));
    const { log, lines } = capture();
    const torn = await open(1000, { log });
    const last = torn.query({ series: ['host.a_count'], since: now - 300_000 }, now).series[0]!.points;
    assert.equal(last[last.length - 1]![0], T0 + (2 * 3600 - 101) * 1000, 'ticks of the whole appends survive, the torn one is gone');
    assert.ok(!torn.seriesNames().includes('host.new_count'));
    assert.ok(
      lines.some((l) => l.includes('partly written flush')),
      lines.join('\n'),
    );
  });

  it('turns a failed journal append into a full snapshot on the next flush, losing nothing held in memory', async () => {
    const h = await open();
    ramp(h, 100);
    await h.flush();
    fs.rmSync(`${file}.journal`);
    for (let k = 100; k < 200; k++) h.record(T0 + k * 1000, { 'host.a_count': k });
    await assert.rejects(h.flush(), /cannot write history to .*history\.bin\.journal: ENOENT/);
    for (let k = 200; k < 300; k++) h.record(T0 + k * 1000, { 'host.a_count': k });
    await h.flush();
    const g = await open();
    assert.deepEqual(
      g.query({ series: ['host.a_count'], from: T0, to: T0 + 300_000 }, T0 + 300_000),
      h.query({ series: ['host.a_count'], from: T0, to: T0 + 300_000 }, T0 + 300_000),
    );
    assert.equal(g.query({ series: ['host.a_count'], since: T0 - 1 }, T0 + 300_000).series[0]!.points.length, 300);
  });

  it('keeps ticks recorded while a snapshot is being written, exactly once', async () => {
    const h = await open();
    for (let i = 0; i < 50; i++) h.record(T0, { [`s.x${i}_count`]: i });
    const flushing = h.flush();
    let k = 1;
    // Record on every turn of the event loop while the snapshot is written series by series.
    let done = false;
    void flushing.finally(() => (done = true));
    while (!done) {
      if (k < 1000) h.record(T0 + k * 1000, { 's.x0_count': k++ });
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(k > 5, 'ticks were recorded during the snapshot');
    await flushing;
    h.record(T0 + k * 1000, { 's.x0_count': k });
    await h.flush();
    const now = T0 + (k + 1) * 1000;
    const expected = Array.from({ length: k + 1 }, (_, i) => i);
    assert.deepEqual(
      h.query({ series: ['s.x0_count'], since: T0 - 1 }, now).series[0]!.points.map((p) => p[1]),
      expected,
    );
    const g = await open();
    assert.deepEqual(
      g.query({ series: ['s.x0_count'], since: T0 - 1 }, now).series[0]!.points.map((p) => p[1]),
      expected,
    );
    assert.deepEqual(
      g.query({ series: ['s.x0_count'], from: T0, to: now, points: 1 }, now + 2 * HOUR),
      h.query({ series: ['s.x0_count'], from: T0, to: now, points: 1 }, now + 2 * HOUR),
      'tiers count each tick once',
    );
  });

  it('moves an unreadable journal aside and keeps the snapshot', async () => {
    const h = await open();
    ramp(h, 30);
    await h.flush();
    fs.writeFileSync(`${file}.journal`, 'garbage');
    const { log, lines } = capture();
    const g = await open(1000, { log });
    assert.equal(g.query({ series: ['host.a_count'], since: T0 - 1 }, T0 + 30_000).series[0]!.points.length, 30);
    assert.equal(fs.readdirSync(dir).filter((f) => f.startsWith('history.bin.journal.corrupt-')).length, 1);
    assert.ok(lines.some((l) => l.includes('journal') && l.includes('moved it to')));
  });

  it('moves a corrupt, truncated or foreign file aside with a warning and starts empty', async () => {
    const good = await open();
    ramp(good, 100);
    await good.flush();
    const bytes = fs.readFileSync(file);
    const cases: [string, Buffer][] = [
      ['garbage', Buffer.from('{"not": "history"}')],
      ['truncated', bytes.subarray(0, bytes.length - 100)],
      ['future version', Buffer.concat([bytes.subarray(0, 8), Buffer.from([99, 0, 0, 0]), bytes.subarray(12)])],
    ];
    for (const [what, content] of cases) {
      for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
      fs.writeFileSync(file, content);
      fs.writeFileSync(`${file}.journal`, 'not a journal either');
      const { log, lines } = capture();
      const h = await open(1000, { log });
      assert.deepEqual(h.seriesNames(), [], what);
      const aside = fs.readdirSync(dir).filter((f) => f.startsWith('history.bin.corrupt-'));
      assert.ok(fs.existsSync(`${file}.journal`), 'the journal of an unreadable snapshot is left alone (it is replaced by the next flush)');
      assert.equal(aside.length, 1, `${what}: moved aside`);
      assert.deepEqual(fs.readFileSync(path.join(dir, aside[0]!)), content, `${what}: kept intact for inspection`);
      assert.ok(
        lines.some((l) => l.includes('warn') && l.includes('moved it to') && l.includes(aside[0]!)),
        `${what}: ${lines.join('\n')}`,
      );
      h.record(T0, { 'host.a_count': 1 });
      await h.flush();
      assert.deepEqual((await open()).seriesNames(), ['host.a_count'], `${what}: a new file is written after`);
    }
  });

  it('rejects a flush into an unwritable directory with a clear message and keeps memory', async () => {
    fs.writeFileSync(path.join(dir, 'not-a-dir'), 'x');
    const h = await TieredHistory.open({ file: path.join(dir, 'not-a-dir', 'history.bin'), intervalMs: 1000, log: silentLogger });
    ramp(h, 10);
    await assert.rejects(h.flush(), (e: Error) => /cannot write history to .*not-a-dir\/history\.bin: (ENOTDIR|EEXIST)/.test(e.message));
    assert.equal(h.query({ series: ['host.a_count'], from: T0, to: T0 + 10_000 }, T0 + 10_000).series[0]!.points.length, 10);
    // It keeps recording and a later flush fails the same way rather than crashing.
    ramp(h, 20);
    await assert.rejects(h.flush(), /cannot write history/);
  });

  it('bounds memory: a series cap, and series silent for longer than the retention are dropped', async () => {
    const { log, lines } = capture();
    const h = await open(1000, { maxSeries: 3, log });
    h.record(T0, { 'x.a_count': 1, 'x.b_count': 1, 'x.c_count': 1 });
    h.record(T0 + 1000, { 'x.d_count': 1, 'x.a_count': 2, 'x.b_count': 2 });
    assert.deepEqual(h.seriesNames(), ['x.a_count', 'x.b_count', 'x.c_count']);
    assert.ok(lines.some((l) => l.includes('the cap') && l.includes('x.d_count')));
    // Once c has been silent for over an hour, a new series may take its place.
    h.record(T0 + 2 * HOUR, { 'x.d_count': 1, 'x.a_count': 3, 'x.b_count': 3 });
    assert.deepEqual(h.seriesNames().sort(), ['x.a_count', 'x.b_count', 'x.d_count']);
    // Nulls alone do not create a series; a series with nothing but nulls for more than 7 days goes away.
    h.record(T0 + 2 * HOUR, { 'x.e_count': null });
    assert.ok(!h.seriesNames().includes('x.e_count'));
    for (let d = 1; d <= 8; d++) h.record(T0 + 2 * HOUR + d * DAY, { 'x.a_count': 1, 'x.b_count': null });
    assert.deepEqual(h.seriesNames().sort(), ['x.a_count']);
  });
});
