// DRM client usage stats from /proc/<pid>/fdinfo/<fd> (the kernel's Documentation/gpu/drm-usage-stats.rst):
// a pure parser, and a scanner that finds the DRM file descriptors of every process, deduplicates
// them by client id and turns engine-time deltas into utilisation.

import * as path from 'node:path';
import type { DrmIo } from './drm-io';
import { errCode } from './drm-io';

/** One DRM client as one fdinfo file describes it. */
export interface DrmFdinfo {
  driver: string;
  /** PCI slot (`0000:03:00.0`) as the kernel prints it; null on drivers that leave it out. */
  pdev: string | null;
  clientId: string;
  /** Busy time per engine (`drm-engine-<name>`), ns. */
  engineNs: Map<string, number>;
  /** Engines of a class that share the time above (`drm-engine-capacity-<name>`). */
  capacity: Map<string, number>;
  /** xe: busy and total GPU cycles per engine class (`drm-cycles-*`, `drm-total-cycles-*`). */
  cycles: Map<string, number>;
  totalCycles: Map<string, number>;
  /** Bytes per memory region: the best of resident > total > legacy drm-memory-. */
  memory: Map<string, number>;
}

/** Upper bound on one fdinfo file's size we parse, bytes (they are a few hundred; a bigger one is not DRM's). */
export const FDINFO_MAX_BYTES = 16 * 1024;

/**
 * Multiplier of the unit between `i` and `e` (the kernel prints KiB and MiB per drm-usage-stats.rst, B or
 * nothing in older drivers, ns after engine times), or null for another. Compared in place, not sliced.
 */
function unitAt(text: string, i: number, e: number): number | null {
  const len = e - i;
  if (len === 0) return 1;
  const c0 = text.charCodeAt(i);
  if (len === 1) return c0 === 66 /* B */ ? 1 : null;
  const last = text.charCodeAt(e - 1);
  if (len === 2) {
    if (c0 === 110 /* n */ && last === 115 /* s */) return 1;
    if (last !== 66 /* B */) return null;
  } else if (len !== 3 || last !== 66 || text.charCodeAt(i + 1) !== 105 /* i */) return null;
  // kB KB MB GB, KiB MiB GiB
  if (c0 === 107 /* k */ || c0 === 75 /* K */) return c0 === 107 && len === 3 ? null : 1024;
  if (c0 === 77 /* M */) return 1024 ** 2;
  if (c0 === 71 /* G */) return 1024 ** 3;
  return null;
}

/** Where the value after a key's colon starts: past the spaces and tabs. */
function valueStart(text: string, i: number, end: number): number {
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9) break;
    i++;
  }
  return i;
}

/**
 * `<digits>[ <unit>]` between `i` and `end` as a number, or null. Hand-rolled: this runs for ~20 keys
 * of every DRM client every scan, and a regex plus slices cost several times more (bench/gpu).
 */
function quantityAt(text: string, i: number, end: number): number | null {
  i = valueStart(text, i, end);
  let n = 0;
  const d0 = i;
  while (i < end) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    n = n * 10 + c;
    i++;
  }
  if (i === d0) return null;
  let e = end;
  while (e > i && (text.charCodeAt(e - 1) === 32 || text.charCodeAt(e - 1) === 9 || text.charCodeAt(e - 1) === 13)) e--;
  i = valueStart(text, i, e);
  const mul = unitAt(text, i, e);
  return mul === null ? null : n * mul;
}

/**
 * A DrmFdinfo the scanner parses into again and again (two per client, alternating): its maps are updated
 * in place rather than rebuilt, and the key names of its lines are kept, so a client whose file has the
 * same lines as last time (always, in practice) costs no allocation but the text itself.
 */
interface FdinfoRec extends DrmFdinfo {
  /** Per memory region: parse stamp × 4 + rank of the key that set it (resident 3 > total 2 > legacy drm-memory- 1). */
  rank: Map<string, number>;
  /** The names (engine, region) of the kept lines at the last parse, in order: reused when a line has the same. */
  names: string[];
}

function newRec(): FdinfoRec {
  return {
    driver: '',
    pdev: null,
    clientId: '',
    engineNs: new Map(),
    capacity: new Map(),
    cycles: new Map(),
    totalCycles: new Map(),
    memory: new Map(),
    rank: new Map(),
    names: [],
  };
}

