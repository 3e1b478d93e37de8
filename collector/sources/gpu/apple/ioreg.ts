// Apple GPUs (Apple Silicon and Intel Macs) through `ioreg -r -d 1 -w 0 -c IOAccelerator`: the
// accelerator's PerformanceStatistics carry utilisation and memory, readable without sudo. The
// command costs a process spawn, so it runs on a slow cadence, never per tick. See docs/gpu.md.

import { execFile } from 'node:child_process';
import * as os from 'node:os';
import type { Logger } from '../../../log';
import { emptyMetrics, type DeviceReading, type GpuReading } from '../reading';

/** How often ioreg is run, ms. */
export const APPLE_GPU_INTERVAL_MS = 5000;
/** ioreg gets this long before it is killed, ms. */
const IOREG_TIMEOUT_MS = 3000;
/** Output cap: the accelerator nodes are a few KiB. */
const IOREG_MAX_BYTES = 4 * 1024 * 1024;

/** One accelerator's statistics; null where the driver does not publish the key. */
export interface AppleGpuStats {
  className: string;
  model: string | null;
  cores: number | null;
  utilRatio: number | null;
  rendererRatio: number | null;
  tilerRatio: number | null;
  inUseBytes: number | null;
  allocBytes: number | null;
}

function key(blob: string, name: string): number | null {
  // The closing quote keeps "In use system memory" from matching "In use system memory (driver)".
  const esc = name.replace(/[.*+?^${}()|[\]\\%]/g, '\\$&');
  const m = new RegExp(`"${esc}"\\s*=\\s*(\\d+)`).exec(blob);
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : null;
}

const pct = (v: number | null): number | null => (v === null || v > 100 ? null : v / 100);

/** Parses `ioreg -r -d 1 -w 0 -c IOAccelerator` text: one entry per accelerator node that has statistics. */
export function parseIoregAccelerators(text: string): AppleGpuStats[] {
  const out: AppleGpuStats[] = [];
  for (const node of text.split(/^\+-o /m).slice(1)) {
    const stats = /"PerformanceStatistics"\s*=\s*\{([^}]*)\}/.exec(node)?.[1];
    if (stats === undefined) continue;
    out.push({
      className: /^(\S+)/.exec(node)?.[1] ?? 'IOAccelerator',
      model: /"model"\s*=\s*"([^"]{1,100})"/.exec(node)?.[1] ?? null,
      cores: key(node, 'gpu-core-count'),
      utilRatio: pct(key(stats, 'Device Utilization %')),
      rendererRatio: pct(key(stats, 'Renderer Utilization %')),
      tilerRatio: pct(key(stats, 'Tiler Utilization %')),
      inUseBytes: key(stats, 'In use system memory'),
      allocBytes: key(stats, 'Alloc system memory'),
    });
  }
  return out;
}

/** Turns parsed statistics into device readings: unified memory, so the total is the machine's RAM. */
export function appleReadings(stats: AppleGpuStats[], totalMemBytes: number): DeviceReading[] {
  return stats.map((s, i) => {
    const m = emptyMetrics();
    m.utilization_ratio = s.utilRatio ?? s.rendererRatio;
    m.memory_used_bytes = s.inUseBytes;
    m.memory_total_bytes = totalMemBytes;
    m.memory_used_ratio = s.inUseBytes !== null && totalMemBytes > 0 ? s.inUseBytes / totalMemBytes : null;
    const unavailable: Record<string, string> = {};
    const none = 'macOS publishes no such statistic without sudo (powermetrics)';
    for (const k of Object.keys(m))
      if (m[k as keyof typeof m] === null) unavailable[k] = k === 'utilization_ratio' ? 'no "Device Utilization %" in PerformanceStatistics' : none;
    return {
      name: s.model ?? `Apple GPU (${s.className})`,
      uuid: `APPLE-${i}`,
      pciBusId: `APPLE:${i}`,
      computeCapability: null,
      migMode: null,
      throttleMask: null,
      metrics: m,
      notes: ['unified memory: the total is the machine’s RAM; used is what the GPU driver has in use', ...(s.cores ? [`${s.cores} GPU cores`] : [])],
      vendor: 'apple',
      driver: 'ioreg',
      extra: { memory_allocated_bytes: s.allocBytes, tiler_utilization_ratio: s.tilerRatio },
      unavailable,
    };
  });
}

/** Runs ioreg every APPLE_GPU_INTERVAL_MS and answers each tick from the last result. */
export class AppleGpuBackend {
  private last: AppleGpuStats[] = [];
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  private constructor(
    private readonly cmd: string,
    private readonly log: Logger,
    private readonly intervalMs: number,
  ) {}

  /** Runs ioreg once; null when it is missing or shows no accelerator with statistics. */
  static async open(cmd: string, log: Logger, intervalMs = APPLE_GPU_INTERVAL_MS): Promise<AppleGpuBackend | null> {
    const b = new AppleGpuBackend(cmd, log, intervalMs);
    const text = await b.run();
    if (text === null) return null;
    b.last = parseIoregAccelerators(text);
    if (b.last.length === 0) return null;
    b.schedule();
    return b;
  }

  private run(): Promise<string | null> {
    return new Promise((resolve) => {
      execFile(this.cmd, ['-r', '-d', '1', '-w', '0', '-c', 'IOAccelerator'], { timeout: IOREG_TIMEOUT_MS, maxBuffer: IOREG_MAX_BYTES }, (err, stdout) => {
        if (err) {
          this.log.warnOnce('ioreg', `${this.cmd} failed: ${err.message}; Apple GPU values keep their last reading`);
          resolve(null);
        } else resolve(stdout);
      });
    });
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      void this.run().then((text) => {
        if (text !== null) this.last = parseIoregAccelerators(text);
        this.schedule();
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  /** "Apple M4 Max via ioreg". */
  describe(): string {
    return `${this.last.map((s) => s.model ?? s.className).join(', ')} via ioreg`;
  }

  /** The latest statistics as a reading. */
  read(): GpuReading {
    return { backend: 'ioreg', driverVersion: null, cudaVersion: null, devices: appleReadings(this.last, os.totalmem()), processes: [] };
  }

  /** Stops the timer. Idempotent. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
