// The host source: CPU, memory, load, disks, network, mounts and uptime from /proc and statfs.
// Every read on the tick path is a small synchronous /proc read (they never touch a disk and cost a
// quarter of the async version, see bench/host); only statfs is async, because a hung network mount
// must not freeze the event loop.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HostDetails, SeriesMap } from '../../../protocol';
import type { HostMount } from '../../../protocol/details/host';
import { seriesName } from '../../../protocol';
import { ConfigError } from '../../config-error';
import type { Logger } from '../../log';
import { SourceError, type ProbeResult, type SampleResult, type Source, type SourceContext, type SourceFactory } from '../../source';
import { hostInventory } from './inventory';
import { readProcFile } from './read-proc';
import {
  classifyDisk,
  cpuBusyRatio,
  mountId,
  parseDiskstats,
  parseLoadavg,
  parseMeminfo,
  parseMountinfo,
  parseNetDev,
  parseProcStat,
  parseUptime,
  selectRealMounts,
  type DiskCounters,
  type MountEntry,
  type MountFilter,
  type NetCounters,
  type ProcStat,
} from './parsers';
import { TopProcessSampler, type TopProcesses } from './top-processes';
import { PortableHostSource } from './portable/portable-source';

/** How often the top-process lists are refreshed. */
export const TOP_PROCESSES_INTERVAL_MS = 5000;

/** A statfs slower than this (hung NFS/SSHFS mount) reports null rather than holding up the tick. */
export const STATFS_TIMEOUT_MS = 200;

/** Resolves with the value, or null if `ms` pass first (the promise keeps running; callers track it). */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Disk usage of one filesystem as statfs reports it. */
export interface FsUsage {
  totalBytes: number;
  /** Free for unprivileged users (what df calls Available). */
  availBytes: number;
  /** Free including blocks reserved for root. */
  freeBytes: number;
}

/** Where the host source reads from; tests point it at fixture trees. */
export interface HostSourceOptions {
  procRoot?: string;
  sysRoot?: string;
  passwdFile?: string;
  /** Monotonic clock in ms (rates divide by it). */
  now?: () => number;
  statfs?: (mount: string) => Promise<FsUsage>;
  filter?: MountFilter;
  /** false leaves out the top-process lists. */
  processes?: boolean;
  log: Logger;
}

/** The `host` section of the config file. */
export interface HostConfig extends MountFilter {
  /** Set false to leave out the top-process lists. */
  processes?: boolean;
  /** `proc` (/proc + statfs), `portable` (os + statfs + systeminformation) or `auto` (proc where /proc exists). */
  backend?: HostBackendChoice;
}

/** Which host backend reads the machine. */
export type HostBackendChoice = 'auto' | 'proc' | 'portable';

/** Validates `config.host` (`undefined`/`true` mean defaults). */
export function parseHostConfig(raw: unknown): HostConfig {
  if (raw === undefined || raw === null || raw === true) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('host', raw, 'an object, true or false');
  const r = raw as Record<string, unknown>;
  const out: HostConfig = {};
  for (const key of Object.keys(r)) {
    if (key === 'includeFsTypes' || key === 'excludeMounts') {
      const v = r[key];
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !x)) throw new ConfigError(`host.${key}`, v, 'an array of non-empty strings');
      out[key] = v as string[];
    } else if (key === 'backend') {
      const v = r[key];
      if (v !== 'auto' && v !== 'proc' && v !== 'portable') throw new ConfigError('host.backend', v, '"auto", "proc" or "portable"');
      out.backend = v;
    } else if (key === 'processes') {
      if (typeof r[key] !== 'boolean') throw new ConfigError('host.processes', r[key], 'true or false');
      out.processes = r[key] as boolean;
    } else {
      throw new ConfigError(`host.${key}`, r[key], 'one of includeFsTypes, excludeMounts, processes, backend');
    }
  }
  return out;
}

async function realStatfs(mount: string): Promise<FsUsage> {
  const s = await fs.promises.statfs(mount);
  return { totalBytes: s.blocks * s.bsize, availBytes: s.bavail * s.bsize, freeBytes: s.bfree * s.bsize };
}

