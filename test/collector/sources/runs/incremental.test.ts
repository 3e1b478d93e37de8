// The per-tick read path of a run's metric files: only appended bytes are read, an unchanged file
// or a TensorBoard record still being written costs no read, a file that shrank starts over on the
// next tick (not only at the next directory walk), a backlog larger than one synchronous read is
// still read whole, and one tick never reads more than the budget it is given. Directory walks: an
// unchanged directory is not listed again, a new file is still found, and walks that find nothing
// new come less often.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLogger } from '../../../../collector/log';
import {
  isLocalFilesystem,
  MetricFiles,
  RESCAN_INTERVAL_MS,
  RESCAN_MAX_INTERVAL_MS,
  SYNC_READ_MAX_BYTES,
} from '../../../../collector/sources/runs/metric-files';
import type { MetricPoint } from '../../../../collector/sources/runs/parse';
import { event, simpleValue, tfrecord } from './tb-writer';

describe('runs: incremental reads', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-inc-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  // One clock for every tick of a test: the directory is walked once, at the first tick.
  const now = Date.now();
  const collect = async (mf: MetricFiles, maxBytes?: number): Promise<MetricPoint[]> => {
    const out: MetricPoint[] = [];
    await mf.tick(now, (ps) => out.push(...ps), maxBytes);
    return out;
  };
  const files = (): MetricFiles => new MetricFiles([dir], null, createLogger('error'));

  it('the test directory is on a local filesystem (so the synchronous path is the one tested)', async () => {
    assert.equal(await isLocalFilesystem(dir), true, `${dir} should be ext4/tmpfs/overlay here`);
  });

  it('reads only the appended bytes, and nothing from a file that did not grow', async () => {
    const file = path.join(dir, 'metrics.jsonl');
    const first = '{"step": 1, "loss": 2.5}\n';
    fs.writeFileSync(file, first);
    const mf = files();
    assert.deepEqual(
      (await collect(mf)).map((p) => [p.tag, p.value, p.step]),
      [['loss', 2.5, 1]],
    );
    assert.equal(mf.bytesRead, first.length);
    assert.deepEqual(await collect(mf), []);
    assert.equal(mf.bytesRead, first.length, 'an unchanged file is not read');
    const line = '{"step": 2, "loss": 2.25}\n';
    fs.appendFileSync(file, line);
    assert.deepEqual(
      (await collect(mf)).map((p) => [p.tag, p.value, p.step]),
      [['loss', 2.25, 2]],
    );
    assert.equal(mf.bytesRead, first.length + line.length, 'only the new line is read');
    await mf.close();
  });

  it('a TensorBoard record still being written is not re-read until it is complete', async () => {
    const file = path.join(dir, 'events.out.tfevents.1.host');
    const one = tfrecord(event(1, 1, [simpleValue('loss', 1)]));
    const two = tfrecord(event(2, 2, [simpleValue('loss', 0.5)]));
    fs.writeFileSync(file, Buffer.concat([one, two.subarray(0, 14)]));
    const mf = files();
    assert.equal((await collect(mf)).length, 1);
    const afterFirst = mf.bytesRead;
    fs.appendFileSync(file, two.subarray(14, 20));
    assert.deepEqual(await collect(mf), []);
    assert.equal(mf.bytesRead, afterFirst, 'six more bytes of a record do not make it readable');
    fs.appendFileSync(file, two.subarray(20));
    assert.deepEqual(
      (await collect(mf)).map((p) => [p.tag, p.value, p.step]),
      [['loss', 0.5, 2]],
    );
    await mf.close();
  });

  it('a file rewritten shorter starts over on the next tick, with its new header', async () => {
    const file = path.join(dir, 'metrics.csv');
    fs.writeFileSync(file, 'step,train_loss\n1,3.5\n2,3.25\n3,3.0\n4,2.75\n');
    const mf = files();
    assert.equal((await collect(mf)).length, 4);
    // Lightning rewrites metrics.csv when a column appears: same inode, shorter, new header.
    fs.writeFileSync(file, 'step,lr\n5,0.1\n');
    assert.deepEqual(
      (await collect(mf)).map((p) => [p.tag, p.value, p.step]),
      [['lr', 0.1, 5]],
    );
    await mf.close();
  });

  it('a backlog larger than one synchronous read is read whole, within the budget given per tick', async () => {
    const file = path.join(dir, 'metrics.jsonl');
    const lines: string[] = [];
    for (let i = 1, n = 0; n < 3 * SYNC_READ_MAX_BYTES; i++) {
      lines.push(`{"step": ${i}, "loss": ${1 / i}}\n`);
      n += (lines[lines.length - 1] as string).length;
    }
    const text = lines.join('');
    fs.writeFileSync(file, text);
    const mf = files();
    const budget = 2 * SYNC_READ_MAX_BYTES;
    const got: MetricPoint[] = [];
    let prev = 0;
    let ticks = 0;
    for (; ticks < 10 && got.length < lines.length; ticks++) {
      got.push(...(await collect(mf, budget)));
      assert.ok(mf.bytesRead - prev <= budget, `tick ${ticks} read ${mf.bytesRead - prev} bytes, budget ${budget}`);
      prev = mf.bytesRead;
    }
    assert.equal(got.length, lines.length);
    assert.equal(got[got.length - 1]?.step, lines.length);
    // A line cut off at the end of one read is read again by the next: at most one line per tick.
    const longest = Math.max(...lines.map((l) => l.length));
    assert.ok(mf.bytesRead <= text.length + ticks * longest, `${mf.bytesRead} bytes read for ${text.length} in ${ticks} ticks`);
    await mf.close();
  });

  it('an unchanged directory is not listed again; a file added to it is found at the next walk', async () => {
    const sub = path.join(dir, 'logs');
    fs.mkdirSync(sub);
    fs.writeFileSync(path.join(sub, 'a.jsonl'), '{"step": 1, "loss": 1}\n');
    for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(sub, `ckpt-${i}.pt`), '');
    // Both directories were last changed a minute ago: their listings can be trusted.
    const past = new Date(Date.now() - 60_000);
    fs.utimesSync(sub, past, past);
    fs.utimesSync(dir, past, past);
    const mf = files();
    let t = now;
    const walk = async (): Promise<MetricPoint[]> => {
      t += RESCAN_MAX_INTERVAL_MS;
      const out: MetricPoint[] = [];
      await mf.tick(t, (ps) => out.push(...ps));
      return out;
    };
    assert.equal((await walk()).length, 1);
    const listed = mf.entriesSeen;
    assert.ok(listed >= 51, `the first walk lists every entry (${listed})`);
    await walk();
    assert.equal(mf.walks, 2);
    assert.equal(mf.entriesSeen, listed, 'the second walk lists nothing');
    fs.writeFileSync(path.join(sub, 'b.jsonl'), '{"step": 1, "acc": 0.5}\n');
    assert.deepEqual(
      (await walk()).map((p) => [p.tag, p.value]),
      [['acc', 0.5]],
    );
    assert.ok(mf.entriesSeen > listed, 'the changed directory is listed again');
    assert.deepEqual(
      mf
        .files()
        .map((f) => path.basename(f.path))
        .sort(),
      ['a.jsonl', 'b.jsonl'],
    );
    await mf.close();
  });

  it('walks that find the same files come less often, up to the longest gap; a new file brings the base rate back', async () => {
    fs.writeFileSync(path.join(dir, 'a.jsonl'), '{"step": 1, "loss": 1}\n');
    const mf = files();
    const at = async (ms: number): Promise<number> => {
      await mf.tick(now + ms, () => undefined);
      return mf.walks;
    };
    const base = RESCAN_INTERVAL_MS;
    assert.equal(await at(0), 1); // finds a.jsonl: next walk after the base interval
    assert.equal(await at(base), 2); // the same file: the gap doubles
    assert.equal(await at(2 * base), 2);
    assert.equal(await at(3 * base), 3);
    const capAt = 3 * base + RESCAN_MAX_INTERVAL_MS; // 4 × base would pass the cap
    assert.equal(await at(capAt - 1), 3);
    assert.equal(await at(capAt), 4);
    fs.writeFileSync(path.join(dir, 'b.jsonl'), '{"step": 1, "acc": 1}\n');
    assert.equal(await at(capAt + RESCAN_MAX_INTERVAL_MS), 5); // finds b.jsonl
    assert.equal(await at(capAt + RESCAN_MAX_INTERVAL_MS + base), 6); // back to the base interval
    await mf.close();
  });
});
