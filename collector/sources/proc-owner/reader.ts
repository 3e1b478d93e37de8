// Who a GPU process is: pid (mapped through NSpid when NVML reports it from another pid namespace), user,
// full command, start time and owner (container, pod, unit, session), read from /proc once per process
// (per pid and start time) and cached. A cached pid is re-checked (its start time in /proc/<pid>/stat) a
// bounded number per tick, so a reused pid is noticed and a vanished one is reported as not alive, at a
// cost independent of how many processes hold GPUs. The re-check reads through a descriptor held open on
// that process's stat file: one pread instead of open/fstat/read/read/close, and a procfs descriptor
// belongs to the process it was opened on (it answers ESRCH once that process is gone, even when its pid
// is reused). Container and pod names are joined here once per (process, container list) rather than per
// tick. Used by every GPU backend; RIGWATCH_PROC_ROOT points it at a captured tree.

import * as fs from 'node:fs';
import type { ProcessOwner } from '../../../protocol/details/gpu';
import { parseCgroupOwner } from './cgroup';
import type { ContainerNames } from './containers';
import { parseBootTime, parseCmdline, parseNsPid, parsePasswd, parseStartTicks, parseUid, shortName } from './proc-parse';

/** Cached pids whose start time is re-read per tick (the rest wait their turn). */
export const REVALIDATE_PER_TICK = 4;
/** Stat descriptors held open for re-checks at most (the rest are re-checked by path); well under a 1024 soft limit. */
export const HELD_STAT_FDS_MAX = 256;
/** Shortest interval between two scans of every /proc/<pid>/status for NSpid, in ms. */
export const NSPID_SCAN_INTERVAL_MS = 10_000;
/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every Linux ABI). */
const CLOCK_TICKS_PER_SECOND = 100;
const PASSWD_FILE = '/etc/passwd';
/** statfs f_type of procfs. */
const PROC_SUPER_MAGIC = 0x9fa0;
/** /proc/<pid>/stat is under 1 KiB (comm is at most 16 bytes); one buffer serves every re-check. */
const STAT_BUF = Buffer.alloc(4096);

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
  /** Tick of the last lookup: entries not looked up during a tick are dropped at its end. */
  seenTick: number;
  /** Descriptor on <localPid>/stat held for re-checks, or -1. */
  fd: number;
  /** `id` with container/pod names joined, for `joinedVersion` of the container index. */
  joined: ProcIdentity | null;
  joinedVersion: number;
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
  /** Joins container and pod names into owners (the GPU source passes one; null: raw cgroup owners). */
  names?: ContainerNames | null;
}

/** The proc root attribution reads: RIGWATCH_PROC_ROOT when set, else /proc. */
export function procRootOf(env: NodeJS.ProcessEnv): string {
  return env.RIGWATCH_PROC_ROOT && env.RIGWATCH_PROC_ROOT.length > 0 ? env.RIGWATCH_PROC_ROOT : '/proc';
}

/** Cached per-pid reader of process identity and owner. */
export class ProcOwnerReader {
  private readonly root: string;
  private readonly cache = new Map<number, Entry>();
  private users: Map<number, string> | null = null;
  private bootMs: number | null | undefined;
  private nested: boolean | undefined;
  private procfs: boolean | undefined;
  private tick = 0;
  private created = 0;
  private held = 0;
  private nsMap: Map<number, number> | null = null;
  private nsScannedAt = -Infinity;
  private readonly perTick: number;
  private readonly now: () => number;
  private readonly names: ContainerNames | null;
  /** Container index version for this tick; refreshed on the tick's first lookup. */
  private version = 0;
  private versionTick = -1;

  constructor(private readonly opts: ProcOwnerOptions = {}) {
    this.root = opts.procRoot ?? procRootOf(process.env);
    this.perTick = Math.max(1, opts.revalidatePerTick ?? REVALIDATE_PER_TICK);
    this.now = opts.now ?? (() => performance.now());
    this.names = opts.names ?? null;
  }

  /** Identity of `pid` as NVML (or a DRM fdinfo) reported it, names joined. Never throws. */
  lookup(pid: number): ProcIdentity {
    if (this.names && this.versionTick !== this.tick) {
      this.versionTick = this.tick;
      this.version = this.names.refresh();
    }
    const hit = this.cache.get(pid);
    if (hit) {
      hit.seenTick = this.tick;
      const period = Math.max(1, Math.ceil(this.cache.size / this.perTick));
      if (this.tick - hit.checkedTick < period) return this.join(hit);
      hit.checkedTick = this.tick;
      const now = this.recheck(hit);
      if (now === 'same') return this.join(hit);
      if (now === 'gone') {
        // Gone: keep what we knew (the orphan rule names it) but say it is not alive.
        if (hit.id.alive !== false) {
          hit.id = { ...hit.id, alive: this.missingMeans(hit.localPid) };
          hit.joined = null;
        }
        return this.join(hit);
      }
      // Pid reused (or stat unreadable): read it afresh, nothing of the old process is kept.
      this.drop(pid, hit);
    }
    const e = this.read(pid);
    // A miss is not cached: the pid may appear in /proc (or in the NSpid map) a moment later.
    if (e.startTicks !== null) this.cache.set(pid, e);
    return this.join(e);
  }