/** Parses one fdinfo file; null when it is not a DRM client (no drm-driver or drm-client-id). */
export function parseFdinfo(text: string): DrmFdinfo | null {
  const out = newRec();
  if (!parseFdinfoInto(text, out)) return null;
  return {
    driver: out.driver,
    pdev: out.pdev,
    clientId: out.clientId,
    engineNs: out.engineNs,
    capacity: out.capacity,
    cycles: out.cycles,
    totalCycles: out.totalCycles,
    memory: out.memory,
  };
}

/**
 * `text` at [at, end) (past leading blanks, trailing blanks cut) as a string: `prev` itself when it
 * matches, so a client's driver, pdev and id, the same at every scan, are compared in place, not sliced.
 */
function strAt(text: string, at: number, end: number, prev: string | null): string {
  at = valueStart(text, at, end);
  while (end > at && (text.charCodeAt(end - 1) === 32 || text.charCodeAt(end - 1) === 9 || text.charCodeAt(end - 1) === 13)) end--;
  if (prev !== null && prev.length === end - at && text.startsWith(prev, at)) return prev;
  return text.slice(at, end);
}

/** Stamps of parses (FdinfoRec.rank): a region's rank counts only within the parse that set it. */
let parseStamp = 0;

/**
 * Parses one fdinfo file into `out`, updating its maps in place (a key the file no longer has is removed:
 * then the maps are rebuilt). False when the text is not a DRM client (no drm-driver or drm-client-id).
 */
function parseFdinfoInto(text: string, out: FdinfoRec): boolean {
  if (text.length > FDINFO_MAX_BYTES) return false;
  if (parseLines(text, out)) return out.driver !== '' && out.clientId !== '';
  // A key of the last parse is not in this file: start from empty maps (the second pass cannot be stale).
  out.engineNs.clear();
  out.capacity.clear();
  out.cycles.clear();
  out.totalCycles.clear();
  out.memory.clear();
  out.rank.clear();
  parseLines(text, out);
  return out.driver !== '' && out.clientId !== '';
}

/** One pass over the lines; false when a map still holds a key this text lacks. */
function parseLines(text: string, out: FdinfoRec): boolean {
  const prevDriver = out.driver;
  const prevPdev = out.pdev;
  const prevId = out.clientId;
  let driver = '';
  let pdev: string | null = null;
  let clientId = '';
  const { engineNs, capacity, cycles, totalCycles, memory, rank, names } = out;
  const stamp = ++parseStamp * 4;
  let nEngine = 0;
  let nCapacity = 0;
  let nCycles = 0;
  let nTotal = 0;
  let nMemory = 0;
  let j = 0;
  /** The name at [a, b): the one this record's j-th kept line had, when equal. */
  const nameAt = (a: number, b: number): string => {
    const k = names[j];
    if (k !== undefined && k.length === b - a && text.startsWith(k, a)) {
      j++;
      return k;
    }
    const s = text.slice(a, b);
    names[j++] = s;
    return s;
  };
  const setMem = (a: number, colon: number, r: number, end: number): void => {
    const n = quantityAt(text, colon + 1, end);
    if (n === null) return;
    const region = nameAt(a, colon);
    const had = rank.get(region) ?? 0;
    if (had >= stamp) {
      if (had > stamp + r) return;
    } else nMemory++;
    memory.set(region, n);
    rank.set(region, stamp + r);
  };
  // Only drm- keys matter: the search jumps from one drm- line to the next (amd-, pos, flags lines are
  // skipped by the string search, not line by line).
  let pos = text.startsWith('drm-') ? 0 : text.indexOf('\ndrm-');
  if (pos > 0) pos++;
  while (pos >= 0) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    {
      const colon = text.indexOf(':', pos);
      if (colon > 0 && colon < end) {
        const k0 = pos + 4;
        const v = colon + 1;
        // Dispatch on the key's first character, then compare in place: no slice unless the key is new.
        switch (text.charCodeAt(k0)) {
          case 100: // d
            if (colon - k0 === 6 && text.startsWith('driver', k0)) driver = strAt(text, v, end, prevDriver);
            break;
          case 112: // p
            if (colon - k0 === 4 && text.startsWith('pdev', k0)) pdev = strAt(text, v, end, prevPdev);
            break;
          case 99: // c
            if (colon - k0 === 9 && text.startsWith('client-id', k0)) clientId = strAt(text, v, end, prevId);
            else if (text.startsWith('cycles-', k0)) {
              const n = quantityAt(text, v, end);
              if (n !== null) {
                cycles.set(nameAt(k0 + 7, colon), n);
                nCycles++;
              }
            }
            break;
          case 101: // e
            if (text.startsWith('engine-capacity-', k0)) {
              const n = quantityAt(text, v, end);
              if (n !== null && n > 0) {
                capacity.set(nameAt(k0 + 16, colon), n);
                nCapacity++;
              }
            } else if (text.startsWith('engine-', k0)) {
              const n = quantityAt(text, v, end);
              if (n !== null) {
                engineNs.set(nameAt(k0 + 7, colon), n);
                nEngine++;
              }
            }
            break;
          case 116: // t
            if (text.startsWith('total-cycles-', k0)) {
              const n = quantityAt(text, v, end);
              if (n !== null) {
                totalCycles.set(nameAt(k0 + 13, colon), n);
                nTotal++;
              }
            } else if (text.startsWith('total-', k0)) setMem(k0 + 6, colon, 2, end);
            break;
          case 114: // r
            if (text.startsWith('resident-', k0)) setMem(k0 + 9, colon, 3, end);
            break;
          case 109: // m
            if (text.startsWith('memory-', k0)) setMem(k0 + 7, colon, 1, end);
            break;
        }
      }
    }
    pos = end < text.length ? text.indexOf('\ndrm-', end) : -1;
    if (pos >= 0) pos++;
  }
  out.driver = driver;
  out.pdev = pdev;
  out.clientId = clientId;
  return engineNs.size <= nEngine && capacity.size <= nCapacity && cycles.size <= nCycles && totalCycles.size <= nTotal && memory.size <= nMemory;
}

