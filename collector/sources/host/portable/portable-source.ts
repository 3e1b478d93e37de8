// The portable host backend, for machines without /proc (macOS, Windows) and selectable on Linux with
// `host.backend: "portable"`: CPU from os.cpus() deltas, memory from os.totalmem/freemem, load and
// uptime from os, disk usage through fs.statfs on every tick; mount list, disk and network byte
// counters, swap and top processes from systeminformation in a worker on a slow cadence. Same series
// and details as the /proc backend. See docs/host.md.

import * as fs from 'node:fs';
import * as os from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { HostDetails, SeriesMap } from '../../../../protocol';
import type { HostMount, HostProcess } from '../../../../protocol/details/host';
import { seriesName } from '../../../../protocol';
import type { Logger } from '../../../log';
import type { ProbeResult, SampleResult, Source } from '../../../source';
import { startWorker } from '../../../workers';
import { mountId, type MountFilter } from '../parsers';
import { redactCommand, TOP_PROCESS_COUNT } from '../top-processes';
import { SI_WORKER_KIND, type SiMount, type SiRound } from './si-worker';

/** Default cadence of the systeminformation worker, ms (each round spawns processes on macOS/Windows). */
export const PORTABLE_SLOW_INTERVAL_MS = 5000;
/** A statfs slower than this reports null for that mount on this tick, ms. */
const STATFS_TIMEOUT_MS = 200;
const MAX_COMMAND_CHARS = 300;
/** Pseudo filesystems left out by default (the /proc backend's idea of "not a real disk"). */
const PSEUDO_FS = /^(tmpfs|devtmpfs|overlay|squashfs|autofs|devfs|proc|sysfs|nullfs|ramfs|efivarfs|cgroup2?|fuse\.portal)$/i;

/** Options of the portable backend. */
export interface PortableHostOptions {
  log: Logger;
  filter?: MountFilter;
  processes?: boolean;
  slowIntervalMs?: number;
  /** Replaceable for tests: os.cpus(). */
  cpus?: () => os.CpuInfo[];
}

interface CpuTimes {
  busy: number;
  total: number;
}

function times(c: os.CpuInfo): CpuTimes {
  const t = c.times;
  const busy = t.user + t.nice + t.sys + t.irq;
  return { busy, total: busy + t.idle };
}

function ratio(prev: CpuTimes | undefined, cur: CpuTimes): number | null {
  if (!prev) return null;
  const dt = cur.total - prev.total;
  if (dt <= 0) return null;
  return Math.min(1, Math.max(0, (cur.busy - prev.busy) / dt));
}

/** The portable host source (id and kind `host`). */
export class PortableHostSource implements Source {
  readonly id = 'host';
  readonly kind = 'host';
  private readonly log: Logger;
  private readonly filter: MountFilter;
  private readonly processes: boolean;
  private readonly slowIntervalMs: number;
  private readonly cpus: () => os.CpuInfo[];
  private worker: Worker | null = null;
  private prevCpu: CpuTimes[] = [];
  private prevAll: CpuTimes | undefined;
  private latest: SiRound | null = null;
  private before: SiRound | null = null;
  private pendingStatfs = new Map<string, Promise<fs.StatsFs>>();
  /** Rounds received and the cost of the last one (tests, docs). */
  rounds = 0;
  lastRoundCostMs: number | null = null;

  constructor(opts: PortableHostOptions) {
    this.log = opts.log;
    this.filter = opts.filter ?? {};
    this.processes = opts.processes !== false;
    this.slowIntervalMs = opts.slowIntervalMs ?? PORTABLE_SLOW_INTERVAL_MS;
    this.cpus = opts.cpus ?? os.cpus;
  }

  /** Ready wherever Node runs; starts the systeminformation worker. */
  async probe(_signal?: AbortSignal): Promise<ProbeResult> {
    this.stopWorker();
    const cores = this.cpus().length;
    if (cores === 0) return { status: 'unavailable', reason: 'os.cpus() reports no CPUs', retry: true };
    const w = startWorker(SI_WORKER_KIND, { intervalMs: this.slowIntervalMs, processes: this.processes });
    w.on('message', (m: SiRound) => this.onRound(m));
    w.on('error', (e) => this.log.warn(`systeminformation worker failed: ${e.message}; disks, network, swap and processes stay as last read`));
    w.unref();
    this.worker = w;
    return { status: 'ready', description: `${cores} cores via os + systeminformation (portable backend)` };
  }

