// Who a GPU process is: pid (mapped through NSpid when NVML reports it from another pid namespace), user,
// full command, start time and owner (container, pod, unit, session), read from /proc and cached per
// pid. A cached pid is re-checked (its start time in /proc/<pid>/stat) a bounded number per tick, so a
// reused pid is noticed and a vanished one is reported as not alive, at a cost independent of how many
// processes hold GPUs. Used by every GPU backend; RIGWATCH_PROC_ROOT points it at a captured tree.

import * as fs from 'node:fs';
import type { ProcessOwner } from '../../../protocol/details/gpu';
import { parseCgroupOwner } from './cgroup';
import { parseBootTime, parseCmdline, parseNsPid, parsePasswd, parseStartTicks, parseUid, shortName } from './proc-parse';

/** Cached pids whose start time is re-read per tick (the rest wait their turn). */
export const REVALIDATE_PER_TICK = 16;
/** Shortest interval between two scans of every /proc/<pid>/status for NSpid, in ms. */
export const NSPID_SCAN_INTERVAL_MS = 10_000;
/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every Linux ABI). */
const CLOCK_TICKS_PER_SECOND = 100;
const PASSWD_FILE = '/etc/passwd';

/** Everything attribution knows about one process. */
export interface ProcIdentity {
  /** Pid in the collector's namespace (the NVML pid when it could not be mapped). */
  pid: number;
  /** The pid as asked for, when it was mapped through NSpid to a different one. */
  nvmlPid?: number;
  name: string | null;
  user: string | null;
  command: string | null;
  /** Epoch ms the process started. */
  startTime: number | null;
  owner: ProcessOwner | null;
  /** false: the pid does not exist (orphaned VRAM); null: cannot tell (collector in a nested pid namespace). */
  alive: boolean | null;
}

interface Entry {
  id: ProcIdentity;
  /** Where its /proc files are (the mapped pid). */
  localPid: number;
  startTicks: number | null;
  checkedTick: number;
}

/** Options of the reader. */
export interface ProcOwnerOptions {
  /** Root of the proc tree (default: env RIGWATCH_PROC_ROOT, else /proc). */
  procRoot?: string;
  passwdFile?: string;
  /** Cached pids re-checked per tick. */
  revalidatePerTick?: number;
  /** Monotonic clock in ms (tests). */
  now?: () => number;
}

/** The proc root attribution reads: RIGWATCH_PROC_ROOT when set, else /proc. */
export function procRootOf(env: NodeJS.ProcessEnv): string {
  return env.RIGWATCH_PROC_ROOT && env.RIGWATCH_PROC_ROOT.length > 0 ? env.RIGWATCH_PROC_ROOT : '/proc';
}

/** Cached per-pid reader of process identity and owner. */
export class ProcOwnerReader {
  private readonly root: string;
  private readonly cache = new Map<number, Entry>();
  private readonly seen = new Set<number>();
  private users: Map<number, string> | null = null;
  private bootMs: number | null | undefined;
  private nested: boolean | undefined;
  private tick = 0;
  private created = 0;
  private nsMap: Map<number, number> | null = null;
  private nsScannedAt = -Infinity;
  private readonly perTick: number;
  private readonly now: () => number;

  constructor(private readonly opts: ProcOwnerOptions = {}) {
    this.root = opts.procRoot ?? procRootOf(process.env);
    this.perTick = Math.max(1, opts.revalidatePerTick ?? REVALIDATE_PER_TICK);
    this.now = opts.now ?? (() => performance.now());
  }

  /** Identity of `pid` as NVML (or a DRM fdinfo) reported it. Never throws. */
  lookup(pid: number): ProcIdentity {
    this.seen.add(pid);
    const hit = this.cache.get(pid);
    if (hit) {
      const period = Math.max(1, Math.ceil(this.cache.size / this.perTick));
      if (this.tick - hit.checkedTick < period) return hit.id;
      hit.checkedTick = this.tick;
      const ticks = this.startTicksOf(hit.localPid);
      if (ticks !== null && ticks === hit.startTicks) return hit.id;
      if (ticks === null && !this.exists(hit.localPid)) {
        // Gone: keep what we knew (the orphan rule names it) but say it is not alive.
        if (hit.id.alive !== false) hit.id = { ...hit.id, alive: this.isNested() ? null : false };
        return hit.id;
      }
      this.cache.delete(pid); // pid reused (or unreadable stat): read it afresh
    }
    const e = this.read(pid);
    // A miss is not cached: the pid may appear in /proc (or in the NSpid map) a moment later.
    if (e.startTicks !== null) this.cache.set(pid, e);
    return e.id;
  }