const LOCAL_REGION = /^(vram|local)\d*$/;
const SYSTEM_REGION = /^(gtt|system\d*)$/;
/** Region name → 1 local, 2 system, 0 neither: a handful of names, tested once each instead of per client per scan. */
const regionKind = new Map<string, number>();

function kindOf(region: string): number {
  let k = regionKind.get(region);
  if (k === undefined) {
    k = LOCAL_REGION.test(region) ? 1 : SYSTEM_REGION.test(region) ? 2 : 0;
    // Bounded: region names come from the kernel, but a misbehaving driver must not grow this forever.
    if (regionKind.size < 256) regionKind.set(region, k);
  }
  return k;
}

/** Device memory a client holds: its VRAM/local regions, or on an integrated GPU (none reported) its system regions. */
export function clientMemoryBytes(f: DrmFdinfo): { bytes: number | null; local: boolean } {
  let local = 0;
  let anyLocal = false;
  let sys = 0;
  let anySys = false;
  for (const [k, v] of f.memory) {
    const kind = kindOf(k);
    if (kind === 1) {
      local += v;
      anyLocal = true;
    } else if (kind === 2) {
      sys += v;
      anySys = true;
    }
  }
  if (anyLocal) return { bytes: local, local: true };
  return { bytes: anySys ? sys : null, local: false };
}

/** One deduplicated DRM client's use over the last interval. */
export interface DrmClientUse {
  pid: number;
  driver: string;
  pdev: string;
  clientId: string;
  /** Busy ratio per engine over the last interval (null on the first sight of a client). */
  engines: Map<string, number>;
  /** Busiest engine's ratio, 0..1; null on the first sight. */
  utilRatio: number | null;
  memoryBytes: number | null;
  memoryIsLocal: boolean;
}

/** A client followed across scans: its last fdinfo (for the deltas) and its use, both reused. */
interface ClientRec {
  /** The scan that last saw it (a client seen twice in one scan is a dup'd or inherited fd). */
  gen: number;
  /** When `last` was read, ms. */
  t: number;
  last: FdinfoRec;
  use: DrmClientUse;
  /** Reads in a row that found it idle: no engine time and the same memory as the read before. */
  quietReads: number;
  /** Scans left that reuse the last read of this (quiet, amdgpu) client instead of reading it. */
  skipLeft: number;
}

/**
 * An amdgpu client found idle by QUIET_READS_TO_SKIP reads in a row (no engine time, same memory) is read
 * at every (QUIET_SKIP_SCANS + 1)th scan only; the scans between reuse its last read (0 % busy, its memory).
 * Any change at a read puts it back to every scan. An AMD GPU's own busy and memory come from sysfs every
 * tick, so only the per-process rows wait: a quiet client that turns busy or allocates shows within
 * QUIET_SKIP_SCANS + 1 scans (6 s at the 2 s AMD scan), and a quiet client's process that exits leaves at
 * the next listing (5 s) if not sooner. Intel clients are read every scan (the GPU's busy is their sum).
 */
