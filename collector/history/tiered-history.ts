// Multi-resolution history (SPEC §3): per-series rings, queries answered already downsampled, and on
// disk a snapshot (rewritten atomically now and then) plus a journal of the ticks since (appended at
// every flush). See docs/history.md for the files, the crash guarantees and the memory bound.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HistoryPoint, HistoryQuery, HistorySeries, SeriesMap } from '../../protocol';
import { matchesSelector } from '../../protocol';
import type { ColumnAnswer, ColumnSeries, HistoryAnswer, HistoryStore } from '../contracts';
import type { Logger } from '../log';
import { RAW_SPAN_MS, RETENTION_MS, SeriesRings, tiersFor, type TierSpec } from './rings';
import { HISTORY_FILE_VERSION, decodeHistory, encodeSeries, encodeHeader, encodeTrailer } from './file-format';
import { pidAlive } from '../state-file';
import { decodeJournal, encodeJournalHeader, encodeJournalRecord, type JournalTick } from './journal';

/** Point budget when a query gives none. */
export const DEFAULT_POINTS = 600;
/** Largest point budget a query may ask for. */
export const MAX_POINTS = 5000;
/** Default range of a query without `from`. */
export const DEFAULT_RANGE_MS = 60 * 60 * 1000;
/** Default cap on series held (about 180 KB each at a 1 s interval once full, so ~180 MB at the cap). */
export const DEFAULT_MAX_SERIES = 1000;
/**
 * A tier is used for a range if it needs at most this many buckets per requested point; merging buckets
 * keeps the finest resolution the budget allows while the cost stays bounded by points × this factor.
 */
const MAX_BUCKETS_PER_POINT = 8;
/** At the series cap, a new series may replace one that has had no value for this long. */
const EVICT_IDLE_MS = 60 * 60 * 1000;
/** How often record() looks for series to expire. */
const EXPIRE_EVERY_MS = 10 * 60 * 1000;
/**
 * How often a flush rewrites the whole snapshot instead of appending to the journal. Longer means less
 * disk written (a snapshot of 200 series is ~40 MB) but a longer journal to replay at start.
 */
export const SNAPSHOT_EVERY_MS = 30 * 60 * 1000;
/** Ticks kept for the journal while flushes fail; beyond it the next flush writes a full snapshot. */
const MAX_PENDING_TICKS = 3600;

/** Options of `TieredHistory.open`. */
export interface TieredHistoryOptions {
  /** The history file (created with its directory on the first flush). */
  file: string;
  /** The sampling interval in ms; sets the raw tier's size. */
  intervalMs: number;
  log: Logger;
  /** Cap on series held; see DEFAULT_MAX_SERIES. */
  maxSeries?: number;
  /** Monotonic clock in ms for the snapshot cadence (default performance.now; the soak bench runs a fast one). */
  monoNow?: () => number;
}

/** A source of a downsampled answer for one tier (raw = index -1). */
interface TierChoice {
  tier: number;
  stepMs: number;
}

/** Tiered per-series history implementing the collector's HistoryStore. */
export class TieredHistory implements HistoryStore {
  private readonly series = new Map<string, SeriesRings>();
  private readonly specs: TierSpec[];
  private firstT: number | undefined;
  private lastT: number | undefined;
  private lastExpireT = 0;
  /** Series created so far (see namesVersion). */
  private created = 0;
  private flushing: Promise<void> = Promise.resolve();
  private readonly maxSeries: number;
  private readonly journalFile: string;
  /** Generation of the snapshot on disk; the journal names the generation it continues. */
  private generation = 0;
  private journalLen = 0;
  private journalIndex = new Map<string, number>();
  /** Ticks recorded since the last successful flush, for the journal. */
  private pending: JournalTick[] = [];
  /** Set when the journal cannot be appended to (none yet, a failed write): the next flush snapshots. */
  private needSnapshot = true;
  private lastSnapshotAt = -Infinity;
  private mono: () => number = () => performance.now();
  /** While a snapshot is written series by series, ticks wait here so each lands wholly after it. */
  private deferred: [number, SeriesMap][] | null = null;

  private constructor(
    private readonly file: string,
    readonly intervalMs: number,
    private readonly log: Logger,
    maxSeries: number,
  ) {
    this.specs = tiersFor(intervalMs);
    this.maxSeries = maxSeries;
    this.journalFile = `${file}.journal`;
  }

