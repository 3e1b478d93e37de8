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
}

/** GPU source details. */
export interface GpuDetails {
  kind: 'gpu';
  backend: 'nvml' | 'nvidia-smi';
  /** Why the slower nvidia-smi backend is in use (e.g. "koffi could not be loaded: …"). */
  backendReason?: string;
  driverVersion: string | null;
  cudaVersion: string | null;
  /** Ordered by PCI bus id (not CUDA's default order). */
  devices: GpuDevice[];
  processes: GpuProcess[];
}
