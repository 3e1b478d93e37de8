// CSV logging of every tick to files under the data dir: a header row, an ISO-8601 timestamp column,
// one column per series. A series that appears later starts a new file with the extended header
// (rows never shift under a stale header); files rotate by size and only the newest few are kept.
// Rows are buffered in memory and appended every few seconds: no fs call per tick.

import { access, constants, mkdir, readdir, truncate, unlink } from 'node:fs/promises';
import { appendPrivateFile } from '../private-file';
import { join } from 'node:path';
import type { LoggingStatus, SeriesMap } from '../../protocol';
import type { CsvLogger } from '../contracts';
import type { Logger } from '../log';
import { csvColumn, csvNumber, csvRow } from './csv';

/** Default size at which a CSV file is rotated, in bytes. */
export const DEFAULT_CSV_MAX_FILE_BYTES = 10 * 1024 * 1024;
/** Default number of CSV files kept in the directory (oldest deleted first). */
export const DEFAULT_CSV_MAX_FILES = 10;
/** How often buffered rows are appended to disk, in ms. */
export const CSV_FLUSH_INTERVAL_MS = 5_000;
/** Buffered bytes that trigger an early append, in bytes. */
export const CSV_FLUSH_THRESHOLD_BYTES = 256 * 1024;
/** Most bytes held in memory while the disk refuses writes; newer rows are dropped beyond this. */
export const CSV_MAX_BUFFER_BYTES = 8 * 1024 * 1024;
/** Series the logger reports for the collector to record: 1 while CSV writes fail. */
export const CSV_ERROR_SERIES = 'collector.csv.error_state';

const FILE_RE = /^rigwatch-\d{8}T\d{9}Z-\d{4}\.csv$/;

/** Options of createCsvLogger. */
export interface CsvLoggerOptions {
  /** Directory of the CSV files (created when needed). */
  dir: string;
  enabled: boolean;
  maxFileBytes?: number;
  maxFiles?: number;
  log: Logger;
}

interface Chunk {
  file: string;
  parts: string[];
  /** Bytes of this file already on disk (to cut a half-written append back before retrying). */
  written: number;
}

/** Creates the CSV logger; when `enabled`, the first write opens a file. */
export function createCsvLogger(opts: CsvLoggerOptions): CsvFileLogger {
  return new CsvFileLogger(opts);
}

/** CsvLogger writing rotated CSV files. */
export class CsvFileLogger implements CsvLogger {
  private enabled = false;
  private error: string | undefined;
  private columns: string[] = [];
  private columnSet = new Set<string>();
  private file: string | null = null;
  private fileBytes = 0;
  private fileSeq = 0;
  private chunks: Chunk[] = [];
  private buffered = 0;
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly maxFileBytes: number;
  private readonly maxFiles: number;

  constructor(private readonly opts: CsvLoggerOptions) {
    this.maxFileBytes = opts.maxFileBytes ?? DEFAULT_CSV_MAX_FILE_BYTES;
    this.maxFiles = Math.max(1, opts.maxFiles ?? DEFAULT_CSV_MAX_FILES);
    if (opts.enabled) this.start();
  }

  status(): LoggingStatus {
    const s: LoggingStatus = { enabled: this.enabled };
    if (this.file) s.file = this.file;
    if (this.error) s.error = this.error;
    return s;
  }

  /** `{ "collector.csv.error_state": 1 }` while writes fail, else 0; the collector records it each tick. */
  series(): SeriesMap {
    return { [CSV_ERROR_SERIES]: this.enabled && this.error ? 1 : 0 };
  }

  async setEnabled(enabled: boolean): Promise<LoggingStatus> {
    if (enabled === this.enabled) return this.status();
    if (enabled) {
      this.start();
      try {
        await mkdir(this.opts.dir, { recursive: true });
        await access(this.opts.dir, constants.W_OK);
      } catch (e) {
        this.fail(`cannot write CSV files in ${this.opts.dir}: ${errText(e)}`);
      }
      return this.status();
    }
    await this.stop();
    return this.status();
  }

