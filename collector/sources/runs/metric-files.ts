// Finds and tails one run's metric files. The directory walk is incremental: each tick looks at a
// bounded number of directory entries (a log dir with 10,000 checkpoints costs several ticks, never
// one long one), to a bounded depth, keeping the newest matching files written since the run began.
// Reading is incremental too: each file is read from its last offset, a bounded number of bytes per
// tick; a partial line or record at the end waits for the next read.
//
// The per-tick path is synchronous where that is safe and cheaper: on a local filesystem (statfs type
// in LOCAL_FS_TYPES, checked once per file) an fstat says whether the file grew, and a tail of at most
// SYNC_READ_MAX_BYTES is read with one pread. Those bytes were just written by the run, so they come
// from the page cache: ~3 µs each here against ~45 µs of CPU for a thread-pool round trip, which is
// what made 5 active runs cost 1.6 ms a tick. A backlog larger than that (the first read of an old
// file) and every file on a network or FUSE filesystem keep the asynchronous path, so a slow disk or
// a hung mount can only make this source miss its tick, never block the event loop.

import { fstatSync, promises as fs, readSync, type Dir } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import type { Logger } from '../../log';
import { parseCsvRow, parseJsonLine, parseMlflowLine, parseTrainerState, splitCsvLine, type MetricPoint } from './parse';
import { decodeEvent, ProtoError } from './tb-event';
import { pendingRecordBytes, splitRecords, MAX_RECORD_BYTES } from './tfrecord';

/** Directory entries looked at per tick per run. */
export const SCAN_ENTRIES_PER_TICK = 400;
/** Deepest directory level walked below a root (mlruns/<exp>/<run>/metrics/<key> is 4). */
export const MAX_SCAN_DEPTH = 5;
/** Most directories one walk visits. */
export const MAX_SCAN_DIRS = 2000;
/** Most metric files followed per run (the newest win). */
export const MAX_FILES_PER_RUN = 32;
/** Bytes read per tick per run, across its files. */
export const READ_BYTES_PER_TICK = 4 * 1024 * 1024;
/** Walk again this long after a walk finished, ms (new files appear: a new event file, a new CSV version). */
export const RESCAN_INTERVAL_MS = 15_000;
/** Longest gap between walks once walks stop finding anything new (the gap doubles up to it), ms. */
export const RESCAN_MAX_INTERVAL_MS = 60_000;
/**
 * A directory listing is reused while the directory's mtime is unchanged, but only when it was listed
 * this long after that mtime, ms: a file created in the same timestamp granule as the listing (coarse
 * filesystem clocks) would otherwise go unseen.
 */
export const DIR_MTIME_TRUST_MS = 2_000;
/** A file counts as the run's when modified no earlier than this before the run started, ms. */
export const START_SLACK_MS = 5_000;
/** Longest line accepted in a text log, bytes (longer: skipped). */
export const MAX_LINE_BYTES = 1024 * 1024;
/** Per-run read buffer for the common small read, bytes. */
const SCRATCH_BYTES = 64 * 1024;
/** Most bytes one read takes from one file, bytes. */
export const READ_CHUNK_BYTES = 1024 * 1024;
/** Largest tail read synchronously on a local filesystem, bytes (more: the asynchronous path). */
export const SYNC_READ_MAX_BYTES = SCRATCH_BYTES;
/** Largest trainer_state.json read, bytes. */
export const MAX_STATE_FILE_BYTES = 16 * 1024 * 1024;

/** The formats a metric file can have. */
export type MetricFormat = 'tensorboard' | 'jsonl' | 'csv' | 'mlflow' | 'hf-trainer-state';

/**
 * statfs magic numbers of local, block- or memory-backed filesystems (linux/magic.h): ext2/3/4, xfs,
 * btrfs, tmpfs, overlayfs, zfs, f2fs, ramfs, jfs, reiserfs. Anything else (NFS, CIFS/SMB, FUSE, Lustre,
 * GPFS, Ceph…) is read asynchronously.
 */
const LOCAL_FS_TYPES = new Set([0xef53, 0x58465342, 0x9123683e, 0x01021994, 0x794c7630, 0x2fc12fc1, 0xf2f52010, 0x858458f6, 0x3153464a, 0x52654973]);