export const QUIET_READS_TO_SKIP = 2;
export const QUIET_SKIP_SCANS = 2;

/** Options of the scanner. */
export interface FdinfoScannerOptions {
  procRoot: string;
  io: DrmIo;
  /** Drivers to report (`amdgpu`, `i915`, `xe`). */
  drivers: ReadonlySet<string>;
  /** PCI slots of the devices we report; a client on another device is ignored. */
  pdevs: ReadonlySet<string>;
  /** How often the process list is read and young processes' fd tables re-walked, ms. */
  discoveryIntervalMs: number;
  /** How often every process's fd list is checked for new fd numbers, ms (default DRM_FULL_WALK_MS). */
  fullWalkIntervalMs?: number;
  /** How often every fd of every process is re-read (readlink), ms (default DRM_RELINK_MS). */
  relinkIntervalMs?: number;
  /** fs operations (readdir, readlink, small read) one scan may spend on walks (default WALK_BUDGET_OPS). */
  walkBudgetOps?: number;
}

/** Default cadence of the check of every process's fd list for new fd numbers, ms. */
export const DRM_FULL_WALK_MS = 30_000;
/**
 * Default cadence of the readlink of every fd of every process, ms. The 30 s check only reads the links of
 * fd numbers it has not seen: an old process that closes fd 7 and opens a GPU on the same number is found
 * here, or sooner: at its next check if the GPU got a new number, or at a re-link the backend requests when
 * an AMD GPU's VRAM grows by more than its known clients hold (requestRelink). Reading every link every
 * 30 s was most of the backend's cost on a busy box (bench/gpu: ~20 fds per process, 500 processes).
 */
export const DRM_RELINK_MS = 600_000;
/** A process first seen less than this long ago is walked at every listing, ms (frameworks open the GPU seconds after start). */
export const YOUNG_PROCESS_MS = 60_000;

/**
 * Checks in a row that a process's fd count alone may answer: where one stat of /proc/<pid>/fd gives the
 * number of open fds (Linux ≥ 6.2), a check whose count did not change since the last look skips the
 * listing (1 syscall instead of readdir's 4 and an array of names). Opening the GPU adds fds, so the count
 * grows; a process that closed as many fds as it opened is listed at the latest at every
 * (MAX_COUNT_ONLY_CHECKS + 1)th check: within 4 × DRM_FULL_WALK_MS = 2 min.
 */
export const MAX_COUNT_ONLY_CHECKS = 3;
/** Listings whose length must equal the fd directory's size (all of them) before the count is trusted. */
const COUNT_CALIBRATION_WALKS = 8;

/** Cap on DRM file descriptors followed (data from others is bounded). */
export const MAX_DRM_FDS = 8192;
/** fs operations spent on walks per scan at most; what is left waits for the next scans. */
export const WALK_BUDGET_OPS = 600;

/** What the scanner remembers of one process, keyed by pid and checked against its start time. */
interface PidState {
  /** Field 22 of /proc/<pid>/stat (start time in clock ticks): a reused pid is another process. */
  start: string | null;
  firstSeen: number;
  /** fd names at the last walk; null before the first. */
  fds: Set<string> | null;
  /** DRM fdinfo paths grouped by client (dup'd fds share one): the first of a group is read, the rest are spares. */
  groups: FdGroup[];
  /** Monotonic ms when the fd list is next checked for new numbers, and every link next re-read. */
  nextCheck: number;
  nextRelink: number;
  /** The last walk could not list the fd table (another user's process, without privileges). */
  unreadable: boolean;
  /** Open fds at the last look (listing, or a stat of the fd directory where it gives the count); null unknown. */
  fdCount: number | null;
  /** Checks in a row answered by the fd count alone (no listing): at most MAX_COUNT_ONLY_CHECKS. */
  countOnly: number;
  /** Queued by a listing (a young process) for a full walk at the next scans. */
  queued: 'none' | 'relink';
  /** A re-link was requested for every process (requestRelink): taken at the next scans, budget allowing. */
  relinkSoon: boolean;
}