/** Reads the page size from the kernel's own numbers (statm pages vs status kB), defaulting to 4 KiB. */
function pageBytes(procRoot: string): number {
  try {
    const pages = Number(readProcFile(path.join(procRoot, 'self/statm')).split(' ')[1]);
    const kb = Number(/^VmRSS:\s+(\d+)/m.exec(readProcFile(path.join(procRoot, 'self/status')))?.[1]);
    if (pages > 0 && kb > 0) return 2 ** Math.round(Math.log2((kb * 1024) / pages));
  } catch {
    // fall through
  }
  return 4096;
}

/** The host source (id and kind `host`). */
export class HostSource implements Source {
  readonly id = 'host';
  readonly kind = 'host';
  private readonly procRoot: string;
  private readonly sysRoot: string;
  private readonly now: () => number;
  private readonly statfs: (mount: string) => Promise<FsUsage>;
  private readonly filter: MountFilter;
  private readonly log: Logger;
  private readonly processes: TopProcessSampler | null;

  private prevT: number | undefined;
  private prevCpu: ProcStat | undefined;
  private prevDisk = new Map<string, DiskCounters>();
  private prevNet = new Map<string, NetCounters>();
  private mountText = '';
  private mounts: MountEntry[] = [];
  /** statfs calls still running from an earlier tick (a hung NFS mount): not issued again until they end. */
  private pendingStatfs = new Map<string, Promise<FsUsage>>();
  private diskKey = '';
  private diskClass = new Map<string, 'total' | 'device' | 'skip'>();
  private physicalIface = new Map<string, boolean>();
  private lastTopT = -Infinity;
  private lastTop: TopProcesses | undefined;
  private topPrimed = false;

