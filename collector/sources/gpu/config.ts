// The `gpu` section of the config file, validated.

import { ConfigError } from '../../config-error';
import { nvmlLibraryCandidates } from './koffi-load';

/** Which backend to use. */
export type GpuBackendChoice = 'auto' | 'nvml' | 'nvidia-smi';

/** Validated GPU settings (defaults filled in). */
export interface GpuConfig {
  backend: GpuBackendChoice;
  /** dlopen name or path of NVML; `libnvidia-ml.so.1` searches the loader path. */
  nvmlPath: string;
  /** Every NVML library tried, in order (Windows: System32, then the NVSMI folder). */
  nvmlPaths: string[];
  /** nvidia-smi command or path. */
  nvidiaSmiPath: string;
  /** Watchdog for one tick's NVML calls, ms. */
  callTimeoutMs: number;
  /** How long nvmlInit + enumeration may take, ms. */
  initTimeoutMs: number;
  /** Fallback: `--query-compute-apps` cadence, ms. */
  processIntervalMs: number;
  /** Fallback: kill the streaming child after this long without output, ms. */
  silenceTimeoutMs: number;
  /** Listen for Xid / ECC / recovery events on their own thread (NVML backend). */
  events: boolean;
  /** How long a GPU event keeps the GPU's health verdict at "action needed"/"degraded", ms. */
  xidHoldMs: number;
  /** Kernel log read for `NVRM: Xid` lines where NVML events cannot be registered. */
  kernelLogPath: string;
  /** journalctl followed for `NVRM: Xid` lines when the kernel log is not readable (a name on PATH or a path). */
  journalctlPath: string;
  /** Read AMD/Intel GPUs through DRM sysfs and fdinfo (default true). */
  drm: boolean;
  /** DRM: how often every process's fds are walked to find new GPU clients, ms. */
  drmDiscoveryIntervalMs: number;
  /** NVML: how often MIG instances are looked up again (created/destroyed at run time), ms. */
  migDiscoveryIntervalMs: number;
  /** Stand-ins for /sys and /proc (RIGWATCH_SYSFS_ROOT, RIGWATCH_PROC_ROOT): tests point them at captured trees. */
  sysRoot: string;
  procRoot: string;
  /** Attribute processes to containers, pods, units and sessions (false: pid, name and user only). */
  attribution: boolean;
  /** Kubelet read-only `/pods` URL for pod names, or null to not ask. */
  kubeletUrl: string | null;
}

/** Default NVML soname. */
export const DEFAULT_NVML_PATH = 'libnvidia-ml.so.1';
/** Default nvidia-smi command (looked up on PATH). */
export const DEFAULT_NVIDIA_SMI = 'nvidia-smi';
const DEFAULT_CALL_TIMEOUT_MS = 2000;
// Below the tick loop's 10 s probe timeout, so our own message wins.
const DEFAULT_INIT_TIMEOUT_MS = 8000;
const DEFAULT_PROCESS_INTERVAL_MS = 5000;
const MIN_SILENCE_TIMEOUT_MS = 5000;
/** Default hold of a GPU event in the health verdict, ms (the gpu-xid rule's keepFiringFor is the same 1 h). */
export const DEFAULT_XID_HOLD_MS = 3_600_000;

const KEYS = [
  'backend',
  'nvmlPath',
  'nvidiaSmiPath',
  'callTimeoutMs',
  'initTimeoutMs',
  'processIntervalMs',
  'silenceTimeoutMs',
  'events',
  'xidHoldMs',
  'kernelLogPath',
  'journalctlPath',
  'attribution',
  'kubeletUrl',
  'drm',
  'drmDiscoveryIntervalMs',
  'migDiscoveryIntervalMs',
];
const DEFAULT_DRM_DISCOVERY_MS = 5000;
const DEFAULT_MIG_DISCOVERY_MS = 10_000;
/** Default kubelet read-only pod list (for pod names). */
export const DEFAULT_KUBELET_URL = 'http://127.0.0.1:10255/pods';

