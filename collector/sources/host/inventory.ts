// Static facts about the machine, read once: on Linux from /etc/os-release and Node's own answers in
// the main thread; elsewhere through systeminformation in a short-lived worker (it spawns helpers).

import * as fs from 'node:fs';
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
  // On Linux everything systeminformation would tell is in two small files: no worker (a second V8
  // isolate that parsed the whole bundle: ~5 MB of peak RSS, and freed memory glibc kept).
  if (process.platform === 'linux') {
    cached ??= Promise.resolve(linuxInventory());
    return cached;
  }
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

/** Linux: the OS name from os-release, the CPU named as systeminformation names it, the rest from Node. */
export function linuxInventory(readFile: (p: string) => string = (p) => fs.readFileSync(p, 'utf8')): HostInventory {
  const base = nodeInventory();
  for (const f of ['/etc/os-release', '/usr/lib/os-release']) {
    let text: string;
    try {
      text = readFile(f);
    } catch {
      continue;
    }
    const name = osReleaseName(text);
    if (name) base.os = name;
    break;
  }
  if (base.cpuModel) base.cpuModel = cpuDisplayName(base.cpuModel) || base.cpuModel;
  return base;
}

/**
 * "Debian GNU/Linux 12" from os-release text, as systeminformation's osInfo() makes `distro release`:
 * the distro is NAME; the release is PRETTY_NAME after the distro (else VERSION, else VERSION_ID)
 * without a "(codename)". Undefined when there is no NAME.
 */
export function osReleaseName(text: string): string | undefined {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) kv.set(m[1]!.toUpperCase(), m[2]!.trim().replace(/^(["'])(.*)\1$/, '$2'));
  }
  const distro = (kv.get('DISTRIB_ID') || kv.get('NAME') || '').trim();
  if (!distro) return undefined;
  let release = kv.get('VERSION') ?? '';
  const pretty = kv.get('PRETTY_NAME') ?? '';
  if (pretty.startsWith(distro + ' ')) release = pretty.slice(distro.length + 1).trim();
  if (release.includes('(')) release = release.split('(')[0]!.trim();
  release ||= kv.get('DISTRIB_RELEASE') || kv.get('VERSION_ID') || '';
  return [distro, release].filter((x) => x && x !== 'unknown').join(' ');
}

/** Makers systeminformation recognises in a CPU brand string, in its order (a later match wins). */
const CPU_MAKERS: [string, string][] = [
  ['intel', 'Intel'],
  ['amd', 'AMD'],
  ['qemu', 'QEMU'],
  ['hygon', 'Hygon'],
  ['centaur', 'WinChip/Via'],
  ['vmware', 'VMware'],
  ['apple', 'Apple'],
  ['sifive', 'SiFive'],
  ['thead', 'T-Head'],
  ['andestech', 'Andes Technology'],
];

/**
 * A CPU model line ("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz") as systeminformation's cpu() gives
 * `manufacturer brand` ("Intel Xeon\u00ae Gold 6248"): no clock, (R)/(TM)/(C) as symbols, no "CPU".
 */
export function cpuDisplayName(model: string): string {
  let brand = model.split('@')[0]!.trim();
  if (brand.includes('Unknown')) brand = brand.split('Unknown')[0]!.trim();
  brand = brand
    .replace(/\(R\)+/g, '\u00ae')
    .replace(/\(TM\)+/g, '\u2122')
    .replace(/\(C\)+/g, '\u00a9')
    .replace(/CPU+/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  let maker = brand;
  for (const [key, name] of CPU_MAKERS) if (brand.toLowerCase().includes(key)) maker = name;
  const rest = brand.split(' ').slice(1).join(' ');
  return [maker, rest].filter((x) => x.trim()).join(' ');
}