  /** Loads `file` if present; a corrupt or foreign file is moved aside with a warning, never thrown. */
  static async open(opts: TieredHistoryOptions): Promise<TieredHistory> {
    if (!(opts.intervalMs > 0)) throw new Error(`history: intervalMs must be > 0, got ${opts.intervalMs}`);
    const h = new TieredHistory(opts.file, opts.intervalMs, opts.log, opts.maxSeries ?? DEFAULT_MAX_SERIES);
    if (opts.monoNow) h.mono = opts.monoNow;
    await removeOrphanTemps(opts.file, opts.log);
    let buf: Buffer;
    try {
      buf = await fs.promises.readFile(opts.file);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code !== 'ENOENT') opts.log.warn(`cannot read history file ${opts.file} (${err.message}); starting with empty history`);
      return h;
    }
    try {
      const loaded = decodeHistory(buf);
      h.adopt(loaded);
      h.generation = loaded.generation;
      if (loaded.version < HISTORY_FILE_VERSION) {
        opts.log.info(
          `history file ${opts.file} is format version ${loaded.version} (no checksums); loaded it, the next snapshot rewrites it as version ${HISTORY_FILE_VERSION}`,
        );
        h.needSnapshot = true;
      }
    } catch (e) {
      await moveAside(opts.file, (e as Error).message, opts.log);
      h.series.clear();
      h.firstT = undefined;
      return h;
    }
    await h.replayJournal();
    opts.log.info(`loaded history of ${h.series.size} series from ${opts.file}`);
    return h;
  }

  /** Re-records the ticks journalled after the snapshot; a torn last record (crash mid-flush) is dropped. */
  private async replayJournal(): Promise<void> {
    let buf: Buffer;
    try {
      buf = await fs.promises.readFile(this.journalFile);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code !== 'ENOENT') this.log.warn(`cannot read history journal ${this.journalFile} (${err.message}); history ends at the last snapshot`);
      return;
    }
    let j: ReturnType<typeof decodeJournal>;
    try {
      j = decodeJournal(buf);
    } catch (e) {
      await moveAside(this.journalFile, (e as Error).message, this.log);
      return;
    }
    // A journal of another generation is older than the snapshot (a crash right after a snapshot).
    if (j.header.generation !== this.generation) return;
    for (const tick of j.ticks) {
      const values: SeriesMap = {};
      for (const [n, v] of tick.values) values[n] = v;
      this.apply(tick.t, values);
    }
    if (j.tornBytes > 0)
      this.log.warn(
        `history journal ${this.journalFile} ends with ${j.tornBytes} bytes of a partly written flush (crash or full disk?); that flush is lost, the rest is loaded`,
      );
  }

  private adopt(loaded: ReturnType<typeof decodeHistory>): void {
    this.firstT = loaded.firstT;
    for (const s of loaded.series) {
      const rings = new SeriesRings(this.intervalMs, this.specs, s.lastValueT);
      // Raw samples are re-pushed so a changed interval (a different ring size) still loads.
      for (let k = 0; k < s.rawT.length; k++) rings.raw.push(s.rawT[k]!, s.rawV[k]!);
      for (const tier of rings.tiers) {
        const saved = s.tiers.find((x) => x.stepMs === tier.stepMs && x.n === tier.n);
        if (!saved) continue;
        tier.restore(saved.head, saved.min, saved.max, saved.sum, saved.count);
      }
      rings.lastValueT = s.lastValueT;
      if (this.series.size < this.maxSeries) this.series.set(s.name, rings);
    }
  }

  /** Records one tick's values at epoch ms `t`. */
  record(t: number, values: SeriesMap): void {
    if (this.deferred) {
      this.deferred.push([t, { ...values }]);
      return;
    }
    if (this.needSnapshot) {
      this.apply(t, values); // the next snapshot holds everything in memory anyway: no journal copy
      return;
    }
    const names: string[] = [];
    const vals: number[] = [];
    this.apply(t, values, names, vals);
    this.pending.push({ t, names, values: Float64Array.from(vals) });
    if (this.pending.length > MAX_PENDING_TICKS) {
      this.pending = [];
      this.needSnapshot = true;
    }
  }

  private apply(t: number, values: SeriesMap, names?: string[], vals?: number[]): void {
    if (this.firstT === undefined) this.firstT = t;
    if (this.lastT === undefined || t > this.lastT) this.lastT = t;
    if (t - this.lastExpireT >= EXPIRE_EVERY_MS) {
      this.lastExpireT = t;
      this.expire(t);
    }
    for (const name in values) {
      let s = this.series.get(name);
      if (!s) {
        // A series is created by its first value; nulls alone (an unsupported metric) cost no memory.
        const v = values[name];
        if (v === null || v === undefined || !Number.isFinite(v)) continue;
        const created = this.create(name, t);
        if (!created) continue;
        s = created;
      }
      const v = values[name] ?? null;
      s.add(t, v);
      if (names && vals) {
        names.push(name);
        vals.push(v === null || !Number.isFinite(v) ? NaN : v);
      }
    }
  }

  private create(name: string, t: number): SeriesRings | null {
    if (this.series.size >= this.maxSeries) {
      let oldest: string | undefined;
      let oldestT = Infinity;
      for (const [n, s] of this.series) {
        if (s.lastValueT < oldestT) {
          oldestT = s.lastValueT;
          oldest = n;
        }
      }
      if (oldest === undefined || t - oldestT < EVICT_IDLE_MS) {
        this.log.warnOnce('history-cap', `history holds ${this.maxSeries} series (the cap); new series such as ${name} are not kept until others go quiet`);
        return null;
      }
      this.series.delete(oldest);
    }
    const s = new SeriesRings(this.intervalMs, this.specs, t);
    this.series.set(name, s);
    this.created++;
    return s;
  }

  /** Drops series with no value for longer than the retention: nothing of them is left to show. */
  private expire(now: number): void {
    for (const [n, s] of this.series) if (now - s.lastValueT > RETENTION_MS) this.series.delete(n);
  }

  /** Changes whenever a series is created (a name not held before got a value): a cheap "new names" signal. */
  namesVersion(): number {
    return this.created;
  }

  /** Names of every series held. */
  seriesNames(): string[] {
    return [...this.series.keys()];
  }

  /** Downsampled answer (see docs/history.md for how the tier is chosen). */
  query(q: HistoryQuery, now: number): HistoryAnswer {
    const a = this.queryColumns(q, now);
    return { from: a.from, to: a.to, series: a.series.map(columnsToPoints) };
  }

  /** `query` as columns: no per-point objects (the server streams replies from these). */
  queryColumns(q: HistoryQuery, now: number): ColumnAnswer {
    const to = q.to ?? now;
    const names = this.seriesNames().filter((n) => q.series.some((sel) => matchesSelector(n, sel)));
    names.sort();
    if (q.since !== undefined) return this.querySince(names, q.since, to, q.points);
    const from = q.from ?? to - DEFAULT_RANGE_MS;
    const points = clampPoints(q.points);
    if (!(to > from)) return { from, to, series: names.map((name) => rawColumns(name, this.intervalMs, this.series.get(name)!.raw, 0, 0)) };
    const choice = this.chooseTier(from, to, points, now);
    const series: ColumnSeries[] = names.map((name) => {
      const s = this.series.get(name)!;
      return choice.tier < 0 ? this.fromRaw(name, s, from, to, points) : this.fromTier(name, s, choice.tier, from, to, points, now);
    });
    return { from, to, series };
  }

  private querySince(names: string[], since: number, to: number, points: number | undefined): ColumnAnswer {
    const cap = clampPoints(points ?? MAX_POINTS);
    const series = names.map((name) => {
      const raw = this.series.get(name)!.raw;
      let k = raw.firstAfter(since);
      const end = raw.firstAfter(to);
      // Beyond the budget the newest samples win: a client backfilling a long gap wants the recent end.
      k = Math.max(k, end - cap);
      return rawColumns(name, this.intervalMs, raw, k, end);
    });
    return { from: since, to, series };
  }

  /** The finest tier that still holds `from` and needs at most points × MAX_BUCKETS_PER_POINT buckets. */
  private chooseTier(from: number, to: number, points: number, now: number): TierChoice {
    const candidates: { tier: number; stepMs: number; spanMs: number }[] = [
      { tier: -1, stepMs: this.intervalMs, spanMs: RAW_SPAN_MS },
      ...this.specs.map((s, i) => ({ tier: i, stepMs: s.stepMs, spanMs: s.spanMs })),
    ];
    let coarsestCovering: TierChoice | undefined;
    for (const c of candidates) {
      const horizon = now - c.spanMs;
      // A tier also covers the range when it still holds everything ever recorded (a young collector).
      const covers = from >= horizon || (this.firstT !== undefined && this.firstT >= horizon);
      if (!covers) continue;
      const buckets = (to - Math.max(from, horizon)) / c.stepMs;
      if (buckets <= points * MAX_BUCKETS_PER_POINT) return c;
      coarsestCovering = c;
    }
    // Nothing both covers and fits: the coarsest tier that covers (or the coarsest of all, for ranges
    // older than any retention), with buckets merged; its cost is bounded by the tier's size.
    return coarsestCovering ?? candidates[candidates.length - 1]!;
  }

  private fromRaw(name: string, s: SeriesRings, from: number, to: number, points: number): ColumnSeries {
    const raw = s.raw;
    let k = raw.firstAfter(from);
    // firstAfter is strict; step back over a sample exactly at `from` so the range is inclusive.
    while (k > 0 && raw.timeAt(k - 1) >= from) k--;
    const end = raw.firstAfter(to);
    const n = end - k;
    if (n <= points) return rawColumns(name, this.intervalMs, raw, k, end);
    const { g, origin } = grouping(Math.floor(from / this.intervalMs), Math.floor(to / this.intervalMs), points);
    const width = g * this.intervalMs;
    const group = (t: number): number => Math.floor((Math.floor(t / this.intervalMs) - origin) / g);
    const acc = new Accumulator(group(from), group(to), width, origin * this.intervalMs);
    for (; k < end; k++) {
      const v = raw.valueAt(k);
      acc.add(group(raw.timeAt(k)), v, v, v, v === v ? 1 : 0);
    }
    return acc.columns(name, width);
  }

  private fromTier(name: string, s: SeriesRings, tierIdx: number, from: number, to: number, points: number, now: number): ColumnSeries {
    const tier = s.tiers[tierIdx]!;
    const step = tier.stepMs;
    const bFrom = Math.floor(from / step);
    const bTo = Math.floor(to / step);
    const { g, origin } = grouping(bFrom, bTo, points);
    const acc = new Accumulator(Math.floor((bFrom - origin) / g), Math.floor((bTo - origin) / g), g * step, origin * step);
    const nowBucket = Math.floor(now / step);
    // Only buckets the ring can still hold are visited, so the cost is bounded by the tier size.
    // Buckets before the first one written were never touched (reading them would make them resident).
    const lo = Math.max(bFrom, tier.head - tier.n + 1, nowBucket - tier.n + 1, tier.first);
    const hi = Math.min(bTo, tier.head);
    for (let b = lo; b <= hi; b++) {
      if (!tier.holds(b, nowBucket)) continue;
      const slot = tier.slot(b);
      const c = tier.count[slot]!;
      if (c === 0) continue;
      acc.add(Math.floor((b - origin) / g), tier.min[slot]!, tier.sum[slot]!, tier.max[slot]!, c);
    }
    return acc.columns(name, g * step);
  }

  /**
   * Makes everything recorded so far durable. Usually appends the ticks since the last flush to the
   * journal (fsync'd; a torn append is detected on load); every SNAPSHOT_EVERY_MS, and whenever the
   * journal cannot be trusted, rewrites the snapshot atomically (temp file, fsync, rename) and starts a
   * new journal. Rejects with the path and the reason on failure; memory is never touched.
   */
  flush(): Promise<void> {
    // Serialised: two overlapping flushes would race on the files.
    const run = this.flushing.then(() => (this.needSnapshot || this.mono() - this.lastSnapshotAt >= SNAPSHOT_EVERY_MS ? this.snapshot() : this.append()));
    this.flushing = run.catch(() => undefined);
    return run;
  }

  private async append(): Promise<void> {
    if (this.pending.length === 0) return;
    const ticks = this.pending;
    const index = new Map(this.journalIndex);
    const rec = encodeJournalRecord(ticks, index);
    let fh: fs.promises.FileHandle | undefined;
    try {
      fh = await fs.promises.open(this.journalFile, 'r+');
      await fh.write(rec, 0, rec.length, this.journalLen);
      await fh.sync();
      await fh.close();
    } catch (e) {
      if (fh) await fh.close().catch(() => undefined);
      // The journal's end is now unknown: stop appending; the next flush writes a whole snapshot.
      this.needSnapshot = true;
      this.pending = [];
      throw ioError(this.journalFile, e);
    }
    this.journalLen += rec.length;
    this.journalIndex = index;
    // Ticks recorded while the write was in flight stay pending for the next flush.
    this.pending = this.pending.slice(ticks.length);
  }

  private async snapshot(): Promise<void> {
    const now = Date.now();
    // Expiry runs on the recorded timeline (the tick times), not the wall clock of this moment.
    if (this.lastT !== undefined) this.expire(this.lastT);
    const generation = this.generation + 1;
    const dir = path.dirname(this.file);
    const tmp = `${this.file}.tmp-${process.pid}`;
    const jtmp = `${this.journalFile}.tmp-${process.pid}`;
    const journalHeader = encodeJournalHeader({ generation, intervalMs: this.intervalMs });
    let fh: fs.promises.FileHandle | undefined;
    this.deferred = [];
    try {
      await fs.promises.mkdir(dir, { recursive: true });
      fh = await fs.promises.open(tmp, 'w', 0o600);
      const entries = [...this.series];
      await fh.write(encodeHeader({ intervalMs: this.intervalMs, savedAt: now, firstT: this.firstT ?? null, seriesCount: entries.length, generation }));
      // One series at a time (copied synchronously, then written) so a flush never holds a second copy
      // of the whole history; record() is deferred meanwhile so no tick is half in the snapshot.
      for (const [name, s] of entries) await fh.write(encodeSeries(name, s));
      await fh.write(encodeTrailer());
      await fh.sync();
      await fh.close();
      fh = undefined;
      // The snapshot goes in first: if we die before the new journal replaces the old one, the old
      // journal names the previous generation and is ignored (its ticks are in this snapshot).
      await fs.promises.rename(tmp, this.file);
      fh = await fs.promises.open(jtmp, 'w', 0o600);
      await fh.write(journalHeader);
      await fh.sync();
      await fh.close();
      fh = undefined;
      await fs.promises.rename(jtmp, this.journalFile);
    } catch (e) {
      if (fh) await fh.close().catch(() => undefined);
      await fs.promises.unlink(tmp).catch(() => undefined);
      await fs.promises.unlink(jtmp).catch(() => undefined);
      this.needSnapshot = true;
      this.pending = [];
      this.replayDeferred();
      throw ioError(this.file, e);
    }
    await syncDir(dir);
    this.generation = generation;
    this.journalLen = journalHeader.length;
    this.journalIndex = new Map();
    this.pending = [];
    this.needSnapshot = false;
    // Monotonic: a wall-clock step must neither stop snapshots (journal growing) nor force one per flush.
    this.lastSnapshotAt = this.mono();
    this.replayDeferred();
  }

  private replayDeferred(): void {
    const d = this.deferred ?? [];
    this.deferred = null;
    for (const [t, v] of d) this.record(t, v);
  }
}

