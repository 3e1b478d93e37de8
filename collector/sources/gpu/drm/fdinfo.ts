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

const UNIT: Record<string, number> = { '': 1, B: 1, KiB: 1024, kB: 1024, KB: 1024, MiB: 1024 ** 2, MB: 1024 ** 2, GiB: 1024 ** 3, GB: 1024 ** 3 };

function parseQuantity(v: string): number | null {
  const m = /^(\d+)\s*([A-Za-z]*)$/.exec(v.trim());
  if (!m) return null;
  if (m[2] === 'ns') return Number(m[1]);
  const mul = UNIT[m[2]];
  return mul === undefined ? null : Number(m[1]) * mul;
}

/** Parses one fdinfo file; null when it is not a DRM client (no drm-driver or drm-client-id). */
export function parseFdinfo(text: string): DrmFdinfo | null {
  if (text.length > FDINFO_MAX_BYTES || !text.includes('drm-client-id')) return null;
  let driver = '';
  let pdev: string | null = null;
  let clientId = '';
  const engineNs = new Map<string, number>();
  const capacity = new Map<string, number>();
  const cycles = new Map<string, number>();
  const totalCycles = new Map<string, number>();
  const memory = new Map<string, number>();
  // Rank of the memory key that set each region: resident (3) > total (2) > legacy drm-memory- (1).
  const rank = new Map<string, number>();
  const setMem = (region: string, r: number, v: string): void => {
    if ((rank.get(region) ?? 0) > r) return;
    const n = parseQuantity(v);
    if (n === null) return;
    memory.set(region, n);
    rank.set(region, r);
  };
  let pos = 0;
  while (pos < text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    // Only drm- keys matter; amd-/pos/flags lines are skipped on their first character.
    if (text.charCodeAt(pos) === 100 /* d */ && text.startsWith('drm-', pos)) {
      const colon = text.indexOf(':', pos);
      if (colon > 0 && colon < end) {
        const key = text.slice(pos + 4, colon);
        const val = text.slice(colon + 1, end).trim();
        switch (key.charCodeAt(0)) {
          case 100: // d
            if (key === 'driver') driver = val;
            break;
          case 112: // p
            if (key === 'pdev') pdev = val;
            break;
          case 99: // c
            if (key === 'client-id') clientId = val;
            else if (key.startsWith('cycles-')) {
              const n = parseQuantity(val);
              if (n !== null) cycles.set(key.slice(7), n);
            }
            break;
          case 101: // e
            if (key.startsWith('engine-capacity-')) {
              const n = Number(val);
              if (Number.isInteger(n) && n > 0) capacity.set(key.slice(16), n);
            } else if (key.startsWith('engine-')) {
              const n = parseQuantity(val);
              if (n !== null) engineNs.set(key.slice(7), n);
            }
            break;
          case 116: // t
            if (key.startsWith('total-cycles-')) {
              const n = parseQuantity(val);
              if (n !== null) totalCycles.set(key.slice(13), n);
            } else if (key.startsWith('total-')) setMem(key.slice(6), 2, val);
            break;
          case 114: // r
            if (key.startsWith('resident-')) setMem(key.slice(9), 3, val);
            break;
          case 109: // m
            if (key.startsWith('memory-')) setMem(key.slice(7), 1, val);
            break;
        }
      }
    }
    pos = end + 1;
  }
  if (!driver || !clientId) return null;
  return { driver, pdev, clientId, engineNs, capacity, cycles, totalCycles, memory };
}

const LOCAL_REGION = /^(vram|local)\d*$/;
const SYSTEM_REGION = /^(gtt|system\d*)$/;

