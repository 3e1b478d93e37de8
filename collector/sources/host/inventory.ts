// Static facts about the machine, read once through systeminformation (it spawns helpers, so never per tick).

import * as os from 'node:os';
import { parentPort } from 'node:worker_threads';
import type { HostInfo } from '../../../protocol';
import { registerWorker, startWorker } from '../../workers';

/** The static part of HostInfo that the host source can tell (the collector adds version, pid, start time). */
export type HostInventory = Pick<HostInfo, 'hostname' | 'platform' | 'arch' | 'os' | 'kernel' | 'cpuModel' | 'cpuCores' | 'memTotalBytes'>;

let cached: Promise<HostInventory> | undefined;

/** Longest the inventory worker may take before Node's own answers are used, in ms. */
export const INVENTORY_TIMEOUT_MS = 10_000;

// systeminformation runs in a short-lived worker thread: its ~5–10 MB of heap and code go away with the
// worker instead of staying in a collector that may run for weeks.
registerWorker('host-inventory', () => {
  void readInventory().then((inv) => parentPort?.postMessage(inv));
});

/** Reads the inventory once per process (later calls share the first answer); never rejects. */
export function hostInventory(): Promise<HostInventory> {
  cached ??= new Promise<HostInventory>((resolve) => {
    let worker: ReturnType<typeof startWorker>;
    try {
      worker = startWorker('host-inventory', null);
    } catch {
      resolve(nodeInventory());
      return;
    }
    const timer = setTimeout(() => void worker.terminate(), INVENTORY_TIMEOUT_MS);
    worker.once('message', (inv: HostInventory) => {
      clearTimeout(timer);
      resolve(inv);
      void worker.terminate();
    });
    worker.once('error', () => resolve(nodeInventory()));
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve(nodeInventory());
    });
  });
  return cached;
}

function nodeInventory(): HostInventory {
  return {
    hostname: os.hostname(),
    platform: process.platform,
    arch: process.arch,
    kernel: os.release(),
    cpuModel: os.cpus()[0]?.model,
    cpuCores: os.cpus().length || undefined,
    memTotalBytes: os.totalmem(),
  };
}

async function readInventory(): Promise<HostInventory> {
  // Node's own answers are the fallback when systeminformation cannot tell (unusual platforms, sandboxes).
  const base = nodeInventory();
  // Loaded here rather than at the top: systeminformation adds ~5 MB of RSS, only worth paying when
  // the inventory is actually read (and never by a collector with the host source disabled).
  let si: typeof import('systeminformation');
  try {
    si = await import('systeminformation');
  } catch {
    return base;
  }
  const [cpu, osInfo] = await Promise.allSettled([si.cpu(), si.osInfo()]);
  if (cpu.status === 'fulfilled') {
    const model = [cpu.value.manufacturer, cpu.value.brand]
      .filter((s) => s && s.trim())
      .join(' ')
      .trim();
    if (model) base.cpuModel = model;
    if (cpu.value.cores > 0) base.cpuCores = cpu.value.cores;
  }
  if (osInfo.status === 'fulfilled') {
    const o = osInfo.value;
    const name = [o.distro, o.release]
      .filter((s) => s && s.trim() && s !== 'unknown')
      .join(' ')
      .trim();
    if (name) base.os = name;
    if (o.kernel) base.kernel = o.kernel;
    if (o.hostname) base.hostname = o.hostname;
  }
  return base;
}