  /** Ends a tick: pids not looked up during it are forgotten (they left the GPU) and their descriptors closed. */
  endTick(): void {
    for (const [pid, e] of this.cache) if (e.seenTick !== this.tick) this.drop(pid, e);
    this.tick++;
  }

  /** Forgets every pid and closes the held descriptors. Idempotent; the reader stays usable. */
  close(): void {
    for (const [pid, e] of this.cache) this.drop(pid, e);
  }

  /** Number of cached pids (tests, benchmarks). */
  get size(): number {
    return this.cache.size;
  }

  /** Stat descriptors held open (tests). */
  get heldDescriptors(): number {
    return this.held;
  }

  private drop(pid: number, e: Entry): void {
    this.closeFd(e);
    this.cache.delete(pid);
  }

  private closeFd(e: Entry): void {
    if (e.fd < 0) return;
    try {
      fs.closeSync(e.fd);
    } catch {
      /* already closed */
    }
    e.fd = -1;
    this.held--;
  }

  /** The identity with container and pod names joined, cached per container-index version. */
  private join(e: Entry): ProcIdentity {
    const o = e.id.owner;
    if (!this.names || o === null || (o.kind !== 'container' && o.kind !== 'pod')) return e.id;
    // Pods are asked every time until named (the kubelet answers asynchronously); enrich() caches them itself.
    if (e.joined && e.joinedVersion === this.version && o.kind !== 'pod') return e.joined;
    const owner = this.names.enrich(o, false);
    if (!e.joined || e.joined.owner !== owner) e.joined = owner === o ? e.id : { ...e.id, owner };
    e.joinedVersion = this.version;
    return e.joined;
  }

  /** Is the cached process still the one at its pid? Reads its start time through a held descriptor. */
  private recheck(e: Entry): 'same' | 'changed' | 'gone' {
    if (e.fd < 0 && this.held < HELD_STAT_FDS_MAX) {
      try {
        e.fd = fs.openSync(`${this.root}/${e.localPid}/stat`, 'r');
        this.held++;
      } catch {
        /* gone or unreadable: decided by path below */
      }
    }
    if (e.fd >= 0) {
      let ticks: number | null = null;
      try {
        const n = fs.readSync(e.fd, STAT_BUF, 0, STAT_BUF.length, 0);
        // A captured tree is plain files: a removed (or replaced) one stays readable through the descriptor.
        if (!this.isProcfs() && fs.fstatSync(e.fd).nlink === 0) throw new Error('replaced');
        ticks = parseStartTicks(STAT_BUF.toString('latin1', 0, n));
      } catch {
        // ESRCH on procfs: the process this descriptor was opened on has exited (its pid may be reused).
        this.closeFd(e);
      }
      if (ticks !== null) return ticks === e.startTicks ? 'same' : 'changed';
    }
    const ticks = this.startTicksOf(e.localPid);
    if (ticks !== null) return ticks === e.startTicks ? 'same' : 'changed';
    return this.exists(e.localPid) ? 'changed' : 'gone';
  }

  private isProcfs(): boolean {
    if (this.procfs === undefined) {
      try {
        this.procfs = fs.statfsSync(this.root).type === PROC_SUPER_MAGIC;
      } catch {
        this.procfs = false;
      }
    }
    return this.procfs;
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
    const base = { localPid: local, startTicks: ticks, checkedTick, seenTick: this.tick, fd: -1, joined: null, joinedVersion: -1 };
    if (ticks === null) {
      const id: ProcIdentity = { pid, name: null, user: null, command: null, startTime: null, owner: null, alive: this.missingMeans(pid) };
      return { id, ...base };
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
    return { id, ...base };
  }

  private startTicksOf(pid: number): number | null {
    // One read of a small file: open/read/close rather than readFileSync's open/fstat/read/read/close.
    let fd = -1;
    try {
      fd = fs.openSync(`${this.root}/${pid}/stat`, 'r');
      const n = fs.readSync(fd, STAT_BUF, 0, STAT_BUF.length, 0);
      return parseStartTicks(STAT_BUF.toString('latin1', 0, n));
    } catch {
      return null;
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
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

  /**
   * What a pid missing from the proc tree means: false (exited) where this tree shows every process;
   * null (cannot tell) when the collector runs in a nested pid namespace, when there is no proc tree at
   * all (Windows, macOS), or when the real /proc hides other users' processes (hidepid) and the pid
   * still exists (kill 0 answers EPERM).
   */
  private missingMeans(pid: number): boolean | null {
    if (this.nested === undefined) {
      const s = readText(`${this.root}/self/status`);
      this.nested = s === null || parseNsPid(s).length > 1;
    }
    if (this.nested) return null;
    if (pid > 0 && this.isProcfs()) {
      try {
        process.kill(pid, 0);
        return null; // signalable but not in /proc: hidden from us
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EPERM') return null;
      }
    }
    return false;
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
