/** What a process belongs to, read from `/proc/<pid>/cgroup` (v1 or v2). */
export interface ProcessOwner {
  /** `container` (Docker, containerd, CRI-O, Podman outside Kubernetes), `pod` (Kubernetes), `unit` (a systemd system or user service), `session` (a login session), `host` (none of these). */
  kind: 'container' | 'pod' | 'unit' | 'session' | 'host';
  /** Container runtime named by the cgroup path. */
  runtime?: 'docker' | 'containerd' | 'cri-o' | 'podman';
  /** Full container id (64 hex digits) where the path names one. */
  containerId?: string;
  /** Container name (from the Docker source when it runs). */
  containerName?: string;
  /** Image of the container (from the Docker source when it runs). */
  image?: string;
  /** Kubernetes pod UID (dashed form). */
  podUid?: string;
  /** Kubernetes QoS class from the cgroup path: guaranteed, burstable, besteffort. */
  qos?: string;
  /** Pod namespace and name, where the kubelet's read-only API could be read. */
  podNamespace?: string;
  /** Pod name. */
  podName?: string;
  /** systemd unit (`nginx.service`, `user@1000.service`'s `app.service`). */
  unit?: string;
  /** Login session (`session-3.scope` → `3`). */
  session?: string;
  /** What could not be found out, e.g. why a pod has no name. */
  note?: string;
}

/** One process using a GPU. */
export interface GpuProcess {
  /** Pid in the collector's pid namespace (NVML's pid when it could not be mapped). */
  pid: number;
  /** Pid as NVML reported it, when it differs (the process lives in another pid namespace). */
  nvmlPid?: number;
  name: string | null;
  user: string | null;
  /** Full command line (arguments joined by spaces, control characters removed, capped), null when not visible. */
  command?: string | null;
  /** Epoch ms the process started, null when not visible. */
  startTime?: number | null;
  /** What the process belongs to (container, pod, unit, session), null when not visible. */
  owner?: ProcessOwner | null;
  /** False when NVML lists a pid that no longer exists (orphaned VRAM); absent/true otherwise. */
  alive?: boolean;
  gpuIndex: number;
  /** MIG GPU instance the process runs in (details.devices[].mig lists them); absent outside MIG. */
  gpuInstanceId?: number;
  usedMemoryBytes: number | null;
  /** SM utilisation ratio 0..1 where NVML gives it. */
  smUtilRatio: number | null;
  /** Memory-controller, encoder and decoder utilisation ratios (NVML backend; null where not sampled). */
  memUtilRatio?: number | null;
  encoderUtilRatio?: number | null;
  decoderUtilRatio?: number | null;
  /**
   * Estimated GPU energy of this process since the collector first saw it, joules: each tick's GPU energy
   * split by SM utilisation share (docs/gpu.md). Null when NVML gives no per-process utilisation.
   */
  energyJoules?: number | null;
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

/** One NVLink link of a GPU (nvmlDeviceGetNvLinkState / nvmlDeviceGetNvLinkErrorCounter). */
export interface GpuNvLink {
  /** Link number (0 … NVML_NVLINK_MAX_LINKS − 1). */
  link: number;
  /** Active now; null when the state could not be read this tick. */
  active: boolean | null;
  /** Data-link receive CRC errors (flit + data), transmit replays and recoveries since the driver loaded; null where not reported. */
  crcErrors: number | null;
  replayErrors: number | null;
  recoveryErrors: number | null;
  /** Data received / sent over the last interval, bytes/s (NVML_FI_DEV_NVLINK_THROUGHPUT_*); null on the first tick, after a counter reset, or when not supported. Absent from older collectors. */
  rxBytesPerSecond?: number | null;
  txBytesPerSecond?: number | null;
}

/** NVLink of a GPU: the links that were active when the collector started (absent on GPUs without NVLink). */
export interface GpuNvLinkInfo {
  links: GpuNvLink[];
  /** Which throughput counters the rates come from: `data` (payload), `raw` (payload + protocol overhead); absent when none. */
  throughputCounters?: 'data' | 'raw';
  /** Why the per-link rates are null (counters not supported), when they are. */
  throughputUnavailable?: string;
}

/** How long one clock-event (throttle) reason held. */
export interface GpuThrottleShare {
  /** `power_cap`, `thermal`, `hw_slowdown`, `power_brake`, `sync_boost`, `app_clocks`, `display_clocks`, `idle`. */
  reason: string;
  /** Display label (`power cap`). */
  label: string;
  /** Share of the rolling window (0..1). */
  windowRatio: number;
  /** Share of the last interval (0..1), null when it was not readable then. */
  lastRatio: number | null;
}

/** Throttle reasons over the last interval and a rolling window (5 min), from violation counters or sampled reasons. */
export interface GpuThrottleSummary {
  /** How much time the window covers so far, ms (up to 5 min). */
  windowMs: number;
  /** Reasons that could be read, in a fixed order (power cap, thermal, … idle). */
  reasons: GpuThrottleShare[];
}

/** One MIG device (a GPU instance's compute instance) of a MIG-enabled GPU. */
export interface GpuMigInstance {
  gpuInstanceId: number | null;
  computeInstanceId: number | null;
  memoryUsedBytes: number | null;
  memoryTotalBytes: number | null;
  /** SM activity of the GPU instance over the last interval (GPM, Hopper+), 0..1; null when not read. Absent from older collectors. */
  smActivityRatio?: number | null;
}

/** MIG on a GPU: its instances and which values are per instance or not available under MIG. */
export interface GpuMigInfo {
  instances: GpuMigInstance[];
  /** Values read per instance (`VRAM`). */
  perInstance: string[];
  /** Values NVML does not give under MIG (`utilisation`, …): null on the parent GPU. */
  notAvailable: string[];
  /** Why per-instance SM activity is null, when it is (no GPM before Hopper). */
  smActivityUnavailable?: string;
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
  /** Per-reason throttle shares over the last interval and the last 5 min (NVIDIA GPUs, from the second sample). */
  throttle?: GpuThrottleSummary;
  /** MIG instances (NVML backend; only on MIG-enabled GPUs). */
  mig?: GpuMigInfo;
  /** NVLink links and their error counters (NVML backend; only on GPUs with active links). */
  nvlink?: GpuNvLinkInfo;
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