/** True when `path` lies on a local filesystem (see LOCAL_FS_TYPES); false when unknown. */
export async function isLocalFilesystem(path: string): Promise<boolean> {
  try {
    return LOCAL_FS_TYPES.has((await fs.statfs(path)).type);
  } catch {
    return false;
  }
}

const SKIP_DIRS = new Set(['node_modules', '.git', '__pycache__', '.venv', 'venv', '.mypy_cache', '.cache', 'wandb', 'site-packages']);

/** The format of a file by its path, or null when it is not a metric file. */
export function formatOf(path: string): MetricFormat | null {
  const name = basename(path);
  if (name.startsWith('events.out.tfevents.')) return 'tensorboard';
  if (name.endsWith('.jsonl')) return 'jsonl';
  if (name === 'metrics.csv') return 'csv';
  if (name === 'trainer_state.json') return 'hf-trainer-state';
  if (path.includes(`${sep}mlruns${sep}`) && basename(dirname(path)) === 'metrics') return 'mlflow';
  return null;
}

interface Tracked {
  path: string;
  format: MetricFormat;
  mtimeMs: number;
  ino: number;
  offset: number;
  /** CSV header once read. */
  header: string[] | null;
  /** TensorBoard: plugin per tag (only the first value of a tag carries its metadata). */
  plugins: Map<string, string>;
  corrupt: number;
  broken: string | null;
  /** trainer_state.json: last step emitted; size+mtime read. */
  lastStep: number;
  lastSig: string;
  reported: boolean;
  /** TensorBoard: length of the record cut off at the end of the last read (read whole next time). */
  pending: number;
  /** Kept open between ticks: one read per tick, no open/stat/close. */
  fh: fs.FileHandle | null;
  /** On a local filesystem: fstat and small reads are synchronous (see the header). */
  local: boolean;
  /** Size at the last fstat (local files). */
  size: number;
}

/** Where a file's new points go. */
export type Sink = (points: MetricPoint[], format: MetricFormat, path: string) => void;

/** What a file reader reports besides points. */
export interface FileNote {
  path: string;
  format: MetricFormat;
  problem: string | null;
}

/** A directory's subdirectories and metric files, as listed when its mtime was `mtimeMs`. */
interface DirListing {
  mtimeMs: number;
  /** Wall-clock epoch ms of the listing. */
  listedAt: number;
  dirs: string[];
  files: string[];
}

/** The metric files of one run. */
export class MetricFiles {
  private readonly tracked = new Map<string, Tracked>();
  private queue: { dir: string; depth: number }[] = [];
  private dir: Dir | null = null;
  private dirDepth = 0;
  private dirPath = '';
  private dirsVisited = 0;
  private walking = false;
  private nextWalkAt = 0;
  private candidates = new Map<string, { mtimeMs: number; ino: number; size: number }>();
  /** Listings of the directories the last walks visited: an unchanged directory is not listed again. */
  private listings = new Map<string, DirListing>();
  private visited = new Set<string>();
  private listing: DirListing | null = null;
  private rescanMs = RESCAN_INTERVAL_MS;
  private closed = false;
  private readonly scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  /** Entries looked at in all walks (for tests and the bench). */
  entriesSeen = 0;
  /** Walks completed. */
  walks = 0;
  /** Bytes read from metric files so far (for tests and the bench). */
  bytesRead = 0;

  constructor(
    private roots: string[],
    /** Epoch ms the run started (files older than that belong to someone else); null: anything recent. */
    private readonly startMs: number | null,
    private readonly log: Logger,
    private readonly limits: { entriesPerTick: number; readBytesPerTick: number } = {
      entriesPerTick: SCAN_ENTRIES_PER_TICK,
      readBytesPerTick: READ_BYTES_PER_TICK,
    },
  ) {}

  /** Replaces the roots (a run's log-dir arguments are learned after its first read). */
  setRoots(roots: string[]): void {
    if (roots.join('\0') === this.roots.join('\0')) return;
    this.roots = roots;
    this.nextWalkAt = 0;
  }

  /** Files followed now, with their format and any problem. */
  files(): FileNote[] {
    return [...this.tracked.values()].map((f) => ({
      path: f.path,
      format: f.format,
      problem: f.broken ?? (f.corrupt > 0 ? `${f.corrupt} corrupt record(s) skipped` : null),
    }));
  }