  private onRound(m: SiRound): void {
    if (m.type !== 'round') return;
    this.rounds++;
    this.lastRoundCostMs = m.costMs;
    for (const e of m.errors) this.log.warnOnce(`si:${e.split(':')[0]}`, `systeminformation ${e}; those values are null`);
    // Keep the previous round whose counters make the rates.
    this.before = this.latest;
    this.latest = m;
  }

  /** Resolves once `n` worker rounds have arrived (tests). */
  async waitRounds(n: number, timeoutMs = 20_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.rounds < n) {
      if (Date.now() > end) throw new Error(`systeminformation worker: ${this.rounds} of ${n} rounds after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async sample(_signal?: AbortSignal): Promise<SampleResult> {
    const series: SeriesMap = {};
    const cpus = this.cpus();
    const cur = cpus.map(times);
    const all = cur.reduce((a, c) => ({ busy: a.busy + c.busy, total: a.total + c.total }), { busy: 0, total: 0 });
    series['host.cpu_busy_ratio'] = ratio(this.prevAll, all);
    cur.forEach((c, i) => {
      series[`host.cpu.${i}.busy_ratio`] = this.prevCpu.length === cur.length ? ratio(this.prevCpu[i], c) : null;
    });
    this.prevCpu = cur;
    this.prevAll = all;

    // Windows has no load average: os.loadavg() answers zeros there, which would read as "idle".
    const [l1, l5, l15] = os.loadavg();
    const noLoad = process.platform === 'win32';
    series['host.load1_count'] = noLoad ? null : l1;
    series['host.load5_count'] = noLoad ? null : l5;
    series['host.load15_count'] = noLoad ? null : l15;

    const total = os.totalmem();
    // libuv: MemAvailable on Linux; free + inactive pages on macOS; available physical on Windows.
    const avail = os.freemem();
    series['host.memory_total_bytes'] = total;
    series['host.memory_available_bytes'] = avail;
    series['host.memory_used_bytes'] = total - avail;
    series['host.memory_used_ratio'] = total > 0 ? (total - avail) / total : null;
    const swap = this.latest?.swap ?? null;
    series['host.swap_total_bytes'] = swap ? swap.totalBytes : null;
    series['host.swap_used_bytes'] = swap ? swap.usedBytes : null;
    series['host.uptime_seconds'] = os.uptime();

    const interfaces = this.rates(series);
    const mounts = await this.sampleMounts(series);
    const details: HostDetails = { kind: 'host', cores: cpus.length, mounts, interfaces, disks: [] };
    const top = this.top();
    if (top) {
      details.topCpu = top.topCpu;
      details.topMem = top.topMem;
    }
    return { series, details };
  }

  /** Disk and network rates from the last two worker rounds' counters. */
  private rates(series: SeriesMap): string[] {
    const a = this.before;
    const b = this.latest;
    const dtS = a && b ? (b.t - a.t) / 1000 : 0;
    const rate = (x: number | undefined, y: number | undefined): number | null =>
      x !== undefined && y !== undefined && dtS > 0 && y >= x ? (y - x) / dtS : null;
    series['host.disk_read_bytes_per_second'] = rate(a?.disk?.readBytes, b?.disk?.readBytes);
    series['host.disk_write_bytes_per_second'] = rate(a?.disk?.writeBytes, b?.disk?.writeBytes);
    const prev = new Map((a?.net ?? []).map((n) => [n.iface, n]));
    let rx = 0;
    let tx = 0;
    let complete = dtS > 0 && !!b?.net;
    const out: string[] = [];
    for (const n of b?.net ?? []) {
      if (n.iface.startsWith('veth')) continue;
      out.push(n.iface);
      const p = prev.get(n.iface);
      const r = rate(p?.rxBytes, n.rxBytes);
      const w = rate(p?.txBytes, n.txBytes);
      const id = seriesName('host', 'net', n.iface);
      series[`${id}.rx_bytes_per_second`] = r;
      series[`${id}.tx_bytes_per_second`] = w;
      if (/^(lo|lo0|Loopback)/i.test(n.iface)) continue;
      if (r === null || w === null) complete = false;
      else {
        rx += r;
        tx += w;
      }
    }
    series['host.net_rx_bytes_per_second'] = complete ? rx : null;
    series['host.net_tx_bytes_per_second'] = complete ? tx : null;
    return out;
  }

  private selectMounts(list: SiMount[]): SiMount[] {
    const include = new Set(this.filter.includeFsTypes ?? []);
    const exclude = this.filter.excludeMounts ?? [];
    const seen = new Set<string>();
    return list.filter((m) => {
      if (seen.has(m.mount)) return false;
      seen.add(m.mount);
      if (PSEUDO_FS.test(m.fsType) && !include.has(m.fsType)) return false;
      return !exclude.some((e) => m.mount === e || (e.endsWith('/') && m.mount.startsWith(e)));
    });
  }

  private async sampleMounts(series: SeriesMap): Promise<HostMount[]> {
    const list = this.latest?.mounts ? this.selectMounts(this.latest.mounts) : [];
    const out: HostMount[] = [];
    await Promise.all(
      list.map(async (m) => {
        const id = seriesName('host', 'mount', mountId(m.mount));
        let s: fs.StatsFs | null = null;
        if (!this.pendingStatfs.has(m.mount)) {
          const p = fs.promises.statfs(m.mount);
          this.pendingStatfs.set(m.mount, p);
          const done = (): void => void this.pendingStatfs.delete(m.mount);
          p.then(done, done);
          let timer: NodeJS.Timeout | undefined;
          try {
            s = await Promise.race([p, new Promise<null>((r) => (timer = setTimeout(() => r(null), STATFS_TIMEOUT_MS)))]);
          } catch (e) {
            this.log.warnOnce(`statfs:${m.mount}`, `cannot statfs ${m.mount}: ${(e as Error).message}; its usage is reported as null`);
          } finally {
            clearTimeout(timer);
          }
        }
        const totalB = s ? s.blocks * s.bsize : null;
        const used = s ? (s.blocks - s.bfree) * s.bsize : null;
        const availB = s ? s.bavail * s.bsize : null;
        series[`${id}.total_bytes`] = totalB;
        series[`${id}.used_bytes`] = used;
        series[`${id}.avail_bytes`] = availB;
        series[`${id}.used_ratio`] = used !== null && availB !== null && used + availB > 0 ? used / (used + availB) : null;
        if (totalB !== null && used !== null && availB !== null)
          out.push({ mount: m.mount, device: m.device, fsType: m.fsType, totalBytes: totalB, usedBytes: used, availBytes: availB });
      }),
    );
    return out.sort((a, b) => (a.mount < b.mount ? -1 : 1));
  }

  private top(): { topCpu: HostProcess[]; topMem: HostProcess[] } | null {
    const list = this.latest?.top;
    if (!list) return null;
    const toHost = (p: (typeof list)[number]): HostProcess => ({
      pid: p.pid,
      name: p.name.slice(0, 100),
      user: p.user,
      cpuRatio: p.cpuPercent === null ? null : p.cpuPercent / 100,
      rssBytes: p.rssBytes,
      command: redactCommand(p.command).slice(0, MAX_COMMAND_CHARS),
    });
    const topCpu = list
      .filter((p) => p.cpuPercent !== null)
      .sort((a, b) => (b.cpuPercent ?? 0) - (a.cpuPercent ?? 0))
      .slice(0, TOP_PROCESS_COUNT)
      .map(toHost);
    const topMem = list
      .filter((p) => p.rssBytes !== null)
      .sort((a, b) => (b.rssBytes ?? 0) - (a.rssBytes ?? 0))
      .slice(0, TOP_PROCESS_COUNT)
      .map(toHost);
    return { topCpu, topMem };
  }

  private stopWorker(): void {
    if (!this.worker) return;
    this.worker.postMessage('stop');
    void this.worker.terminate();
    this.worker = null;
  }

  /** Stops the worker. Idempotent. */
  close(): void {
    this.stopWorker();
  }
}
