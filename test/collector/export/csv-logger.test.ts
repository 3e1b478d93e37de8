// CSV logging read back with a real CSV parser: exact values, aligned columns, rotation, failures.

import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { SeriesMap } from '../../../protocol';
import { createCsvLogger, CSV_ERROR_SERIES, type CsvFileLogger } from '../../../collector/export';
import { csvRow } from '../../../collector/export/csv';
import { silentLogger } from '../../../collector/log';

const T0 = Date.UTC(2026, 10, 22, 6, 0, 0, 250);

async function csvFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw e;
  });
  return names.filter((n) => n.endsWith('.csv')).sort();
}
async function readCsv(path: string): Promise<string[][]> {
  return parse(await readFile(path, 'utf8'), { relaxColumnCount: false }) as string[][];
}

describe('CSV logger', () => {
  let dir: string;
  let root: string;
  const open: CsvFileLogger[] = [];

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'rw-csv-'));
    dir = join(root, 'csv');
  });
  afterEach(async () => {
    for (const l of open.splice(0)) await l.close();
    await rm(root, { recursive: true, force: true });
  });
  function logger(opts: { enabled?: boolean; maxFileBytes?: number; maxFiles?: number; dir?: string } = {}): CsvFileLogger {
    const l = createCsvLogger({
      dir: opts.dir ?? dir,
      enabled: opts.enabled ?? true,
      maxFileBytes: opts.maxFileBytes,
      maxFiles: opts.maxFiles,
      log: silentLogger,
    });
    open.push(l);
    return l;
  }

  it('writes a header, ISO-8601 timestamps and values that read back exactly', async () => {
    const l = logger();
    const rows: SeriesMap[] = [
      { 'gpu.0.temperature_celsius': 61, 'host.cpu_busy_ratio': 0.123456789012345, 'host.memory_used_bytes': 34359738368 },
      { 'gpu.0.temperature_celsius': null, 'host.cpu_busy_ratio': 1e-7, 'host.memory_used_bytes': -0.5 },
      { 'gpu.0.temperature_celsius': 62.25, 'host.cpu_busy_ratio': 0.1 + 0.2, 'host.memory_used_bytes': 2 ** 53 },
    ];
    rows.forEach((r, i) => l.write(T0 + i * 1000, r));
    assert.equal((await csvFiles(dir)).length, 0, 'rows are buffered, not written per tick');
    await l.flush();
    const files = await csvFiles(dir);
    assert.equal(files.length, 1);
    assert.equal(l.status().file, join(dir, files[0] as string));
    const table = await readCsv(join(dir, files[0] as string));
    // Each header names its series and the unit of its cells, spelled like the formatter.
    assert.deepEqual(table[0], ['timestamp', 'gpu.0.temperature_celsius [°C]', 'host.cpu_busy_ratio [ratio]', 'host.memory_used_bytes [B]']);
    assert.equal(table.length, 4);
    rows.forEach((r, i) => {
      const row = table[i + 1] as string[];
      assert.equal(row[0], new Date(T0 + i * 1000).toISOString());
      assert.equal(Date.parse(row[0] as string), T0 + i * 1000);
      for (let c = 1; c < row.length; c++) {
        const v = r[((table[0] as string[])[c] as string).replace(/ \[.*\]$/, '')];
        assert.deepEqual(row[c] === '' ? null : Number(row[c]), v, `row ${i} col ${c}`);
      }
    });
    const raw = await readFile(join(dir, files[0] as string), 'utf8');
    assert.ok(raw.endsWith('\r\n') && raw.split('\r\n').length === 5, 'RFC 4180 CRLF records');
  });

  it('a new series starts a new file with the extended header; columns never shift', async () => {
    const l = logger();
    l.write(T0, { 'b.x_count': 1, 'a.x_count': 2 });
    l.write(T0 + 1000, { 'b.x_count': 3, 'a.x_count': 4 });
    l.write(T0 + 2000, { 'b.x_count': 5, 'a.x_count': 6, 'c.x_count': 7 });
    l.write(T0 + 3000, { 'c.x_count': 8, 'a.x_count': 9 }); // b disappeared: empty cell, same file
    await l.flush();
    const files = await csvFiles(dir);
    assert.equal(files.length, 2);
    assert.deepEqual(await readCsv(join(dir, files[0] as string)), [
      ['timestamp', 'a.x_count', 'b.x_count'],
      [new Date(T0).toISOString(), '2', '1'],
      [new Date(T0 + 1000).toISOString(), '4', '3'],
    ]);
    assert.deepEqual(await readCsv(join(dir, files[1] as string)), [
      ['timestamp', 'a.x_count', 'b.x_count', 'c.x_count'],
      [new Date(T0 + 2000).toISOString(), '6', '5', '7'],
      [new Date(T0 + 3000).toISOString(), '9', '', '8'],
    ]);
  });

  it('rotates by size and keeps only maxFiles files, each starting with its header', async () => {
    const l = logger({ maxFileBytes: 400, maxFiles: 3 });
    const n = 60;
    for (let i = 0; i < n; i++) {
      l.write(T0 + i * 1000, { 'host.cpu_busy_ratio': i / 100, 'host.load1_count': i });
      if (i % 7 === 0) await l.flush();
    }
    await l.flush();
    const files = await csvFiles(dir);
    assert.equal(files.length, 3);
    const seen: number[] = [];
    for (const f of files) {
      const p = join(dir, f);
      const table = await readCsv(p);
      assert.deepEqual(table[0], ['timestamp', 'host.cpu_busy_ratio [ratio]', 'host.load1_count']);
      const rowBytes = 40;
      assert.ok((await stat(p)).size <= 400 + rowBytes * 2, `${f} is ${(await stat(p)).size} bytes`);
      for (const r of table.slice(1)) seen.push(Number(r[2]));
    }
    // The newest rows survive, contiguous and in order, up to the last one written.
    assert.equal(seen[seen.length - 1], n - 1);
    assert.deepEqual(
      seen,
      Array.from({ length: seen.length }, (_, i) => n - seen.length + i),
    );
  });

  it('disabled: writes nothing; toggling on starts a new file', async () => {
    const l = logger({ enabled: false });
    l.write(T0, { 'a.x_count': 1 });
    await l.flush();
    assert.deepEqual(l.status(), { enabled: false });
    await assert.rejects(readdir(dir), /ENOENT/);
    const st = await l.setEnabled(true);
    assert.deepEqual(st, { enabled: true });
    l.write(T0 + 1000, { 'a.x_count': 2 });
    await l.flush();
    const off = await l.setEnabled(false);
    assert.equal(off.enabled, false);
    l.write(T0 + 2000, { 'a.x_count': 3 });
    await l.setEnabled(true);
    l.write(T0 + 3000, { 'a.x_count': 4 });
    await l.flush();
    const files = await csvFiles(dir);
    assert.equal(files.length, 2);
    assert.deepEqual(
      (await readCsv(join(dir, files[1] as string))).map((r) => r[1]),
      ['a.x_count', '4'],
    );
  });

  it('an unwritable directory is reported in status and as a series; it recovers without duplicating rows', async () => {
    const blocker = join(root, 'blocker');
    await writeFile(blocker, 'not a directory');
    const bad = join(blocker, 'csv');
    const l = logger({ enabled: false, dir: bad });
    const st = await l.setEnabled(true);
    assert.equal(st.enabled, true);
    assert.match(st.error ?? '', /cannot write CSV files in .*blocker\/csv: (ENOTDIR|EEXIST)/);
    l.write(T0, { 'a.x_count': 1 }); // never throws
    await l.flush();
    assert.match(l.status().error ?? '', /cannot write CSV file .*: (ENOTDIR|EEXIST)/);
    assert.deepEqual(l.series(), { [CSV_ERROR_SERIES]: 1 });
    await unlink(blocker);
    l.write(T0 + 1000, { 'a.x_count': 2 });
    await l.flush();
    assert.equal(l.status().error, undefined);
    assert.deepEqual(l.series(), { [CSV_ERROR_SERIES]: 0 });
    const files = await csvFiles(bad);
    assert.deepEqual(await readCsv(join(bad, files[0] as string)), [
      ['timestamp', 'a.x_count'],
      [new Date(T0).toISOString(), '1'],
      [new Date(T0 + 1000).toISOString(), '2'],
    ]);
  });

  it('a full disk (ENOSPC from /dev/full) is reported; the collector keeps going and the retry writes once', async () => {
    await mkdir(dir, { recursive: true });
    const l = logger();
    // The first file name is derived from the first tick's time; point it at /dev/full.
    const name = `rigwatch-${new Date(T0).toISOString().replace(/[-:.]/g, '')}-0001.csv`;
    await symlink('/dev/full', join(dir, name));
    l.write(T0, { 'a.x_count': 1 });
    await l.flush();
    assert.match(l.status().error ?? '', /ENOSPC/);
    l.write(T0 + 1000, { 'a.x_count': 2 });
    await l.flush();
    assert.match(l.status().error ?? '', /ENOSPC/);
    await unlink(join(dir, name));
    await l.flush();
    assert.equal(l.status().error, undefined);
    assert.deepEqual(await readCsv(join(dir, name)), [
      ['timestamp', 'a.x_count'],
      [new Date(T0).toISOString(), '1'],
      [new Date(T0 + 1000).toISOString(), '2'],
    ]);
  });
});

describe('CSV quoting (RFC 4180)', () => {
  it('quotes commas, quotes and line breaks so a parser reads the fields back', () => {
    const fields = ['plain', 'a,b', 'say "hi"', 'two\nlines', 'cr\r\nlf', '', ' spaced '];
    const text = csvRow(fields) + csvRow(['1', '2', '3', '4', '5', '6', '7']);
    assert.deepEqual(parse(text), [fields, ['1', '2', '3', '4', '5', '6', '7']]);
    assert.equal(csvRow(['a,b', 'say "hi"']), '"a,b","say ""hi"""\r\n');
  });
});
