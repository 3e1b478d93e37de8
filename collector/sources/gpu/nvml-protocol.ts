// Messages between the GPU source (main thread) and its NVML worker thread.

import { GPU_METRICS } from './reading';

/** Registered worker kind of the NVML reader. */
export const NVML_WORKER_KIND = 'gpu-nvml';

/** Most NVLink links per GPU (nvml.h API 13: NVML_NVLINK_MAX_LINKS). */
export const NVLINK_LINKS_MAX = 36;
/** Values per NVLink link: active (1/0), CRC errors, replay errors, recovery errors, rx and tx bytes/s (NaN = null). */
export const NVLINK_VALUES_PER_LINK = 6;

/** Most MIG devices read per GPU (A100/H100 have at most 7). */
export const MIG_DEVICES_MAX = 8;
/**
 * Values per MIG device slot: GPU instance id (NaN = empty slot), compute instance id, memory total and
 * used (bytes), SM activity (0..1, GPM per GPU instance). NaN = null. The worker re-finds the MIG devices
 * every `migDiscoveryIntervalMs` (and at once when a MIG handle stops answering), so slots change.
 */
export const MIG_VALUES_PER_DEVICE = 5;

/** Offset of the per-link NVLink block (in the order of NvmlStaticDevice.nvLinks) inside a device's values. */
export const NVML_NVLINK_OFFSET = GPU_METRICS.length + 2;

/** Offset of the per-MIG-device slots inside a device's values. */
export const NVML_MIG_OFFSET = NVML_NVLINK_OFFSET + NVLINK_LINKS_MAX * NVLINK_VALUES_PER_LINK;

/** Values per device in a sample: every metric, the clock-event reason mask, note flags, NVLink links, MIG devices. NaN = null. */
export const NVML_VALUES_PER_DEVICE = NVML_MIG_OFFSET + MIG_DEVICES_MAX * MIG_VALUES_PER_DEVICE;

/** Offset of the clock-event reason mask inside a device's block of values. */
export const NVML_THROTTLE_OFFSET = GPU_METRICS.length;

/** Offset of the note flags (NVML_NOTE_*) inside a device's block of values. */
export const NVML_NOTES_OFFSET = GPU_METRICS.length + 1;

/** Note flag: MIG is enabled (utilisation is not available). */
export const NVML_NOTE_MIG = 1;
/** Note flag: the GPU is lost (fell off the bus). */
export const NVML_NOTE_LOST = 2;
/** Note flag: neither row remapping nor retired pages are reported. */
export const NVML_NOTE_NO_MEMORY_HEALTH = 4;
/** Note flag: the energy counter is not reported. */
export const NVML_NOTE_NO_ENERGY = 8;
/** Note flag: violation (throttle time) counters are not reported; slowdown comes from sampled reasons. */
export const NVML_NOTE_NO_VIOLATION = 16;
/** Note flag: GPM metrics are not supported (before Hopper, or under MIG). */
export const NVML_NOTE_NO_GPM = 32;
/** Note flag: the GPU has NVLink but its throughput counters (field values) are not supported. */
export const NVML_NOTE_NO_NVLINK_THROUGHPUT = 64;
/** Note flag: NVLink throughput comes from the RAW counters (data + protocol overhead; DATA not supported). */
export const NVML_NOTE_NVLINK_RAW = 128;
/** Note flag: a MIG GPU whose GPU instances are sampled with GPM (SM activity per instance). */
export const NVML_NOTE_MIG_GPM = 256;

// Shared memory between the threads (one batch per tick without MessagePort round trips):
// Int32 control words, then the per-device values, then process rows.
/** Control word: id of the requested batch (-1 = shut down). */
export const CTRL_REQ = 0;
/** Control word: id of the last finished batch. */
export const CTRL_DONE = 1;
/** Control word: number of process rows written. */
export const CTRL_NPROCS = 2;
/** Control word: 0 = batch ok, 1 = batch threw (message posted separately). */
export const CTRL_STATUS = 3;
/** Bytes of control words (keeps the Float64 region 8-byte aligned). */
export const CTRL_BYTES = 16;
/** Process rows the shared buffer holds; more are dropped with a warning. */
export const NVML_PROCESS_CAPACITY = 1024;
/** Numbers per process row: device, pid, used bytes, SM util %, type (0 compute, 1 graphics), memory/encoder/decoder util %, MIG GPU instance id (NaN = null). */
export const NVML_PROCESS_ROW = 9;

/** Bytes of the shared buffer for `devices` GPUs. */
export function sharedBytes(devices: number): number {
  return CTRL_BYTES + 8 * (devices * NVML_VALUES_PER_DEVICE + NVML_PROCESS_CAPACITY * NVML_PROCESS_ROW);
}

/** Views of the shared buffer. */
export function sharedViews(buf: SharedArrayBuffer, devices: number): { ctrl: Int32Array; values: Float64Array; procs: Float64Array } {
  const nValues = devices * NVML_VALUES_PER_DEVICE;
  return {
    ctrl: new Int32Array(buf, 0, CTRL_BYTES / 4),
    values: new Float64Array(buf, CTRL_BYTES, nValues),
    procs: new Float64Array(buf, CTRL_BYTES + 8 * nValues, NVML_PROCESS_CAPACITY * NVML_PROCESS_ROW),
  };
}

/** What the worker is started with. */
export interface NvmlWorkerData {
  /** Path or soname handed to dlopen (`libnvidia-ml.so.1` searches the loader path). */
  libPath: string;
  /** How often MIG devices are looked up again (instances are created and destroyed at run time), ms. */
  migDiscoveryIntervalMs: number;
}

/** Static facts the worker reads once after nvmlInit_v2. */
export interface NvmlStaticDevice {
  name: string;
  uuid: string;
  pciBusId: string;
  computeCapability: string | null;
  migMode: boolean | null;
  /** NVLink links that were active at start (empty: no NVLink in use). */
  nvLinks: number[];
}

/** Static facts of the whole library. */
export interface NvmlStaticInfo {
  driverVersion: string | null;
  cudaVersion: string | null;
  devices: NvmlStaticDevice[];
}

/** One process row: device position (NVML order), pid, used bytes, SM util %, type code (0 compute, 1 graphics). */
export type NvmlProcessRow = [
  device: number,
  pid: number,
  usedBytes: number | null,
  smUtilPercent: number | null,
  type: 0 | 1,
  memUtilPercent: number | null,
  encUtilPercent: number | null,
  decUtilPercent: number | null,
  gpuInstanceId: number | null,
];

/** Main → worker (messages; batches go through the shared buffer). */
export type NvmlRequest = { type: 'shared'; buffer: SharedArrayBuffer } | { type: 'close' };

/** Worker → main. */
export type NvmlReply =
  | { type: 'ready'; info: NvmlStaticInfo }
  | { type: 'init-error'; stage: 'koffi' | 'load' | 'symbols' | 'init' | 'devices'; message: string }
  | { type: 'warn'; key: string; message: string }
  | { type: 'error'; message: string };
