/** One process using a GPU. */
export interface GpuProcess {
  pid: number;
  name: string | null;
  user: string | null;
  gpuIndex: number;
  usedMemoryBytes: number | null;
  /** SM utilisation ratio 0..1 where NVML gives it. */
  smUtilRatio: number | null;
  type: 'compute' | 'graphics' | 'unknown';
}

/** Static and slow-changing facts about one GPU (numbers are in series `gpu.<index>.*`). */
export interface GpuDevice {
  index: number;
  name: string;
  uuid: string;
  pciBusId: string;
  computeCapability: string | null;
  migMode: boolean | null;
  /** Decoded clock-event / throttle reasons active now. */
  throttleReasons: string[];
  pstate: string | null;
  /** Notes such as "utilisation not available under MIG". */
  notes: string[];
  /** Who made it (absent from older collectors: NVIDIA). */
  vendor?: GpuVendor;
  /** Kernel driver or library that reads it: `nvml`, `nvidia-smi`, `amdgpu`, `i915`, `xe`. */
  driver?: string;
  /** Why a series of this GPU is null (metric suffix → reason), where the backend knows. */
  unavailable?: Record<string, string>;
}

/** GPU vendors the collector reads. */
export type GpuVendor = 'nvidia' | 'amd' | 'intel' | 'apple';

/** GPU source details. */
export interface GpuDetails {
  kind: 'gpu';
  /** The NVIDIA backend when NVIDIA GPUs are present, else `drm` (AMD/Intel through sysfs and fdinfo) or `ioreg` (Apple). */
  backend: 'nvml' | 'nvidia-smi' | 'drm' | 'ioreg';
  /** Why the slower nvidia-smi backend is in use (e.g. "koffi could not be loaded: …"). */
  backendReason?: string;
  driverVersion: string | null;
  cudaVersion: string | null;
  /** Ordered by PCI bus id (not CUDA's default order). */
  devices: GpuDevice[];
  processes: GpuProcess[];
}