/** The fdinfo files of one DRM client of a process, keyed by `<pdev>|<client id>` as the walk found them. */
interface FdGroup {
  key: string;
  /** drm-pdev and drm-client-id as the walk read them ('' and `fd<n>` where absent). */
  pdev: string;
  clientId: string;
  files: string[];
}

/**
 * The next turn after one due at `due` and taken at `t`: on the same grid (due + k × interval), so a turn
 * taken late (a scan's budget ran out, a busy start-up) keeps its phase instead of bunching with the others
 * taken at the same scan; one taken early keeps its turn.
 */
function advance(due: number, t: number, interval: number): number {
  if (!Number.isFinite(due)) return t + interval;
  // Walked before its turn (a young process at a listing): the turn stays where it was.
  if (t < due) return due;
  const k = Math.max(1, Math.floor((t - due) / interval) + 1);
  return due + k * interval;
}

/** Spreads pids over an interval: a fixed fraction per pid (golden-ratio hashing), so their walks do not bunch. */
function phase(pid: number): number {
  return (pid * 0.6180339887498949) % 1;
}

/**
 * Finds DRM clients under <procRoot>/<pid>/fdinfo, incrementally. Each process's state is remembered
 * (keyed by pid and start time): its fd names and which were DRM. A new process gets one full walk
 * (readdir + readlink of each fd); after that its fd list is checked every `fullWalkIntervalMs` and only
 * new fd numbers are followed, with a full re-read of its links every `relinkIntervalMs`. Young processes
 * are re-walked at each listing (every `discoveryIntervalMs`). Each process's turns are spread over the
 * interval, and a scan spends at most `walkBudgetOps` fs operations on walks: no tick pays a whole walk.
 * Between walks only the fdinfo files already known to be DRM clients are read, one per client.
 */
export class FdinfoScanner {
  private states = new Map<number, PidState>();
  /** fdinfo texts the walk already read this tick. */
  private walked = new Map<string, string>();
  private lastList = -Infinity;
  /** Clients by `<pdev>|<client id>`, as the last scan saw them. */
  private clients = new Map<string, ClientRec>();
  /** The scan counter (ClientRec.gen). */
  private gen = 0;
  /** The record the next fdinfo is parsed into. */
  private spare = newRec();
  private drmFds = 0;
  /** Processes whose fd table could not be read in their last walk (another user's, without privileges). */
  unreadablePids = 0;
  /** fdinfo files visited in the last scan (bench, tests). */
  filesRead = 0;
  /** fs operations the last scan spent on walks, besides reading known clients (bench). */
  walkOps = 0;
  /** Whether a stat of /proc/<pid>/fd gives the number of open fds here (null: not known yet; see calibrate). */
  countsTrusted: boolean | null = null;
  private countsEqual = 0;
  private countsDiffer = 0;

  constructor(private readonly opts: FdinfoScannerOptions) {}

  /** Open fdinfo files of the clients' representative fds, re-read in place every scan. */
  private held = new Map<string, number>();

  private readInfo(file: string): string | null {
    const w = this.walked.get(file);
    if (w !== undefined) return w;
    this.filesRead++;
    const { io } = this.opts;
    let fd = this.held.get(file);
    try {
      if (fd === undefined) {
        fd = io.open(file);
        this.held.set(file, fd);
      }
      return io.reread(fd);
    } catch {
      // fd closed or process gone: the held file is dead for good (a reused pid is another process).
      if (fd !== undefined) this.release(file);
      return null;
    }
  }

  private release(file: string): void {
    const fd = this.held.get(file);
    if (fd === undefined) return;
    this.held.delete(file);
    try {
      this.opts.io.close(fd);
    } catch {
      /* already closed */
    }
  }

  /**
   * Asks for a re-link of every known process at the next scans (spread by the walk budget): something
   * holds GPU memory that no known client accounts for, so a process may have opened the GPU on an fd
   * number it had before.
   */
  requestRelink(): void {
    for (const st of this.states.values()) if (st.fds !== null) st.relinkSoon = true;
  }

  /** Closes every held fdinfo file. Idempotent. */
  close(): void {
    for (const f of [...this.held.keys()]) this.release(f);
    this.states.clear();
  }

