// History file integrity (issue 17): a flipped byte in a snapshot's data arrays is caught by the
// version 2 checksums and the file is moved aside; a version 1 file (written by Rigwatch 0.1, no
// checksums) still loads and is upgraded; temp files left by a killed collector are removed at start.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TieredHistory } from '../../../collector/history';
import { HISTORY_FILE_VERSION } from '../../../collector/history/file-format';
import { createLogger, silentLogger, type Logger } from '../../../collector/log';

const T0 = 1_700_000_100_000 - (1_700_000_100_000 % 300_000);
const V1_FIXTURE = path.join(__dirname, '..', '..', 'fixtures', 'history', 'rigwatch-0.1-history-v1.bin');

function capture(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger('info', (l) => lines.push(l)), lines };
}

describe('history file integrity', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-hist-int-'));
    file = path.join(dir, 'history.bin');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('moves a snapshot with one flipped byte in a data array aside, naming the series', async () => {
    const h = await TieredHistory.open({ file, intervalMs: 1000, log: silentLogger });
    for (let k = 0; k < 100; k++) h.record(T0 + k * 1000, { 'host.a_count': k, 'host.b_count': 1000 + k });
    await h.flush();
    const bytes = fs.readFileSync(file);
    assert.equal(bytes.readUInt32LE(8), HISTORY_FILE_VERSION);
    // The raw value 1042 of host.b_count, as stored (float64, machine order): flip one bit of it.
    const needle = Buffer.from(new Float64Array([1042]).buffer);
    const at = bytes.indexOf(needle);
    assert.ok(at > 0, 'the value is in the file');
    bytes[at + 6] ^= 0x10;
    fs.writeFileSync(file, bytes);
    const { log, lines } = capture();
    const again = await TieredHistory.open({ file, intervalMs: 1000, log });
    assert.deepEqual(again.seriesNames(), [], 'nothing garbled is loaded');
    const aside = fs.readdirSync(dir).filter((f) => f.startsWith('history.bin.corrupt-'));
    assert.equal(aside.length, 1, 'moved aside');
    assert.deepEqual(fs.readFileSync(path.join(dir, aside[0]!)), bytes, 'kept intact for inspection');
    assert.ok(
      lines.some((l) => /checksum mismatch/.test(l) && l.includes('host.b_count') && l.includes('moved it to')),
      lines.join('\n'),
    );
  });

  it('loads a version 1 file written by Rigwatch 0.1 and rewrites it as version 2 on the next flush', async () => {
    fs.copyFileSync(V1_FIXTURE, file);
    assert.equal(fs.readFileSync(file).readUInt32LE(8), 1);
    const { log, lines } = capture();
    const h = await TieredHistory.open({ file, intervalMs: 1000, log });
    assert.deepEqual(h.seriesNames().sort(), ['gpu.0.temperature_celsius', 'host.a_count']);
    const ans = h.query({ series: ['host.a_count'], from: T0, to: T0 + 99_000, points: 1000 }, T0 + 100_000);
    const pts = ans.series[0]!.points.filter((p) => p[2] !== null);
    assert.equal(pts.length, 100);
    assert.equal(pts[42]![2], 42);
    assert.ok(
      lines.some((l) => l.includes('format version 1') && l.includes('rewrites it as version 2')),
      lines.join('\n'),
    );
    h.record(T0 + 100_000, { 'host.a_count': 100 });
    await h.flush();
    assert.equal(fs.readFileSync(file).readUInt32LE(8), HISTORY_FILE_VERSION);
    const reopened = await TieredHistory.open({ file, intervalMs: 1000, log: silentLogger });
    assert.equal(reopened.seriesNames().length, 2);
  });

  it('removes temp files of dead collectors at start, never ours or a live process’s', async () => {
    // A pid that is certainly gone: a child that has exited.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    const orphans = [`history.bin.tmp-${dead}`, `history.bin.journal.tmp-${dead}`];
    const kept = [`history.bin.tmp-${process.pid}`, 'history.bin.tmp-1', `other.bin.tmp-${dead}`];
    for (const n of [...orphans, ...kept]) fs.writeFileSync(path.join(dir, n), Buffer.alloc(4096, 7));
    const { log, lines } = capture();
    await TieredHistory.open({ file, intervalMs: 1000, log });
    const left = fs.readdirSync(dir).sort();
    assert.deepEqual(left, [...kept].sort());
    assert.equal(lines.filter((l) => l.includes('no longer running')).length, 2, lines.join('\n'));
  });
});