  constructor(opts: HostSourceOptions) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.sysRoot = opts.sysRoot ?? '/sys';
    this.now = opts.now ?? (() => performance.now());
    this.statfs = opts.statfs ?? realStatfs;
    this.filter = opts.filter ?? {};
    this.log = opts.log;
    this.processes = opts.processes === false ? null : new TopProcessSampler(this.procRoot, opts.passwdFile ?? '/etc/passwd', pageBytes(this.procRoot));
  }

  private read(rel: string): string {
    try {
      return readProcFile(path.join(this.procRoot, rel));
    } catch (e) {
      throw new SourceError(`cannot read ${path.join(this.procRoot, rel)}: ${(e as Error).message}`);
    }
  }

  /** Ready on Linux with a readable /proc; starts the one-off inventory read in the background. */
  async probe(_signal?: AbortSignal): Promise<ProbeResult> {
    if (process.platform !== 'linux' && this.procRoot === '/proc') {
      return { status: 'unavailable', reason: `the host source reads /proc, which ${process.platform} does not have`, retry: false };
    }
    let cores: number;
    try {
      cores = parseProcStat(this.read('stat')).cores.size;
    } catch (e) {
      return { status: 'unavailable', reason: (e as Error).message, retry: true };
    }
    void hostInventory();
    return { status: 'ready', description: `${cores} cores via /proc` };
  }

  /** One tick; rates are null on the first tick (nothing to diff against yet). */
  async sample(_signal?: AbortSignal): Promise<SampleResult> {
    const t = this.now();
    const dtS = this.prevT === undefined ? 0 : (t - this.prevT) / 1000;
    const series: SeriesMap = {};

    const cpu = parseProcStat(this.read('stat'));
    series['host.cpu_busy_ratio'] = cpuBusyRatio(this.prevCpu?.all, cpu.all);
    for (const [n, times] of cpu.cores) series[`host.cpu.${n}.busy_ratio`] = cpuBusyRatio(this.prevCpu?.cores.get(n), times);
    this.prevCpu = cpu;

    const [l1, l5, l15] = parseLoadavg(this.read('loadavg'));
    series['host.load1_count'] = l1;
    series['host.load5_count'] = l5;
    series['host.load15_count'] = l15;

    const mem = parseMeminfo(this.read('meminfo'));
    const used = mem.totalBytes !== null && mem.availableBytes !== null ? mem.totalBytes - mem.availableBytes : null;
    series['host.memory_total_bytes'] = mem.totalBytes;
    series['host.memory_available_bytes'] = mem.availableBytes;
    series['host.memory_used_bytes'] = used;
    series['host.memory_used_ratio'] = used !== null && mem.totalBytes ? used / mem.totalBytes : null;
    series['host.swap_total_bytes'] = mem.swapTotalBytes;
    series['host.swap_used_bytes'] = mem.swapTotalBytes !== null && mem.swapFreeBytes !== null ? mem.swapTotalBytes - mem.swapFreeBytes : null;

    series['host.uptime_seconds'] = parseUptime(this.read('uptime'));

    const disks = this.sampleDisks(series, dtS);
    const interfaces = this.sampleNet(series, dtS);
    const mountsPromise = this.sampleMounts(series);

    let top: TopProcesses | undefined;
    if (this.processes && t - this.lastTopT >= TOP_PROCESSES_INTERVAL_MS - 50) {
      top = this.processes.sample(t);
      // The very first refresh has no CPU baseline (topCpu is empty): refresh again on the next tick.
      if (this.topPrimed) this.lastTopT = t;
      this.topPrimed = true;
    }
    const mounts = await mountsPromise;
    this.prevT = t;
    const details: HostDetails = { kind: 'host', cores: cpu.cores.size, mounts, interfaces, disks };
    // Carry the latest lists on every tick (not only on refresh ticks) so details stay stable between
    // refreshes: clients keep them, and the compact stream only resends details that changed.
    if (top) this.lastTop = top;
    if (this.lastTop) {
      details.topCpu = this.lastTop.topCpu;
      details.topMem = this.lastTop.topMem;
    }
    return { series, details };
  }

  private sampleDisks(series: SeriesMap, dtS: number): string[] {
    const stats = parseDiskstats(this.read('diskstats'));
    const key = [...stats.keys()].join(' ');
    if (key !== this.diskKey) {
      this.diskKey = key;
      let whole: Set<string> | null = null;
      try {
        whole = new Set(fs.readdirSync(path.join(this.sysRoot, 'block')));
      } catch {
        // No /sys (some containers): fall back to recognising partitions by name.
      }
      this.diskClass = new Map([...stats.keys()].map((d) => [d, classifyDisk(d, whole)]));
    }
    let rTot = 0;
    let wTot = 0;
    let complete = dtS > 0;
    const reported: string[] = [];
    for (const [dev, c] of stats) {
      const cls = this.diskClass.get(dev) ?? 'skip';
      if (cls === 'skip') continue;
      reported.push(dev);
      const p = this.prevDisk.get(dev);
      const r = p && dtS > 0 && c.readBytes >= p.readBytes ? (c.readBytes - p.readBytes) / dtS : null;
      const w = p && dtS > 0 && c.writeBytes >= p.writeBytes ? (c.writeBytes - p.writeBytes) / dtS : null;
      const id = seriesName('host', 'disk', dev);
      series[`${id}.read_bytes_per_second`] = r;
      series[`${id}.write_bytes_per_second`] = w;
      if (cls === 'total') {
        // A disk that just appeared has no rate yet; it counts as 0 in the total only if others exist.
        if (r !== null) rTot += r;
        if (w !== null) wTot += w;
        if (r === null && p) complete = false;
      }
    }
    this.prevDisk = stats;
    series['host.disk_read_bytes_per_second'] = complete ? rTot : null;
    series['host.disk_write_bytes_per_second'] = complete ? wTot : null;
    return reported;
  }

  private isPhysical(iface: string): boolean {
    let v = this.physicalIface.get(iface);
    if (v === undefined) {
      v = fs.existsSync(path.join(this.sysRoot, 'class/net', iface, 'device'));
      this.physicalIface.set(iface, v);
    }
    return v;
  }

  private sampleNet(series: SeriesMap, dtS: number): string[] {
    const stats = parseNetDev(this.read('net/dev'));
    const reported: string[] = [];
    // Totals count physical NICs when there are any (bridges, tunnels and veths carry the same bytes
    // again); inside a container there are none, so every interface but lo counts.
    const anyPhysical = [...stats.keys()].some((i) => i !== 'lo' && this.isPhysical(i));
    let rx = 0;
    let tx = 0;
    let complete = dtS > 0;
    for (const [iface, c] of stats) {
      // veth pairs come and go with every container and mirror the bridge: reporting them would leak series.
      if (iface.startsWith('veth')) continue;
      reported.push(iface);
      const p = this.prevNet.get(iface);
      const r = p && dtS > 0 && c.rxBytes >= p.rxBytes ? (c.rxBytes - p.rxBytes) / dtS : null;
      const w = p && dtS > 0 && c.txBytes >= p.txBytes ? (c.txBytes - p.txBytes) / dtS : null;
      const id = seriesName('host', 'net', iface);
      series[`${id}.rx_bytes_per_second`] = r;
      series[`${id}.tx_bytes_per_second`] = w;
      if (iface === 'lo' || (anyPhysical && !this.isPhysical(iface))) continue;
      if (r !== null) rx += r;
      if (w !== null) tx += w;
      if ((r === null || w === null) && p) complete = false;
    }
    this.prevNet = stats;
    series['host.net_rx_bytes_per_second'] = complete ? rx : null;
    series['host.net_tx_bytes_per_second'] = complete ? tx : null;
    return reported;
  }

  private async sampleMounts(series: SeriesMap): Promise<HostMount[]> {
    const text = this.read('self/mountinfo');
    if (text !== this.mountText) {
      this.mountText = text;
      this.mounts = selectRealMounts(parseMountinfo(text), this.filter);
    }
    const out: HostMount[] = [];
    await Promise.all(
      this.mounts.map(async (m) => {
        const id = seriesName('host', 'mount', mountId(m.mount));
        let u: FsUsage | null = null;
        if (!this.pendingStatfs.has(m.mount)) {
          const p = this.statfs(m.mount);
          this.pendingStatfs.set(m.mount, p);
          p.then(
            () => this.pendingStatfs.delete(m.mount),
            () => this.pendingStatfs.delete(m.mount),
          );
          try {
            u = await withTimeout(p, STATFS_TIMEOUT_MS);
            if (!u)
              this.log.warnOnce(
                `statfs-slow:${m.mount}`,
                `statfs ${m.mount} did not answer within ${STATFS_TIMEOUT_MS} ms (hung network mount?); its usage is null until it does`,
              );
          } catch (e) {
            this.log.warnOnce(`statfs:${m.mount}`, `cannot statfs ${m.mount}: ${(e as Error).message}; its usage is reported as null`);
          }
        }
        const used = u ? u.totalBytes - u.freeBytes : null;
        // Like df: the ratio is of what an ordinary user can fill (used + available), not the raw size.
        const ratio = u && used !== null && used + u.availBytes > 0 ? used / (used + u.availBytes) : null;
        series[`${id}.total_bytes`] = u ? u.totalBytes : null;
        series[`${id}.used_bytes`] = used;
        series[`${id}.avail_bytes`] = u ? u.availBytes : null;
        series[`${id}.used_ratio`] = ratio;
        if (u && used !== null)
          out.push({ mount: m.mount, device: m.device, fsType: m.fsType, totalBytes: u.totalBytes, usedBytes: used, availBytes: u.availBytes });
      }),
    );
    return out.sort((a, b) => (a.mount < b.mount ? -1 : 1));
  }

  /** Nothing to release: the source holds no handles between ticks. */
  close(): void {}
}

/** Factory for the `host` kind: one source, id `host`. */
export const hostFactory: SourceFactory = {
  kind: 'host',
  create(ctx: SourceContext): Source[] {
    const cfg = parseHostConfig(ctx.config);
    const log = ctx.log.child('host');
    // auto: /proc where it exists (Linux), the portable backend elsewhere (macOS, Windows).
    const portable = cfg.backend === 'portable' || (cfg.backend !== 'proc' && !fs.existsSync('/proc/stat'));
    if (portable) return [new PortableHostSource({ log, filter: cfg, processes: cfg.processes })];
    return [new HostSource({ log, filter: cfg, processes: cfg.processes })];
  },
};