  /** One tick: every DRM client of our devices, deduplicated by (device, client id); `t` is monotonic ms. */
  scan(t: number): DrmClientUse[] {
    this.filesRead = 0;
    this.walkOps = 0;
    this.walked.clear();
    if (t - this.lastList >= this.opts.discoveryIntervalMs || t < this.lastList) {
      this.list(t);
      this.lastList = t;
    }
    this.walk(t);
    const gen = ++this.gen;
    const out: DrmClientUse[] = [];
    const { drivers, pdevs } = this.opts;
    let unreadable = 0;
    for (const [pid, st] of this.states) {
      if (st.unreadable) unreadable++;
      const groups = st.groups;
      if (groups.length === 0) continue;
      let emptied = false;
      for (const g of groups) {
        const files = g.files;
        // A quiet amdgpu client between its reads: its last read stands (after the dedup check, as below).
        const known = this.clients.get(g.key);
        if (known !== undefined && known.skipLeft > 0 && known.gen === gen - 1 && files.length > 0) {
          known.skipLeft--;
          known.gen = gen;
          known.use.pid = pid;
          out.push(known.use);
          continue;
        }
        let f: FdinfoRec | null = null;
        // The first fd of the group that is still a DRM client speaks for it. A closed one (read fails) or one
        // whose number now holds another file (a held fdinfo shows whatever the number holds) is dropped, and
        // its number forgotten so the next check follows it again.
        while (files.length > 0) {
          const text = this.readInfo(files[0]);
          if (text !== null && parseFdinfoInto(text, this.spare)) {
            f = this.spare;
            break;
          }
          this.release(files[0]);
          st.fds?.delete(path.basename(files[0]));
          // Its number may hold something new already (same count): the next check lists the table.
          st.fdCount = null;
          files.shift();
          this.drmFds--;
        }
        if (!f) {
          emptied = true;
          continue;
        }
        if (!drivers.has(f.driver) || f.pdev === null || !pdevs.has(f.pdev)) continue;
        // The walk keyed the group by the pdev and id it read; the same client reads the same (an fd number
        // reused for another DRM client gets its own key).
        const key = f.pdev === g.pdev && f.clientId === g.clientId ? g.key : `${f.pdev}|${f.clientId}`;
        let rec = this.clients.get(key);
        // Dup'd and inherited fds share a client id: count the client once, for the lowest pid (the map is in pid order).
        if (rec !== undefined && rec.gen === gen) continue;
        const mem = clientMemoryBytes(f);
        if (rec === undefined) {
          rec = {
            gen,
            t,
            quietReads: 0,
            skipLeft: 0,
            last: f,
            use: { pid, driver: f.driver, pdev: f.pdev, clientId: f.clientId, engines: new Map(), utilRatio: null, memoryBytes: null, memoryIsLocal: false },
          };
          this.clients.set(key, rec);
          this.spare = newRec();
        } else {
          const use = rec.use;
          use.pid = pid;
          use.driver = f.driver;
          use.pdev = f.pdev;
          use.clientId = f.clientId;
          use.engines.clear();
          use.utilRatio = null;
          const p = rec.last;
          if (t > rec.t) {
            const dtNs = (t - rec.t) * 1e6;
            let max = 0;
            for (const [e, ns] of f.engineNs) {
              const before = p.engineNs.get(e);
              if (before === undefined || ns < before) continue;
              const r = Math.min(1, (ns - before) / dtNs / (f.capacity.get(e) ?? 1));
              use.engines.set(e, r);
              if (r > max) max = r;
            }
            for (const [e, c] of f.cycles) {
              const c0 = p.cycles.get(e);
              const tot = f.totalCycles.get(e);
              const tot0 = p.totalCycles.get(e);
              if (c0 === undefined || tot === undefined || tot0 === undefined || tot <= tot0 || c < c0) continue;
              const r = Math.min(1, (c - c0) / (tot - tot0) / (f.capacity.get(e) ?? 1));
              use.engines.set(e, r);
              if (r > max) max = r;
            }
            use.utilRatio = use.engines.size > 0 ? max : null;
          }
          // The record just read becomes the client's last; its previous one is the next parse's scratch.
          this.spare = p;
          rec.last = f;
          rec.gen = gen;
          rec.t = t;
          const quiet = use.utilRatio === 0 && mem.bytes === use.memoryBytes && f.driver === 'amdgpu';
          rec.quietReads = quiet ? rec.quietReads + 1 : 0;
          if (rec.quietReads >= QUIET_READS_TO_SKIP) rec.skipLeft = QUIET_SKIP_SCANS;
        }
        rec.use.memoryBytes = mem.bytes;
        rec.use.memoryIsLocal = mem.local;
        out.push(rec.use);
      }
      if (emptied) {
        st.groups = groups.filter((x) => x.files.length > 0);
        // Every DRM fd of the process failed at once: it most likely exited. Forget it, so that a new
        // process given the same pid before the next listing is walked as new (young), not as this one.
        if (st.groups.length === 0) this.states.delete(pid);
      }
    }
    // A client not seen this scan is gone (or filtered out): its deltas start over if it comes back.
    for (const [key, rec] of this.clients) if (rec.gen !== gen) this.clients.delete(key);
    this.unreadablePids = unreadable;
    this.walked.clear();
    return out;
  }

