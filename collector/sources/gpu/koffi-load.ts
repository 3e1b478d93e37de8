// Where the NVML worker gets koffi from: the native module a remote deploy put next to the bundle
// (`koffi-<platform>-<arch>.node`, see remote/ssh.ts), else the installed `koffi` package.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as KoffiModule from 'koffi';

/** Name of the native module the remote deploy writes next to the bundle for this platform. */
export function koffiNativeName(platform: string = process.platform, arch: string = process.arch): string {
  return `koffi-${platform}-${arch}.node`;
}

/** koffi as loaded, and from where (`next to the bundle: …` or `the koffi package`). */
export interface LoadedKoffi {
  koffi: typeof KoffiModule;
  from: string;
}

/**
 * Loads koffi: `<bundleDir>/koffi-<platform>-<arch>.node` (or `<bundleDir>/koffi/<platform>_<arch>/koffi.node`) first (its native module exports load/func
 * itself), then `require('koffi')`. Throws one error naming both attempts.
 */
export function loadKoffi(bundleDir: string, req: (id: string) => unknown = require): LoadedKoffi {
  // Deployed remotely as koffi-<platform>-<arch>.node; shipped in the .vsix/dist as koffi/<platform>_<arch>/koffi.node.
  const deployed = path.join(bundleDir, koffiNativeName());
  const shipped = path.join(bundleDir, 'koffi', `${process.platform}_${process.arch}`, 'koffi.node');
  const native = fs.existsSync(deployed) ? deployed : shipped;
  let nativeWhy = `${deployed} absent`;
  if (fs.existsSync(native)) {
    try {
      const k = req(native) as typeof KoffiModule;
      if (typeof k.load === 'function') return { koffi: k, from: `next to the bundle (${path.basename(native)})` };
      nativeWhy = `${native} is not koffi`;
    } catch (e) {
      nativeWhy = `${native} failed to load: ${(e as Error).message}`;
    }
  }
  try {
    return { koffi: req('koffi') as typeof KoffiModule, from: 'the koffi package' };
  } catch (e) {
    throw new Error(`no koffi for ${process.platform}-${process.arch}: ${nativeWhy}; koffi package: ${(e as Error).message.split('\n')[0]}`);
  }
}

/**
 * NVML library candidates in load order: the configured path alone when given; on Windows System32,
 * then the NVSMI folder of older drivers; elsewhere the soname.
 */
export function nvmlLibraryCandidates(platform: string, env: NodeJS.ProcessEnv, configured?: string): string[] {
  if (configured) return [configured];
  if (platform === 'win32') {
    const sys = env.SystemRoot || env.windir || 'C:\\Windows';
    const pf = env.ProgramW6432 || env.ProgramFiles || 'C:\\Program Files';
    return [`${sys}\\System32\\nvml.dll`, `${pf}\\NVIDIA Corporation\\NVSMI\\nvml.dll`];
  }
  return ['libnvidia-ml.so.1'];
}

/** Library folders the dynamic loader searches without configuration (glibc's trusted dirs and the usual multiarch ones). */
const DEFAULT_LIB_DIRS = [
  '/lib',
  '/usr/lib',
  '/lib64',
  '/usr/lib64',
  `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`,
  `/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`,
];

/**
 * Whether the NVML library could be loaded at all, answered without loading it: a path is checked on
 * disk; a bare soname on Linux is looked up in LD_LIBRARY_PATH, the loader's cache (/etc/ld.so.cache
 * names every library it knows) and the default folders. `true` when unsure (other platforms, no
 * cache): the worker then tries for real. Saves starting a worker thread (~10 MB) on machines without NVIDIA.
 */
export function nvmlLibraryMayLoad(libPath: string, env: NodeJS.ProcessEnv, platform: string = process.platform): boolean {
  if (platform !== 'linux') return true;
  if (libPath.includes('/')) return fs.existsSync(libPath);
  for (const dir of [...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...DEFAULT_LIB_DIRS]) if (fs.existsSync(path.join(dir, libPath))) return true;
  let cache: Buffer;
  try {
    cache = fs.readFileSync('/etc/ld.so.cache');
  } catch {
    return true;
  }
  return cache.includes(libPath);
}