  /** One tick: a bounded slice of the walk, then new data from each file (at most `maxBytes`). `now` is epoch ms. */
  async tick(now: number, sink: Sink, maxBytes = Infinity): Promise<void> {
    if (this.closed) return;
    if (this.walking || now >= this.nextWalkAt) await this.walkSlice(now);
    let budget = Math.min(this.limits.readBytesPerTick, maxBytes);
    for (const f of this.tracked.values()) {
      if (budget <= 0) break;
      // The common tick (a local file that grew by a few lines) never leaves this loop's turn.
      let n = f.local && f.fh !== null ? this.readLocal(f, f.fh, budget, now, sink) : null;
      if (n === null) n = await this.readFile(f, budget, now, sink);
      else if (n === SYNC_READ_MAX_BYTES && budget > n) n += await this.readFile(f, budget - n, now, sink); // the rest of a backlog
      budget -= n;
    }
  }

  /** How many files are followed now. */
  get count(): number {
    return this.tracked.size;
  }

  /** True while a walk is in progress. */
  get scanning(): boolean {
    return this.walking;
  }

  private async walkSlice(now: number): Promise<void> {
    if (!this.walking) {
      if (now < this.nextWalkAt) return;
      this.walking = true;
      this.queue = this.roots.map((dir) => ({ dir, depth: 0 }));
      this.dirsVisited = 0;
      this.candidates = new Map();
      this.visited = new Set();
    }
    let left = this.limits.entriesPerTick;
    while (left > 0) {
      if (this.dir === null) {
        const next = this.queue.shift();
        if (next === undefined) {
          this.finishWalk(now);
          return;
        }
        if (++this.dirsVisited > MAX_SCAN_DIRS) {
          this.log.warnOnce(
            `runs-dirs:${this.roots.join(',')}`,
            `runs: more than ${MAX_SCAN_DIRS} directories under ${this.roots.join(', ')}; the rest is not searched for metric files`,
          );
          this.queue = [];
          continue;
        }
        let dst;
        try {
          dst = await fs.stat(next.dir);
        } catch {
          continue; // gone or not ours to read
        }
        if (!dst.isDirectory()) continue;
        this.visited.add(next.dir);
        left--;
        const cached = this.listings.get(next.dir);
        if (cached !== undefined && cached.mtimeMs === dst.mtimeMs && cached.listedAt - dst.mtimeMs > DIR_MTIME_TRUST_MS) {
          // Unchanged since it was listed: the same subdirectories and files (a file added, removed or
          // renamed over changes the directory's mtime).
          if (next.depth < MAX_SCAN_DEPTH) for (const d of cached.dirs) this.queue.push({ dir: d, depth: next.depth + 1 });
          for (const p of cached.files) left -= await this.consider(p);
          continue;
        }
        try {
          this.dir = await fs.opendir(next.dir, { bufferSize: 128 });
          this.dirDepth = next.depth;
          this.dirPath = next.dir;
          this.listing = { mtimeMs: dst.mtimeMs, listedAt: Date.now(), dirs: [], files: [] };
        } catch {
          continue;
        }
      }
      const d = this.dir;
      let ent;
      try {
        ent = await d.read();
      } catch {
        ent = null;
      }
      if (ent === null) {
        await d.close().catch(() => undefined);
        this.dir = null;
        if (this.listing !== null) this.listings.set(this.dirPath, this.listing);
        this.listing = null;
        continue;
      }
      left--;
      this.entriesSeen++;
      const p = join(this.dirPath, ent.name);
      if (ent.isDirectory()) {
        if (SKIP_DIRS.has(ent.name) || ent.name.startsWith('.')) continue;
        this.listing?.dirs.push(p);
        if (this.dirDepth < MAX_SCAN_DEPTH) this.queue.push({ dir: p, depth: this.dirDepth + 1 });
        continue;
      }
      if (!ent.isFile() || formatOf(p) === null) continue;
      this.listing?.files.push(p);
      left -= await this.consider(p);
    }
  }