  /** Reads the process list: the gone are dropped, the new added; young processes are queued for a full walk. */
  private list(t: number): void {
    let pids: number[];
    try {
      pids = [];
      for (const n of this.opts.io.readdir(this.opts.procRoot)) {
        const c = n.charCodeAt(0);
        // Pids only (/proc also holds self, sys, cpuinfo…): digits, checked on the first and then as a whole.
        if (c >= 48 && c <= 57 && /^\d+$/.test(n)) pids.push(Number(n));
      }
      pids.sort((a, b) => a - b);
    } catch {
      pids = [];
    }
    this.walkOps++;
    // Processes already running at the first listing are not young: they are followed at the normal cadences.
    const first = this.lastList === -Infinity;
    const next = new Map<number, PidState>();
    for (const pid of pids) {
      let st = this.states.get(pid);
      if (!st) {
        st = {
          start: null,
          firstSeen: first ? -Infinity : t,
          fds: null,
          groups: [],
          nextCheck: -Infinity,
          nextRelink: -Infinity,
          unreadable: false,
          fdCount: null,
          countOnly: 0,
          queued: 'none',
          relinkSoon: false,
        };
      } else if (t - st.firstSeen <= YOUNG_PROCESS_MS) st.queued = 'relink';
      next.set(pid, st);
    }
    for (const pid of this.states.keys()) if (!next.has(pid)) this.forgetPid(pid);
    this.states = next;
  }

  /**
   * Spends at most the walk budget on the processes whose turn it is: never-walked ones first, then those a
   * listing queued (young), then the due checks and re-links. What does not fit keeps its turn for the next scans.
   */
  private walk(t: number): void {
    const budget = this.opts.walkBudgetOps ?? WALK_BUDGET_OPS;
    const check = this.opts.fullWalkIntervalMs ?? DRM_FULL_WALK_MS;
    const relink = this.opts.relinkIntervalMs ?? DRM_RELINK_MS;
    for (let pass = 0; pass < 3 && this.walkOps < budget; pass++) {
      for (const [pid, st] of this.states) {
        if (this.walkOps >= budget) break;
        let full: boolean;
        if (pass === 0) {
          if (st.fds !== null) continue;
          full = true;
        } else if (pass === 1) {
          if (st.queued === 'none') continue;
          full = true;
        } else {
          if (t < st.nextCheck && t < st.nextRelink && !st.relinkSoon) continue;
          full = t >= st.nextRelink || st.relinkSoon;
        }
        this.walkPid(pid, st, t, full, check, relink);
      }
    }
  }

