// The portable host backend's slow half, in a worker thread: systeminformation for what `os` and
// `fs.statfs` cannot give (mount list, disk and network byte counters, swap, top processes). On macOS
// and Windows each of these calls spawns processes (df, netstat, ps, PowerShell…), so they run on a
// slow cadence off the main thread and the tick only reads the latest result. See docs/host.md.

import { parentPort } from 'node:worker_threads';
import { registerWorker } from '../../../workers';

/** Worker kind name. */
export const SI_WORKER_KIND = 'host-portable-si';

/** What the worker is started with. */
export interface SiWorkerData {
  intervalMs: number;
  processes: boolean;
}

/** One mount as systeminformation lists it. */
export interface SiMount {
  mount: string;
  device: string;
  fsType: string;
}

/** One round of the worker's readings (cumulative counters; the main thread makes rates). */
export interface SiRound {
  type: 'round';
  /** Wall-clock ms (Date.now) when the round started; counters are differenced by it. */
  t: number;
  mounts: SiMount[] | null;
  /** Bytes read/written since boot (null where the platform's si cannot tell: Windows). */
  disk: { readBytes: number; writeBytes: number } | null;
  net: { iface: string; rxBytes: number; txBytes: number }[] | null;
  swap: { totalBytes: number; usedBytes: number } | null;
  top: SiProcess[] | null;
  /** How long the round took, ms (the cost docs/host.md states). */
  costMs: number;
  errors: string[];
}

/** One process as systeminformation reports it. */
export interface SiProcess {
  pid: number;
  name: string;
  user: string | null;
  /** Percent as systeminformation computes it. */
  cpuPercent: number | null;
  rssBytes: number | null;
  command: string;
}

/** One round of systeminformation calls (exported for the bench). */
export async function round(data: SiWorkerData): Promise<SiRound> {
  const si = await import('systeminformation');
  const t = Date.now();
  const start = performance.now();
  const errors: string[] = [];
  const guard = async <T>(what: string, p: Promise<T>): Promise<T | null> => {
    try {
      return await p;
    } catch (e) {
      errors.push(`${what}: ${(e as Error).message}`);
      return null;
    }
  };
  const [fs, disk, net, mem, procs] = await Promise.all([
    guard('fsSize', si.fsSize()),
    guard('fsStats', si.fsStats()),
    guard('networkStats', si.networkStats('*')),
    guard('mem', si.mem()),
    data.processes ? guard('processes', si.processes()) : Promise.resolve(null),
  ]);
  return {
    type: 'round',
    t,
    mounts: fs ? fs.filter((f) => f.size > 0).map((f) => ({ mount: f.mount, device: f.fs, fsType: f.type })) : null,
    disk: disk && Number.isFinite(disk.rx) && Number.isFinite(disk.wx) && (disk.rx > 0 || disk.wx > 0) ? { readBytes: disk.rx, writeBytes: disk.wx } : null,
    net: net ? net.map((n) => ({ iface: n.iface, rxBytes: n.rx_bytes, txBytes: n.tx_bytes })) : null,
    swap: mem ? { totalBytes: mem.swaptotal, usedBytes: mem.swapused } : null,
    top: procs
      ? procs.list.map((p) => ({
          pid: p.pid,
          name: p.name,
          user: p.user || null,
          cpuPercent: Number.isFinite(p.cpu) ? p.cpu : null,
          rssBytes: Number.isFinite(p.memRss) ? p.memRss * 1024 : null,
          command: `${p.command} ${p.params ?? ''}`.trim(),
        }))
      : null,
    costMs: performance.now() - start,
    errors,
  };
}

registerWorker(SI_WORKER_KIND, (raw) => {
  const data = raw as SiWorkerData;
  const port = parentPort;
  if (!port) return;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const loop = async (): Promise<void> => {
    const r = await round(data);
    if (stopped) return;
    port.postMessage(r);
    timer = setTimeout(() => void loop(), Math.max(0, data.intervalMs - r.costMs));
  };
  port.on('message', (m: unknown) => {
    if (m === 'stop') {
      stopped = true;
      clearTimeout(timer);
      port.close();
    }
  });
  void loop();
});