/** Device memory a client holds: its VRAM/local regions, or on an integrated GPU (none reported) its system regions. */
export function clientMemoryBytes(f: DrmFdinfo): { bytes: number | null; local: boolean } {
  let local = 0;
  let anyLocal = false;
  let sys = 0;
  let anySys = false;
  for (const [k, v] of f.memory) {
    if (LOCAL_REGION.test(k)) {
      local += v;
      anyLocal = true;
    } else if (SYSTEM_REGION.test(k)) {
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

interface ClientPrev {
  t: number;
  engineNs: Map<string, number>;
  cycles: Map<string, number>;
  totalCycles: Map<string, number>;
}

/** Options of the scanner. */
export interface FdinfoScannerOptions {
  procRoot: string;
  io: DrmIo;
  /** Drivers to report (`amdgpu`, `i915`, `xe`). */
  drivers: ReadonlySet<string>;
  /** PCI slots of the devices we report; a client on another device is ignored. */
  pdevs: ReadonlySet<string>;
  /** How often young processes' (and known GPU users') fd lists are walked to find new DRM clients, ms. */
  discoveryIntervalMs: number;
  /** How often every process's fd list is walked, ms (default DRM_FULL_WALK_MS). */
  fullWalkIntervalMs?: number;
}

/** Default cadence of the walk over every process's fds, ms: old processes rarely start using a GPU. */
export const DRM_FULL_WALK_MS = 30_000;
/** A process first seen less than this long ago is walked at every discovery, ms (frameworks open the GPU seconds after start). */
export const YOUNG_PROCESS_MS = 60_000;

/** Cap on DRM file descriptors followed (data from others is bounded). */
export const MAX_DRM_FDS = 8192;
/** fd links read per scan at most; the rest of a walk continues at the next scans. */
export const WALK_BUDGET_LINKS = 2000;

/**
 * Finds DRM clients under <procRoot>/<pid>/fdinfo. Every `discoveryIntervalMs` the fd tables of young
 * processes and known GPU users are walked (readdir + readlink of each fd); every `fullWalkIntervalMs`
 * every process's are. Between walks only the fdinfo files already known to be DRM clients are read,
 * one per client, which keeps a tick to a few hundred small reads on a busy box.
 */
export class FdinfoScanner {
  /** pid → its DRM fds grouped by client (dup'd fds share one): the first of a group is read, the rest are spares. */
  private known = new Map<number, string[][]>();
  /** fdinfo texts the walk already read this tick. */
  private walked = new Map<string, string>();
  private lastWalk = -Infinity;
  private lastFullWalk = -Infinity;
  private firstSeen = new Map<number, number>();
  /** pids whose fd tables are still to be walked (a walk spread over scans). */
  private pending: number[] = [];
  /** Entries of `pending` that belong to the current full walk (its unreadable count is published when they are done). */
  private fullEndsAt = 0;
  private unreadableCount = 0;
  private prev = new Map<string, ClientPrev>();
  /** Processes whose fd table could not be read in the last walk (another user's, without privileges). */
  unreadablePids = 0;
  /** fdinfo files visited in the last scan (bench, tests). */
  filesRead = 0;
  /** What the last scan did besides reading known clients (bench). */
  lastWalkKind: 'none' | 'discovery' | 'full' = 'none';

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

  /** Closes every held fdinfo file. Idempotent. */
  close(): void {
    for (const f of [...this.held.keys()]) this.release(f);
    this.known.clear();
  }

  /** One tick: every DRM client of our devices, deduplicated by (device, client id); `t` is monotonic ms. */
  scan(t: number): DrmClientUse[] {
    this.filesRead = 0;
    this.walked.clear();
    this.lastWalkKind = 'none';
    if (t - this.lastWalk >= this.opts.discoveryIntervalMs || t < this.lastWalk) {
      const full = t - this.lastFullWalk >= (this.opts.fullWalkIntervalMs ?? DRM_FULL_WALK_MS) || t < this.lastFullWalk;
      this.startWalk(t, full);
      this.lastWalkKind = full ? 'full' : 'discovery';
      this.lastWalk = t;
      if (full) this.lastFullWalk = t;
    }
    if (this.pending.length > 0) this.continueWalk();
    const seen = new Map<string, DrmClientUse>();
    const nextPrev = new Map<string, ClientPrev>();
    for (const [pid, groups] of this.known) {
      const dir = path.join(this.opts.procRoot, String(pid), 'fdinfo');
      for (let g = 0; g < groups.length; g++) {
        const fds = groups[g];
        let text: string | null = null;
        // The first fd of the group that is still open speaks for the client; closed ones are dropped.
        while (fds.length > 0 && (text = this.readInfo(path.join(dir, fds[0]))) === null) fds.shift();
        if (text === null) continue;
        const f = parseFdinfo(text);
        if (!f || !this.opts.drivers.has(f.driver) || f.pdev === null || !this.opts.pdevs.has(f.pdev)) continue;
        const key = `${f.pdev}|${f.clientId}`;
        // Dup'd and inherited fds share a client id: count the client once, for the lowest pid (the map is in pid order).
        if (seen.has(key)) continue;
        const mem = clientMemoryBytes(f);
        const use: DrmClientUse = {
          pid,
          driver: f.driver,
          pdev: f.pdev,
          clientId: f.clientId,
          engines: new Map(),
          utilRatio: null,
          memoryBytes: mem.bytes,
          memoryIsLocal: mem.local,
        };
        const p = this.prev.get(key);
        if (p && t > p.t) {
          const dtNs = (t - p.t) * 1e6;
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
        nextPrev.set(key, { t, engineNs: f.engineNs, cycles: f.cycles, totalCycles: f.totalCycles });
        seen.set(key, use);
      }
      const left = groups.filter((x) => x.length > 0);
      if (left.length === 0) this.known.delete(pid);
      else if (left.length !== groups.length) this.known.set(pid, left);
    }
    this.walked.clear();
    this.prev = nextPrev;
    return [...seen.values()];
  }

  /** Lists the processes, drops the gone, and queues the fd tables to walk: every process on a full walk, else the young. */
  private startWalk(t: number, full: boolean): void {
    let pids: number[];
    try {
      pids = this.opts.io
        .readdir(this.opts.procRoot)
        .filter((n) => /^\d+$/.test(n))
        .map(Number)
        .sort((a, b) => a - b);
    } catch {
      pids = [];
    }
    const firstSeen = new Map<number, number>();
    const queue: number[] = [];
    // Processes already running at the first walk are not young: they are walked with the full walks.
    const first = this.lastWalk === -Infinity;
    for (const pid of pids) {
      const seenAt = this.firstSeen.get(pid) ?? (first ? -Infinity : t);
      firstSeen.set(pid, seenAt);
      // Known GPU users keep their groups until the full walk (a second device opened later waits for it).
      if (full || t - seenAt <= YOUNG_PROCESS_MS) queue.push(pid);
    }
    for (const pid of [...this.known.keys()]) if (!firstSeen.has(pid)) this.forgetPid(pid);
    this.firstSeen = firstSeen;
    // A walk still under way keeps its place; the new one's pids follow.
    const queued = new Set(this.pending);
    for (const pid of queue) if (!queued.has(pid)) this.pending.push(pid);
    if (full) {
      this.fullEndsAt = this.pending.length;
      this.unreadableCount = 0;
    }
  }

  /**
   * Walks queued fd tables for links into /dev/dri, reading each DRM fd's fdinfo to group dup'd fds by
   * client, until WALK_BUDGET_LINKS links were read: a full walk of a busy box is spread over a few scans
   * rather than stalling one tick (the reads are synchronous).
   */
  private continueWalk(): void {
    const { io, procRoot } = this.opts;
    let links = 0;
    let walked = 0;
    let total = 0;
    for (const groups of this.known.values()) for (const g of groups) total += g.length;
    while (walked < this.pending.length && links < WALK_BUDGET_LINKS) {
      const pid = this.pending[walked++];
      let fds: string[];
      const fdDir = path.join(procRoot, String(pid), 'fd');
      try {
        fds = io.readdir(fdDir);
      } catch (e) {
        if (errCode(e) === 'EACCES' || errCode(e) === 'EPERM') this.unreadableCount++;
        this.forgetPid(pid);
        continue;
      }
      const drm: string[] = [];
      for (const fd of fds) {
        links++;
        let target: string;
        try {
          target = io.readlink(path.join(fdDir, fd));
        } catch {
          continue;
        }
        if (target.startsWith('/dev/dri/')) drm.push(fd);
      }
      const groups = new Map<string, string[]>();
      for (const fd of drm) {
        if (total >= MAX_DRM_FDS) break;
        const file = path.join(procRoot, String(pid), 'fdinfo', fd);
        let text: string;
        try {
          this.filesRead++;
          text = io.readText(file);
        } catch {
          continue;
        }
        total++;
        this.walked.set(file, text);
        const id = /^drm-client-id:\s*(\S+)/m.exec(text)?.[1] ?? `fd${fd}`;
        const pdev = /^drm-pdev:\s*(\S+)/m.exec(text)?.[1] ?? '';
        const k = `${pdev}|${id}`;
        const l = groups.get(k);
        if (l) l.push(fd);
        else groups.set(k, [fd]);
      }
      this.forgetPid(pid);
      if (groups.size > 0) this.known.set(pid, [...groups.values()]);
    }
    this.pending.splice(0, walked);
    if (this.fullEndsAt > 0) {
      this.fullEndsAt = Math.max(0, this.fullEndsAt - walked);
      if (this.fullEndsAt === 0) this.unreadablePids = this.unreadableCount;
    }
  }

  /** Drops a pid's groups and closes its held files. */
  private forgetPid(pid: number): void {
    const groups = this.known.get(pid);
    if (!groups) return;
    this.known.delete(pid);
    for (const g of groups) for (const fd of g) this.release(path.join(this.opts.procRoot, String(pid), 'fdinfo', fd));
  }
}
