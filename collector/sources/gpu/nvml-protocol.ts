// Messages between the GPU source (main thread) and its NVML worker thread.

import { GPU_METRICS } from './reading';

/** Registered worker kind of the NVML reader. */
export const NVML_WORKER_KIND = 'gpu-nvml';

/** Values per device in a sample: every metric, then the clock-event reason mask. NaN = null. */
export const NVML_VALUES_PER_DEVICE = GPU_METRICS.length + 1;

/** Offset of the clock-event reason mask inside a device's block of values. */
export const NVML_THROTTLE_OFFSET = GPU_METRICS.length;

/** What the worker is started with. */
export interface NvmlWorkerData {
  /** Path or soname handed to dlopen (`libnvidia-ml.so.1` searches the loader path). */
  libPath: string;
}

/** Static facts the worker reads once after nvmlInit_v2. */
export interface NvmlStaticDevice {
  name: string;
  uuid: string;
  pciBusId: string;
  computeCapability: string | null;
  migMode: boolean | null;
}

/** Static facts of the whole library. */
export interface NvmlStaticInfo {
  driverVersion: string | null;
  cudaVersion: string | null;
  devices: NvmlStaticDevice[];
}

/** One process row: device position (NVML order), pid, used bytes, SM util %, type code (0 compute, 1 graphics). */
export type NvmlProcessRow = [device: number, pid: number, usedBytes: number | null, smUtilPercent: number | null, type: 0 | 1];

/** Main → worker. */
export type NvmlRequest = { type: 'sample'; id: number } | { type: 'close' };

/** Worker → main. */
export type NvmlReply =
  | { type: 'ready'; info: NvmlStaticInfo }
  | { type: 'init-error'; stage: 'koffi' | 'load' | 'symbols' | 'init' | 'devices'; message: string }
  | { type: 'sample'; id: number; values: Float64Array; processes: NvmlProcessRow[]; notes: string[][] }
  | { type: 'warn'; key: string; message: string }
  | { type: 'error'; id: number; message: string };
