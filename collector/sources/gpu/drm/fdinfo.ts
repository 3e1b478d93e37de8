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
  const resident = new Map<string, number>();
  const total = new Map<string, number>();
  const legacy = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('drm-')) continue;
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(4, colon);
    const val = line.slice(colon + 1).trim();
    if (key === 'driver') driver = val;
    else if (key === 'pdev') pdev = val;
    else if (key === 'client-id') clientId = val;
    else if (key.startsWith('engine-capacity-')) {
      const n = Number(val);
      if (Number.isInteger(n) && n > 0) capacity.set(key.slice(16), n);
    } else if (key.startsWith('engine-')) {
      const n = parseQuantity(val);
      if (n !== null) engineNs.set(key.slice(7), n);
    } else if (key.startsWith('total-cycles-')) {
      const n = parseQuantity(val);
      if (n !== null) totalCycles.set(key.slice(13), n);
    } else if (key.startsWith('cycles-')) {
      const n = parseQuantity(val);
      if (n !== null) cycles.set(key.slice(7), n);
    } else if (key.startsWith('resident-')) {
      const n = parseQuantity(val);
      if (n !== null) resident.set(key.slice(9), n);
    } else if (key.startsWith('total-')) {
      const n = parseQuantity(val);
      if (n !== null) total.set(key.slice(6), n);
    } else if (key.startsWith('memory-')) {
      const n = parseQuantity(val);
      if (n !== null) legacy.set(key.slice(7), n);
    }
  }
  if (!driver || !clientId) return null;
  const memory = new Map(legacy);
  for (const [k, v] of total) memory.set(k, v);
  for (const [k, v] of resident) memory.set(k, v);
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
  /** How often every process's fd list is walked to find new DRM clients, ms. */
  discoveryIntervalMs: number;
}

/** Cap on DRM file descriptors followed per tick (data from others is bounded). */
export const MAX_DRM_FDS = 8192;

/**
 * Finds DRM clients under <procRoot>/<pid>/fdinfo. A full walk (readdir + readlink of every fd of every
 * process) runs every `discoveryIntervalMs`; between walks only the fdinfo files already known to be
 * DRM clients are read, which keeps a tick to a few hundred small reads on a busy box.
 */
export class FdinfoScanner {
  private known = new Map<number, string[]>(); // pid → fd names that point at /dev/dri
  private lastWalk = -Infinity;
  private prev = new Map<string, ClientPrev>();
  /** Processes whose fd table could not be read in the last walk (another user's, without privileges). */
  unreadablePids = 0;
  /** fdinfo files visited in the last scan (bench, tests). */
  filesRead = 0;

  constructor(private readonly opts: FdinfoScannerOptions) {}

  /** One tick: every DRM client of our devices, deduplicated by (device, client id); `t` is monotonic ms. */
  scan(t: number): DrmClientUse[] {
    if (t - this.lastWalk >= this.opts.discoveryIntervalMs) {
      this.walk();
      this.lastWalk = t;
    }
    const seen = new Map<string, DrmClientUse>();
    const nextPrev = new Map<string, ClientPrev>();
    this.filesRead = 0;
    for (const [pid, fds] of this.known) {
      const keep: string[] = [];
      for (const fd of fds) {
        let text: string;
        try {
          text = this.opts.io.readText(path.join(this.opts.procRoot, String(pid), 'fdinfo', fd));
        } catch {
          continue; // fd closed or process gone: dropped until the next walk finds it again
        }
        this.filesRead++;
        keep.push(fd);
        const f = parseFdinfo(text);
        if (!f || !this.opts.drivers.has(f.driver) || f.pdev === null || !this.opts.pdevs.has(f.pdev)) continue;
        const key = `${f.pdev}|${f.clientId}`;
        // Dup'd and inherited fds share a client id: count the client once, for the lowest pid (the map is in pid order).
        if (seen.has(key)) continue;
        const mem = clientMemoryBytes(f);
        const use: DrmClientUse = { pid, driver: f.driver, pdev: f.pdev, clientId: f.clientId, engines: new Map(), utilRatio: null, memoryBytes: mem.bytes, memoryIsLocal: mem.local };
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
      if (keep.length !== fds.length) {
        if (keep.length === 0) this.known.delete(pid);
        else this.known.set(pid, keep);
      }
    }
    this.prev = nextPrev;
    return [...seen.values()];
  }

  /** Walks every process's fd table for links into /dev/dri. */
  private walk(): void {
    const { io, procRoot } = this.opts;
    const known = new Map<number, string[]>();
    let unreadable = 0;
    let total = 0;
    let pids: number[];
    try {
      pids = io.readdir(procRoot).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
    } catch {
      pids = [];
    }
    for (const pid of pids) {
      let fds: string[];
      const fdDir = path.join(procRoot, String(pid), 'fd');
      try {
        fds = io.readdir(fdDir);
      } catch (e) {
        if (errCode(e) === 'EACCES' || errCode(e) === 'EPERM') unreadable++;
        continue;
      }
      const drm: string[] = [];
      for (const fd of fds) {
        if (total >= MAX_DRM_FDS) break;
        let target: string;
        try {
          target = io.readlink(path.join(fdDir, fd));
        } catch {
          continue;
        }
        if (target.startsWith('/dev/dri/')) {
          drm.push(fd);
          total++;
        }
      }
      if (drm.length > 0) known.set(pid, drm);
    }
    this.known = known;
    this.unreadablePids = unreadable;
  }
}