/** Validates `config.gpu` (undefined/true = defaults); env RIGWATCH_NVML_PATH / RIGWATCH_NVIDIA_SMI apply when the key is absent. */
export function parseGpuConfig(raw: unknown, env: NodeJS.ProcessEnv, intervalMs: number, platform: string = process.platform): GpuConfig {
  const section: Record<string, unknown> = raw === undefined || raw === null || raw === true ? {} : (raw as Record<string, unknown>);
  if (typeof section !== 'object' || Array.isArray(section)) throw new ConfigError('gpu', raw, 'an object, true or false');
  for (const k of Object.keys(section)) if (!KEYS.includes(k)) throw new ConfigError(`gpu.${k}`, section[k], `one of the keys ${KEYS.join(', ')}`);
  const str = (key: string, fallback: string): string => {
    const v = section[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || v.trim() === '') throw new ConfigError(`gpu.${key}`, v, 'a non-empty string');
    return v;
  };
  const ms = (key: string, fallback: number, min: number): number => {
    const v = section[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new ConfigError(`gpu.${key}`, v, `a number of milliseconds ≥ ${min}`);
    return v;
  };
  if (section.drm !== undefined && typeof section.drm !== 'boolean') throw new ConfigError('gpu.drm', section.drm, 'true or false');
  const backend = section.backend ?? 'auto';
  if (backend !== 'auto' && backend !== 'nvml' && backend !== 'nvidia-smi') throw new ConfigError('gpu.backend', backend, '"auto", "nvml" or "nvidia-smi"');
  const events = section.events ?? true;
  if (typeof events !== 'boolean') throw new ConfigError('gpu.events', events, 'true or false');
  const attribution = section.attribution ?? true;
  if (typeof attribution !== 'boolean') throw new ConfigError('gpu.attribution', attribution, 'true or false');
  const kubelet = section.kubeletUrl === undefined ? env.RIGWATCH_KUBELET_URL || DEFAULT_KUBELET_URL : section.kubeletUrl;
  if (kubelet !== false && (typeof kubelet !== 'string' || !/^http:\/\/[^\s]+$/.test(kubelet)))
    throw new ConfigError('gpu.kubeletUrl', kubelet, 'an http:// URL of the kubelet read-only /pods, or false');
  const configuredNvml = section.nvmlPath !== undefined ? str('nvmlPath', DEFAULT_NVML_PATH) : env.RIGWATCH_NVML_PATH || undefined;
  const nvmlPaths = nvmlLibraryCandidates(platform, env, configuredNvml);
  return {
    nvmlPaths,
    attribution,
    kubeletUrl: kubelet === false ? null : kubelet,
    backend,
    events,
    xidHoldMs: ms('xidHoldMs', DEFAULT_XID_HOLD_MS, 1000),
    kernelLogPath: str('kernelLogPath', '/dev/kmsg'),
    journalctlPath: str('journalctlPath', 'journalctl'),
    nvmlPath: nvmlPaths[0],
    nvidiaSmiPath: str('nvidiaSmiPath', env.RIGWATCH_NVIDIA_SMI || DEFAULT_NVIDIA_SMI),
    callTimeoutMs: ms('callTimeoutMs', DEFAULT_CALL_TIMEOUT_MS, 50),
    initTimeoutMs: ms('initTimeoutMs', DEFAULT_INIT_TIMEOUT_MS, 100),
    processIntervalMs: ms('processIntervalMs', DEFAULT_PROCESS_INTERVAL_MS, 500),
    silenceTimeoutMs: ms('silenceTimeoutMs', Math.max(MIN_SILENCE_TIMEOUT_MS, 3 * intervalMs), 200),
    drm: section.drm !== false,
    drmDiscoveryIntervalMs: ms('drmDiscoveryIntervalMs', DEFAULT_DRM_DISCOVERY_MS, 100),
    migDiscoveryIntervalMs: ms('migDiscoveryIntervalMs', DEFAULT_MIG_DISCOVERY_MS, 100),
    sysRoot: env.RIGWATCH_SYSFS_ROOT || '/sys',
    procRoot: env.RIGWATCH_PROC_ROOT || '/proc',
  };
}
