// TensorBoard event files through the runs source's reader, written by the tests' own TFRecord
// writer: CRC-32C check value, both scalar forms, a record split across two reads, a corrupt record.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { crc32c, maskedCrc32c } from '../../../../collector/sources/runs/crc32c';
import { MetricFiles } from '../../../../collector/sources/runs/metric-files';
import type { MetricPoint } from '../../../../collector/sources/runs/parse';
import { decodeEvent } from '../../../../collector/sources/runs/tb-event';
import { splitRecords } from '../../../../collector/sources/runs/tfrecord';
import { createLogger } from '../../../../collector/log';
import { crc32cBitwise, event, fileVersionEvent, simpleValue, tensorValue, tfrecord } from './tb-writer';

describe('runs: TensorBoard event files', () => {
  let dir: string;
  let logs: string[];
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-tb-'));
    logs = [];
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const files = (): MetricFiles =>
    new MetricFiles(
      [dir],
      null,
      createLogger('debug', (l) => logs.push(l)),
    );
  const collect = async (mf: MetricFiles, now = Date.now()): Promise<MetricPoint[]> => {
    const out: MetricPoint[] = [];
    await mf.tick(now, (ps) => out.push(...ps));
    return out;
  };

  it('CRC-32C matches the published check value, and the masked form matches the writer', () => {
    const nine = Buffer.from('123456789');
    assert.equal(crc32c(nine), 0xe3069283);
    assert.equal(crc32cBitwise(nine), 0xe3069283);
    const rec = tfrecord(Buffer.from('hello'));
    assert.equal(rec.readUInt32LE(8), maskedCrc32c(rec, 0, 8));
  });

  it('decodes simple_value and TF2 tensor scalars (float_val, double_val, tensor_content)', () => {
    const ev = decodeEvent(
      event(7, 1700000000.5, [
        simpleValue('train/loss', 0.25),
        tensorValue('lr', 0.001, 'float_val'),
        tensorValue('acc', 0.75, 'double_val'),
        tensorValue('tok/s', 1234, 'tensor_content'),
      ]),
    );
    assert.equal(ev.step, 7);
    assert.equal(ev.wallTime, 1700000000.5);
    const byTag = new Map(ev.scalars.map((s) => [s.tag, s]));
    assert.equal(byTag.get('train/loss')?.value, 0.25);
    assert.equal(byTag.get('train/loss')?.fromTensor, false);
    assert.ok(Math.abs((byTag.get('lr')?.value ?? 0) - 0.001) < 1e-9);
    assert.equal(byTag.get('lr')?.plugin, 'scalars');
    assert.equal(byTag.get('acc')?.value, 0.75);
    assert.equal(byTag.get('tok/s')?.value, 1234);
  });

  it('reads a file incrementally: a record split across two reads waits, then counts once', async () => {
    const file = path.join(dir, 'events.out.tfevents.1700000000.host.1.0');
    const head = Buffer.concat([tfrecord(fileVersionEvent(1700000000)), tfrecord(event(1, 1700000001, [simpleValue('loss', 1.5)]))]);
    const second = tfrecord(event(2, 1700000002, [simpleValue('loss', 1.25)]));
    fs.writeFileSync(file, Buffer.concat([head, second.subarray(0, 10)]));
    const mf = files();
    let pts = await collect(mf);
    assert.deepEqual(
      pts.map((p) => [p.tag, p.value, p.step]),
      [['loss', 1.5, 1]],
    );
    // Still cut off: nothing new, and no complaint.
    fs.appendFileSync(file, second.subarray(10, 20));
    assert.deepEqual(await collect(mf), []);
    fs.appendFileSync(file, second.subarray(20));
    pts = await collect(mf);
    assert.deepEqual(
      pts.map((p) => [p.tag, p.value, p.step, p.t]),
      [['loss', 1.25, 2, 1700000002000]],
    );
    assert.deepEqual(await collect(mf), [], 'nothing read twice');
    assert.deepEqual(
      mf.files().map((f) => f.problem),
      [null],
    );
    await mf.close();
  });

  it("a TF2 tensor scalar counts by its tag's plugin, remembered from the first value", async () => {
    const file = path.join(dir, 'events.out.tfevents.1.host');
    fs.writeFileSync(
      file,
      Buffer.concat([
        tfrecord(event(1, 1, [tensorValue('epoch_loss', 2, 'float_val', true)])),
        tfrecord(event(2, 2, [tensorValue('epoch_loss', 1, 'float_val', false)])),
      ]),
    );
    const mf = files();
    assert.deepEqual(
      (await collect(mf)).map((p) => [p.tag, p.value]),
      [
        ['epoch_loss', 2],
        ['epoch_loss', 1],
      ],
    );
    await mf.close();
  });

  it('skips a corrupt record, reads the ones after it, and reports it once', async () => {
    const file = path.join(dir, 'events.out.tfevents.2.host');
    fs.writeFileSync(
      file,
      Buffer.concat([
        tfrecord(event(1, 1, [simpleValue('loss', 3)])),
        tfrecord(event(2, 2, [simpleValue('loss', 2)]), { corruptData: true }),
        tfrecord(event(3, 3, [simpleValue('loss', 1)])),
      ]),
    );
    const mf = files();
    assert.deepEqual(
      (await collect(mf)).map((p) => p.step),
      [1, 3],
    );
    fs.appendFileSync(
      file,
      Buffer.concat([tfrecord(event(4, 4, [simpleValue('loss', 0.5)]), { corruptData: true }), tfrecord(event(5, 5, [simpleValue('loss', 0.4)]))]),
    );
    assert.deepEqual(
      (await collect(mf)).map((p) => p.step),
      [5],
    );
    assert.equal(logs.filter((l) => /corrupt TensorBoard record/.test(l)).length, 1, logs.join('\n'));
    assert.match(mf.files()[0]?.problem ?? '', /2 corrupt record/);
    await mf.close();
  });

  it('a broken length checksum stops that file with a reason', () => {
    const rec = tfrecord(event(1, 1, [simpleValue('loss', 3)]));
    rec[8] ^= 0xff;
    const s = splitRecords(rec);
    assert.equal(s.records.length, 0);
    assert.match(s.fatal ?? '', /bad length checksum/);
  });
});