  /** Records a metric file as a candidate when it was written since the run began; returns its cost in entries. */
  private async consider(p: string): Promise<number> {
    const t = this.tracked.get(p);
    if (t !== undefined && t.local && t.size >= 0) {
      // Followed already: its fstat each tick says as much as a stat would (a replacement shows in the directory's mtime).
      this.candidates.set(p, { mtimeMs: t.mtimeMs, ino: t.ino, size: t.size });
      return 0;
    }
    try {
      const st = await fs.stat(p);
      if (this.startMs === null || st.mtimeMs >= this.startMs - START_SLACK_MS) this.candidates.set(p, { mtimeMs: st.mtimeMs, ino: st.ino, size: st.size });
    } catch {
      // vanished between readdir and stat
    }
    return 4; // a stat costs more than a name
  }

  private finishWalk(now: number): void {
    this.walking = false;
    this.walks++;
    for (const d of this.listings.keys()) if (!this.visited.has(d)) this.listings.delete(d);
    const newest = [...this.candidates.entries()].sort((a, b) => b[1].mtimeMs - a[1].mtimeMs);
    if (newest.length > MAX_FILES_PER_RUN) {
      this.log.warnOnce(
        `runs-files:${this.roots.join(',')}`,
        `runs: ${newest.length} metric files under ${this.roots.join(', ')}; following the newest ${MAX_FILES_PER_RUN}`,
      );
    }
    const keep = new Map(newest.slice(0, MAX_FILES_PER_RUN));
    // While walks find the same files, walk less often; a change, or no file yet, walks at the base rate.
    let same = this.tracked.size > 0 && keep.size === this.tracked.size;
    for (const path of keep.keys()) if (!this.tracked.has(path)) same = false;
    this.rescanMs = same ? Math.min(RESCAN_MAX_INTERVAL_MS, this.rescanMs * 2) : RESCAN_INTERVAL_MS;
    this.nextWalkAt = now + this.rescanMs;
    for (const [path, f] of this.tracked) {
      const c = keep.get(path);
      // A file replaced under the same name, or truncated (Lightning rewrites metrics.csv when a
      // column appears), starts over.
      if (c === undefined || c.ino !== f.ino || (f.format !== 'hf-trainer-state' && c.size < f.offset)) {
        void f.fh?.close().catch(() => undefined);
        this.tracked.delete(path);
      }
    }
    for (const [path, c] of keep) {
      if (this.tracked.has(path)) continue;
      this.tracked.set(path, {
        path,
        format: formatOf(path) as MetricFormat,
        mtimeMs: c.mtimeMs,
        ino: c.ino,
        offset: 0,
        header: null,
        plugins: new Map(),
        corrupt: 0,
        broken: null,
        lastStep: -Infinity,
        lastSig: '',
        reported: false,
        fh: null,
        pending: 0,
        local: false,
        size: -1,
      });
    }
  }

  /**
   * Reads what is new in a file on a local filesystem without leaving the tick: one pread of at most
   * SYNC_READ_MAX_BYTES from the last offset (an fstat only when that finds nothing, to notice a file
   * that shrank, or first when a TensorBoard record is still incomplete). Returns bytes read, or null
   * when the asynchronous path must do it (a larger record, a changed trainer_state.json).
   */
  private readLocal(f: Tracked, fh: fs.FileHandle, budget: number, now: number, sink: Sink): number | null {
    if (f.broken !== null) return 0;
    if (f.format === 'hf-trainer-state') {
      const st = fstatSafe(fh.fd);
      return st === null || `${st.size}:${st.mtimeMs}` === f.lastSig ? 0 : null;
    }
    const want = Math.min(budget, READ_CHUNK_BYTES, SYNC_READ_MAX_BYTES);
    if (f.pending > 0) {
      // Stat first: a record still being written is not read again until all of it is there.
      const st = this.look(f, fh);
      if (st === null || st.size - f.offset < f.pending) return 0;
      if (f.pending > want) return null; // a record larger than one synchronous read
    }
    const buf = readIntoSync(fh.fd, f.offset, this.scratch.subarray(0, want));
    if (buf === null) return 0;
    if (buf.length === 0) {
      // Nothing new. Did it shrink? Then it starts over, now.
      const at = f.offset;
      this.look(f, fh);
      return f.offset === at ? 0 : this.readLocal(f, fh, budget, now, sink);
    }
    f.mtimeMs = Date.now(); // it grew, so it was written about now (the walk ranks files by it)
    f.size = Math.max(f.size, f.offset + buf.length);
    return this.take(f, buf, now, sink);
  }