  write(t: number, series: SeriesMap): void {
    if (!this.enabled) return;
    try {
      let added: string[] | null = null;
      for (const k in series) if (!this.columnSet.has(k)) (added ??= []).push(k);
      if (added) {
        added.sort();
        for (const k of added) {
          this.columns.push(k);
          this.columnSet.add(k);
        }
      }
      if (added || this.file === null || this.fileBytes >= this.maxFileBytes) this.startFile(t);
      const cells = new Array<string>(this.columns.length + 1);
      cells[0] = new Date(t).toISOString();
      for (let i = 0; i < this.columns.length; i++) cells[i + 1] = csvNumber(series[this.columns[i] as string]);
      this.append(csvRow(cells), false);
      if (this.buffered >= CSV_FLUSH_THRESHOLD_BYTES) void this.flush().catch(() => undefined);
    } catch (e) {
      this.fail(`CSV logging failed: ${errText(e)}`);
    }
  }

  /** Appends everything buffered. Never rejects: failures are kept in status() and retried next time. */
  flush(): Promise<void> {
    const p = this.flushing.then(() => this.drain()).catch((e: unknown) => this.fail(`CSV logging failed: ${errText(e)}`));
    this.flushing = p;
    return p;
  }

  async close(): Promise<void> {
    await this.stop();
  }

  // ---------- internals ----------

  private start(): void {
    this.enabled = true;
    this.columns = [];
    this.columnSet = new Set();
    this.file = null;
    this.timer = setInterval(() => void this.flush(), CSV_FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  private async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.enabled = false;
    await this.flush();
    this.file = null;
    this.error = undefined;
  }

  private startFile(t: number): void {
    const stamp = new Date(t).toISOString().replace(/[-:.]/g, '');
    this.fileSeq = (this.fileSeq + 1) % 10_000;
    this.file = join(this.opts.dir, `rigwatch-${stamp}-${String(this.fileSeq).padStart(4, '0')}.csv`);
    this.fileBytes = 0;
    this.chunks.push({ file: this.file, parts: [], written: 0 });
    // The header is never dropped: rows after it would otherwise land under the wrong columns.
    this.append(csvRow(['timestamp', ...this.columns.map((c) => csvColumn(c))]), true);
  }

  private append(text: string, force: boolean): void {
    const bytes = Buffer.byteLength(text);
    if (!force && this.buffered + bytes > CSV_MAX_BUFFER_BYTES) {
      this.dropped++;
      return;
    }
    (this.chunks[this.chunks.length - 1] as Chunk).parts.push(text);
    this.buffered += bytes;
    this.fileBytes += bytes;
  }

  private async drain(): Promise<void> {
    let rotated = false;
    while (this.chunks.length) {
      const chunk = this.chunks[0] as Chunk;
      if (chunk.parts.length) {
        const parts = chunk.parts;
        chunk.parts = [];
        const text = parts.join('');
        const bytes = Buffer.byteLength(text);
        try {
          if (chunk.written === 0) await mkdir(this.opts.dir, { recursive: true });
          await appendPrivateFile(chunk.file, text);
          chunk.written += bytes;
          this.buffered -= bytes;
        } catch (e) {
          chunk.parts = parts.concat(chunk.parts);
          // A failed append may have written part of the text: cut back so the retry cannot duplicate it.
          await truncate(chunk.file, chunk.written).catch(() => undefined);
          this.fail(`cannot write CSV file ${chunk.file}: ${errText(e)}${this.dropped ? ` (${this.dropped} rows dropped so far)` : ''}`);
          return;
        }
      }
      if (this.chunks.length === 1) break;
      this.chunks.shift();
      rotated = true;
    }
    // After the writes, so the count includes the file just started.
    if (rotated) await this.prune();
    if (this.error) {
      this.opts.log.info(`CSV logging recovered${this.dropped ? ` after dropping ${this.dropped} rows` : ''}`);
      this.error = undefined;
      this.dropped = 0;
    }
  }

  private async prune(): Promise<void> {
    let names: string[];
    try {
      names = (await readdir(this.opts.dir)).filter((n) => FILE_RE.test(n)).sort();
    } catch {
      return;
    }
    const keep = new Set(this.chunks.map((c) => c.file));
    let excess = names.length - this.maxFiles;
    for (const n of names) {
      if (excess <= 0) break;
      const full = join(this.opts.dir, n);
      if (keep.has(full)) continue;
      try {
        await unlink(full);
        excess--;
      } catch (e) {
        this.opts.log.warnOnce(`csv-prune:${n}`, `cannot delete old CSV file ${full}: ${errText(e)}`);
      }
    }
  }

  private fail(msg: string): void {
    if (this.error !== msg) this.opts.log.warnOnce(`csv:${msg.slice(0, 60)}`, msg);
    this.error = msg;
  }
}

function errText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err && err.code ? `${err.code} ${err.message.replace(/^[A-Z]+: /, '')}` : String((e as Error)?.message ?? e);
}