function ioError(file: string, e: unknown): Error {
  const err = e as NodeJS.ErrnoException;
  const prefix = err.code && !err.message.startsWith(err.code) ? `${err.code} ` : '';
  return new Error(`cannot write history to ${file}: ${prefix}${err.message}`);
}

/** The rename is durable only once the directory entry is; best effort (some filesystems refuse). */
async function syncDir(dir: string): Promise<void> {
  try {
    const d = await fs.promises.open(dir, 'r');
    await d.sync().finally(() => d.close());
  } catch {
    // ignore
  }
}

/**
 * Removes `<file>.tmp-<pid>` and `<file>.journal.tmp-<pid>` left by a collector that died mid-snapshot
 * (kill -9, power loss): each is a partial copy of the history, tens of MB. Only files of pids that
 * are gone are touched; ours and a live process's are left alone. Never throws.
 */
async function removeOrphanTemps(file: string, log: Logger): Promise<void> {
  const dir = path.dirname(file);
  const base = path.basename(file);
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return;
  }
  const escaped = base.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&');
  const re = new RegExp(`^${escaped}(?:\\.journal)?\\.tmp-(\\d+)$`);
  for (const name of names) {
    const m = re.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    const p = path.join(dir, name);
    try {
      const st = await fs.promises.lstat(p);
      if (!st.isFile()) continue;
      await fs.promises.unlink(p);
      log.info(`removed ${p} (${st.size} bytes), left by collector pid ${pid} which is no longer running`);
    } catch (e) {
      log.warn(`cannot remove the orphaned history temp file ${p}: ${(e as Error).message}`);
    }
  }
}