  /**
   * Walks one fd table: lists it and follows the links of new fd numbers (every link when `full`), reading
   * each new DRM fd's fdinfo to group dup'd fds by client. A full walk also checks the start time: a pid
   * that now belongs to another process starts over, young.
   */
  private walkPid(pid: number, st: PidState, t: number, full: boolean, check: number, relink: number): void {
    const { io, procRoot } = this.opts;
    const base = path.join(procRoot, String(pid));
    st.queued = 'none';
    if (full) {
      st.relinkSoon = false;
      const start = this.startTime(base);
      if (st.fds !== null && start !== st.start) {
        this.dropGroups(st);
        st.fds = null;
        st.firstSeen = t;
      }
      st.start = start;
    }
    // Turns after the first keep a per-pid phase, so a box's processes spread over each interval.
    st.nextCheck = st.fds === null ? t + check * phase(pid) : advance(st.nextCheck, t, check);
    if (full) st.nextRelink = st.fds === null ? t + relink * phase(pid) : advance(st.nextRelink, t, relink);
    const fdDir = path.join(base, 'fd');
    // A check (not a full walk) of a process whose fd count is known: one stat answers it when the count
    // did not change (nothing was opened), except every (MAX_COUNT_ONLY_CHECKS + 1)th check, which lists.
    if (!full && this.countsTrusted === true && st.fdCount !== null && st.countOnly < MAX_COUNT_ONLY_CHECKS && io.dirSize) {
      this.walkOps++;
      let n = -1;
      try {
        n = io.dirSize(fdDir);
      } catch {
        /* gone or unreadable: the listing below says which */
      }
      if (n === st.fdCount) {
        st.countOnly++;
        return;
      }
    }
    st.countOnly = 0;
    let names: string[];
    this.walkOps++;
    try {
      names = io.readdir(fdDir);
    } catch (e) {
      const code = errCode(e);
      st.unreadable = code === 'EACCES' || code === 'EPERM';
      st.fds = new Set();
      st.fdCount = null;
      return;
    }
    st.unreadable = false;
    st.fdCount = names.length;
    if (this.countsTrusted === null && io.dirSize) this.calibrate(fdDir, names.length);
    const before = st.fds;
    const known = new Set<string>();
    for (const g of st.groups) for (const f of g.files) known.add(path.basename(f));
    const byKey = new Map<string, FdGroup>();
    for (const g of st.groups) byKey.set(g.key, g);
    for (const name of names) {
      if (!full && before !== null && before.has(name)) continue;
      if (known.has(name)) continue;
      this.walkOps++;
      let target: string;
      try {
        target = io.readlink(path.join(fdDir, name));
      } catch {
        continue;
      }
      if (!target.startsWith('/dev/dri/') || this.drmFds >= MAX_DRM_FDS) continue;
      const file = path.join(base, 'fdinfo', name);
      let text: string;
      try {
        this.filesRead++;
        this.walkOps++;
        text = io.readText(file);
      } catch {
        continue;
      }
      this.walked.set(file, text);
      const id = /^drm-client-id:\s*(\S+)/m.exec(text)?.[1] ?? `fd${name}`;
      const pdev = /^drm-pdev:\s*(\S+)/m.exec(text)?.[1] ?? '';
      const key = `${pdev}|${id}`;
      this.drmFds++;
      // A new fd of a client already followed (a dup) joins its group as a spare; a new client gets its own.
      const g = byKey.get(key);
      if (g) g.files.push(file);
      else {
        const ng = { key, pdev, clientId: id, files: [file] };
        byKey.set(key, ng);
        st.groups.push(ng);
      }
    }
    st.fds = new Set(names);
  }

  /**
   * Whether the fd directory's size is its number of entries on this file system (procfs on Linux ≥ 6.2):
   * compared with the listing's length on the first walks; trusted after COUNT_CALIBRATION_WALKS equal
   * answers, never after as many different ones (older kernels say 0, a captured tree on disk its block size).
   */
  private calibrate(fdDir: string, listed: number): void {
    this.walkOps++;
    let size: number;
    try {
      size = this.opts.io.dirSize!(fdDir);
    } catch {
      return;
    }
    if (size === listed) {
      if (++this.countsEqual >= COUNT_CALIBRATION_WALKS) this.countsTrusted = true;
    } else if (++this.countsDiffer >= COUNT_CALIBRATION_WALKS) this.countsTrusted = false;
  }

  /** The start time field of /proc/<pid>/stat (after the command name, which may hold spaces and parentheses). */
  private startTime(base: string): string | null {
    this.walkOps++;
    try {
      const s = this.opts.io.readText(path.join(base, 'stat'));
      // Field 22: the 20th after the state, which follows ") " (found by counting spaces, not splitting).
      let i = s.lastIndexOf(')') + 2;
      for (let n = 0; n < 19 && i > 0; n++) i = s.indexOf(' ', i) + 1;
      if (i <= 0) return null;
      const e = s.indexOf(' ', i);
      const v = e < 0 ? s.slice(i).trim() : s.slice(i, e);
      return v === '' ? null : v;
    } catch {
      return null;
    }
  }

  /** Forgets a process and closes its held files. */
  private forgetPid(pid: number): void {
    const st = this.states.get(pid);
    if (!st) return;
    this.dropGroups(st);
    this.states.delete(pid);
  }

  /** Drops a process's DRM groups and closes their held files. */
  private dropGroups(st: PidState): void {
    for (const g of st.groups) {
      for (const f of g.files) this.release(f);
      this.drmFds -= g.files.length;
    }
    st.groups = [];
  }
}
export const __newRec = newRec;