  /** Ends a tick: pids not looked up since the last call are forgotten (they left the GPU). */
  endTick(): void {
    for (const pid of this.cache.keys()) if (!this.seen.has(pid)) this.cache.delete(pid);
    this.seen.clear();
    this.tick++;
  }

  /** Number of cached pids (tests, benchmarks). */
  get size(): number {
    return this.cache.size;
  }

  private read(pid: number): Entry {
    let local = pid;
    let ticks = this.startTicksOf(pid);
    let nvmlPid: number | undefined;
    if (ticks === null) {
      const mapped = this.mapNsPid(pid);
      if (mapped !== null) {
        local = mapped;
        nvmlPid = pid;
        ticks = this.startTicksOf(mapped);
      }
    }
    const created = this.created++;
    const period = Math.max(1, Math.ceil((this.cache.size + 1) / this.perTick));
    // Staggered so entries created together are not all re-checked on the same tick.
    const checkedTick = this.tick - (created % period);
    if (ticks === null) {
      const id: ProcIdentity = { pid, name: null, user: null, command: null, startTime: null, owner: null, alive: this.isNested() ? null : false };
      return { id, localPid: local, startTicks: null, checkedTick };
    }
    const dir = `${this.root}/${local}`;
    const cmdRaw = readText(`${dir}/cmdline`);
    const status = readText(`${dir}/status`);
    const cgroup = readText(`${dir}/cgroup`);
    let name = cmdRaw ? shortName(cmdRaw) : null;
    if (name === null) name = readText(`${dir}/comm`)?.trim() || null;
    const uid = status ? parseUid(status) : null;
    const boot = this.bootTimeMs();
    const id: ProcIdentity = {
      pid: local,
      name,
      user: uid === null ? null : (this.userName(uid) ?? String(uid)),
      command: cmdRaw ? parseCmdline(cmdRaw) : null,
      startTime: boot === null ? null : Math.round(boot + (ticks * 1000) / CLOCK_TICKS_PER_SECOND),
      owner: cgroup === null ? null : parseCgroupOwner(cgroup),
      alive: true,
    };
    if (nvmlPid !== undefined) id.nvmlPid = nvmlPid;
    return { id, localPid: local, startTicks: ticks, checkedTick };
  }

  private startTicksOf(pid: number): number | null {
    const s = readText(`${this.root}/${pid}/stat`);
    return s === null ? null : parseStartTicks(s);
  }

  private exists(pid: number): boolean {
    try {
      fs.accessSync(`${this.root}/${pid}`);
      return true;
    } catch {
      return false;
    }
  }

  /** Our pid of a process whose pid in a nested namespace is `nsPid` (NSpid's last entries), or null. */
  private mapNsPid(nsPid: number): number | null {
    const t = this.now();
    if (this.nsMap === null || t - this.nsScannedAt >= NSPID_SCAN_INTERVAL_MS) {
      this.nsScannedAt = t;
      this.nsMap = new Map();
      let names: string[] = [];
      try {
        names = fs.readdirSync(this.root);
      } catch {
        /* no proc */
      }
      for (const n of names) {
        if (!/^\d+$/.test(n)) continue;
        const status = readText(`${this.root}/${n}/status`);
        if (!status) continue;
        const ns = parseNsPid(status);
        // Only pids that differ: ns[0] is ours, the rest are the same process seen from nested namespaces.
        for (let i = 1; i < ns.length; i++) if (ns[i] !== ns[0] && !this.nsMap.has(ns[i])) this.nsMap.set(ns[i], ns[0]);
      }
    }
    return this.nsMap.get(nsPid) ?? null;
  }

  private isNested(): boolean {
    if (this.nested === undefined) {
      const s = readText(`${this.root}/self/status`);
      this.nested = s !== null && parseNsPid(s).length > 1;
    }
    return this.nested;
  }

  private bootTimeMs(): number | null {
    if (this.bootMs === undefined) {
      const s = readText(`${this.root}/stat`);
      const b = s === null ? null : parseBootTime(s);
      this.bootMs = b === null ? null : b * 1000;
    }
    return this.bootMs;
  }

  private userName(uid: number): string | null {
    if (!this.users) {
      const text = readText(this.opts.passwdFile ?? PASSWD_FILE);
      this.users = text === null ? new Map() : parsePasswd(text);
    }
    return this.users.get(uid) ?? null;
  }
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