/** Renames an unreadable file to `<file>.corrupt-<ms>` and says so; never throws. */
async function moveAside(file: string, why: string, log: Logger): Promise<void> {
  const aside = `${file}.corrupt-${Date.now()}`;
  try {
    await fs.promises.rename(file, aside);
    log.warn(`history file ${file} is unreadable (${why}); moved it to ${aside} and started without it`);
  } catch (e) {
    log.warn(`history file ${file} is unreadable (${why}) and could not be moved aside (${(e as Error).message}); started without it`);
  }
}

/** Raw samples k..end-1 as columns (min = avg = max = the value; NaN for null). */
function rawColumns(name: string, stepMs: number, raw: SeriesRings['raw'], k: number, end: number): ColumnSeries {
  const n = Math.max(0, end - k);
  const t = new Float64Array(n);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    t[i] = raw.timeAt(k + i);
    v[i] = raw.valueAt(k + i);
  }
  return { name, stepMs, t, min: v, avg: v, max: v };
}

/** Columns as point tuples (NaN → null). */
export function columnsToPoints(c: ColumnSeries): HistorySeries {
  const n = c.t.length;
  const points = new Array<HistoryPoint>(n);
  const v = (x: number): number | null => (x === x ? x : null);
  for (let i = 0; i < n; i++) points[i] = [c.t[i]!, v(c.min[i]!), v(c.avg[i]!), v(c.max[i]!)];
  return { name: c.name, stepMs: c.stepMs, points };
}

