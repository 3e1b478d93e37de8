/** One process using a GPU. */
export interface GpuProcess {
  pid: number;
  name: string | null;
  user: string | null;
  gpuIndex: number;
  usedMemoryBytes: number | null;
  /** SM utilisation ratio 0..1 where NVML gives it. */
  smUtilRatio: number | null;
  /** Memory-controller, encoder and decoder utilisation ratios (NVML backend; null where not sampled). */
  memUtilRatio?: number | null;
  encoderUtilRatio?: number | null;
  decoderUtilRatio?: number | null;
  type: 'compute' | 'graphics' | 'unknown';
}

/** A GPU's health verdict: healthy, degraded (watch it), or action needed (reset, drain, RMA). */
export type GpuVerdict = 'healthy' | 'degraded' | 'action-needed';

/** The verdict with its reasons (empty when healthy). */
export interface GpuHealth {
  verdict: GpuVerdict;
  reasons: string[];
}

/** Repeats of one Xid (or ECC / unavailable / recovery event) on one GPU, folded. */
export interface GpuXidSummary {
  /** `45`, or a pseudo code: `dbe`, `unavailable`, `recovery`, `other`. */
  code: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
  severity: 'warning' | 'critical';
  meaning: string;
  action: string;
}

/** Whether this GPU's Xid events are watched, and the events still within the hold. */
export interface GpuEventsInfo {
  /** `nvml`: NVML events; `kernel-log`: NVRM Xid lines (NVML events unavailable, see reason); `unavailable`: not watched. */
  source: 'nvml' | 'kernel-log' | 'unavailable';
  reason?: string;
  recent: GpuXidSummary[];
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
  /** Health verdict (NVML backend; absent from older collectors). */
  health?: GpuHealth;
  /** Xid / critical events (NVML backend). */
  events?: GpuEventsInfo;
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