  /** fstat of a followed file; a file that shrank (truncated, or rewritten like Lightning's metrics.csv when a column appears) starts over. */
  private look(f: Tracked, fh: fs.FileHandle): { size: number } | null {
    const st = fstatSafe(fh.fd);
    if (st === null) return null;
    if (st.size < f.offset) this.restart(f);
    f.size = st.size;
    f.mtimeMs = st.mtimeMs;
    return st;
  }

  /** Reads what is new in one file through the thread pool; returns bytes read. */
  private async readFile(f: Tracked, budget: number, now: number, sink: Sink): Promise<number> {
    if (f.broken !== null) return 0;
    if (f.fh === null) {
      try {
        f.fh = await fs.open(f.path, 'r');
      } catch {
        this.tracked.delete(f.path);
        return 0;
      }
      f.local = await isLocalFilesystem(f.path);
      const n = f.local ? this.readLocal(f, f.fh, budget, now, sink) : null;
      if (n !== null) return n;
    }
    const fh = f.fh;
    if (f.format === 'hf-trainer-state') return this.readTrainerState(f, sink);
    // One read from the last offset; a TensorBoard record longer than the chunk is read whole next time.
    let want = Math.min(budget, READ_CHUNK_BYTES);
    if (f.format === 'tensorboard' && f.pending > want) want = Math.min(f.pending, MAX_RECORD_BYTES + 16);
    if (f.local) return this.take(f, await readAt(fh, f.offset, want), now, sink);
    // Most ticks bring a few lines: read into this run's scratch buffer, a full-size buffer only
    // when the scratch fills (the points keep no reference to either).
    let buf = await readInto(fh, f.offset, this.scratch.subarray(0, Math.min(want, this.scratch.length)));
    if (buf !== null && buf.length === this.scratch.length && want > this.scratch.length) buf = await readAt(fh, f.offset, want);
    return this.take(f, buf, now, sink);
  }

  /** Parses newly read bytes; returns their length. */
  private take(f: Tracked, buf: Buffer | null, now: number, sink: Sink): number {
    if (buf === null || buf.length === 0) return 0;
    this.bytesRead += buf.length;
    if (f.format === 'tensorboard') this.takeRecords(f, buf, sink);
    else this.takeLines(f, buf, now, sink);
    return buf.length;
  }

  /** A file that shrank starts over from its first byte. */
  private restart(f: Tracked): void {
    f.offset = 0;
    f.pending = 0;
    f.header = null;
    f.plugins.clear();
    f.size = -1;
  }

  private takeRecords(f: Tracked, buf: Buffer, sink: Sink): void {
    const split = splitRecords(buf);
    const points: MetricPoint[] = [];
    for (const rec of split.records) {
      let ev;
      try {
        ev = decodeEvent(rec);
      } catch (e) {
        if (!(e instanceof ProtoError)) throw e;
        split.corrupt++;
        continue;
      }
      const t = ev.wallTime !== null ? ev.wallTime * 1000 : null;
      for (const s of ev.scalars) {
        if (s.plugin !== null) f.plugins.set(s.tag, s.plugin);
        // A TF2 tensor summary is a scalar only when its plugin (remembered from the tag's first value) says so.
        if (s.fromTensor && (s.plugin ?? f.plugins.get(s.tag)) !== 'scalars') continue;
        points.push({ tag: s.tag, value: s.value, step: ev.step, t });
      }
    }
    f.offset += split.consumed;
    f.pending = pendingRecordBytes(buf.subarray(split.consumed)) + (buf.length - split.consumed);
    if (split.corrupt > 0) {
      f.corrupt += split.corrupt;
      if (!f.reported) {
        f.reported = true;
        this.log.warn(`runs: ${relativeName(f.path)}: skipped ${split.corrupt} corrupt TensorBoard record(s) (checksum mismatch); reading on`);
      }
    }
    if (split.fatal !== null) {
      f.broken = `unreadable from byte ${f.offset}: ${split.fatal}`;
      this.log.warn(`runs: ${relativeName(f.path)}: ${f.broken}; no longer read`);
    } else if (split.consumed === 0 && pendingRecordBytes(buf) === 0 && buf.length >= 12) {
      f.broken = 'no record could be read';
    }
    if (points.length > 0) sink(points, f.format, f.path);
  }