function clampPoints(p: number | undefined): number {
  if (p === undefined || !Number.isFinite(p)) return DEFAULT_POINTS;
  return Math.max(1, Math.min(MAX_POINTS, Math.floor(p)));
}

/** Buckets per output point and the grid origin, so buckets [bFrom, bTo] make at most `points` groups. */
interface Grouping {
  g: number;
  /** Bucket number where group 0 starts: 0 keeps groups on multiples of g (stable as a live chart moves). */
  origin: number;
}

function grouping(bFrom: number, bTo: number, points: number): Grouping {
  const count = bTo - bFrom + 1;
  let g = Math.max(1, Math.ceil(count / points));
  const groups = (x: number): number => Math.floor(bTo / x) - Math.floor(bFrom / x) + 1;
  if (groups(g) <= points) return { g, origin: 0 };
  // Aligned groups can straddle one extra boundary; one fewer point's worth per group absorbs it.
  if (points > 1) {
    g = Math.ceil(count / (points - 1));
    if (groups(g) <= points) return { g, origin: 0 };
  }
  return { g: Math.max(1, Math.ceil(count / points)), origin: bFrom };
}

/** Merges buckets into consecutive groups and emits one point per group, null where a group is empty. */
class Accumulator {
  private readonly min: Float64Array;
  private readonly max: Float64Array;
  private readonly sum: Float64Array;
  private readonly count: Float64Array;

  constructor(
    private readonly g0: number,
    g1: number,
    private readonly width: number,
    private readonly originMs: number,
  ) {
    const n = Math.max(0, g1 - g0 + 1);
    this.min = new Float64Array(n).fill(Infinity);
    this.max = new Float64Array(n).fill(-Infinity);
    this.sum = new Float64Array(n);
    this.count = new Float64Array(n);
  }

  add(group: number, min: number, sum: number, max: number, count: number): void {
    const i = group - this.g0;
    if (i < 0 || i >= this.count.length || count === 0) return;
    if (min < this.min[i]!) this.min[i] = min;
    if (max > this.max[i]!) this.max[i] = max;
    this.sum[i] += sum;
    this.count[i] += count;
  }

  /** One point per group (NaN where a group is empty); reuses the accumulator's own arrays. */
  columns(name: string, stepMs: number): ColumnSeries {
    const n = this.count.length;
    const t = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      t[i] = this.originMs + (this.g0 + i) * this.width;
      const c = this.count[i]!;
      if (c === 0) this.min[i] = this.max[i] = this.sum[i] = NaN;
      else this.sum[i]! /= c;
    }
    return { name, stepMs, t, min: this.min, avg: this.sum, max: this.max };
  }
}