  private takeLines(f: Tracked, buf: Buffer, now: number, sink: Sink): void {
    const end = buf.lastIndexOf(0x0a);
    if (end < 0) {
      if (buf.length >= MAX_LINE_BYTES) {
        f.offset += buf.length; // an endless line: not a log we can read, skip it
        this.log.warnOnce(`runs-line:${f.path}`, `runs: ${relativeName(f.path)}: a line longer than ${MAX_LINE_BYTES} bytes was skipped`);
      }
      return;
    }
    const text = buf.subarray(0, end).toString('utf8');
    f.offset += end + 1;
    const points: MetricPoint[] = [];
    const tag = f.format === 'mlflow' ? mlflowTag(f.path) : '';
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      if (f.format === 'jsonl') {
        const ps = parseJsonLine(line);
        if (ps) points.push(...ps);
      } else if (f.format === 'csv') {
        if (f.header === null) {
          f.header = splitCsvLine(line.replace(/\r$/, '')).map((h) => h.trim());
          continue;
        }
        points.push(...parseCsvRow(f.header, line));
      } else if (f.format === 'mlflow') {
        const p = parseMlflowLine(tag, line);
        if (p) points.push(p);
      }
    }
    for (const p of points) if (p.t === null) p.t = now;
    if (points.length > 0) sink(points, f.format, f.path);
  }

  private async readTrainerState(f: Tracked, sink: Sink): Promise<number> {
    const fh = f.fh as fs.FileHandle;
    let st;
    try {
      st = f.local ? fstatSync(fh.fd) : await fh.stat();
    } catch {
      return 0;
    }
    const sig = `${st.size}:${st.mtimeMs}`;
    if (sig === f.lastSig) return 0;
    f.lastSig = sig;
    if (st.size > MAX_STATE_FILE_BYTES) {
      f.broken = `larger than ${MAX_STATE_FILE_BYTES} bytes`;
      return 0;
    }
    const buf = await readAt(fh, 0, st.size);
    if (buf === null) return 0;
    this.bytesRead += buf.length;
    const r = parseTrainerState(buf.toString('utf8'), f.lastStep);
    if (r === null) return buf.length; // mid-write: the next change is read again
    f.lastStep = r.lastStep;
    for (const p of r.points) if (p.t === null) p.t = st.mtimeMs;
    if (r.points.length > 0) sink(r.points, f.format, f.path);
    return buf.length;
  }

  /** Stops the walk and forgets the files. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const d = this.dir;
    this.dir = null;
    await d?.close().catch(() => undefined);
    for (const f of this.tracked.values()) await f.fh?.close().catch(() => undefined);
    this.tracked.clear();
  }
}

function fstatSafe(fd: number): { size: number; mtimeMs: number } | null {
  try {
    return fstatSync(fd);
  } catch {
    return null;
  }
}

function readIntoSync(fd: number, offset: number, buf: Buffer): Buffer | null {
  try {
    return buf.subarray(0, readSync(fd, buf, 0, buf.length, offset));
  } catch {
    return null;
  }
}

async function readInto(fh: fs.FileHandle, offset: number, buf: Buffer): Promise<Buffer | null> {
  try {
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
    return buf.subarray(0, bytesRead);
  } catch {
    return null;
  }
}

async function readAt(fh: fs.FileHandle, offset: number, length: number): Promise<Buffer | null> {
  try {
    const buf = Buffer.allocUnsafe(length);
    const { bytesRead } = await fh.read(buf, 0, length, offset);
    return buf.subarray(0, bytesRead);
  } catch {
    return null;
  }
}

/** MLflow key from mlruns/<exp>/<run>/metrics/<key…>: nested keys are directories. */
function mlflowTag(path: string): string {
  const i = path.lastIndexOf(`${sep}metrics${sep}`);
  return i >= 0
    ? path
        .slice(i + 9)
        .split(sep)
        .join('/')
    : basename(path);
}

function relativeName(path: string): string {
  return relative(process.cwd(), path).startsWith('..') ? path : relative(process.cwd(), path);
}
