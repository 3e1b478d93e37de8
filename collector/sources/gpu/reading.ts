// Backend-neutral GPU readings (NVML or nvidia-smi) and their conversion to series and details.

import type { GpuDetails, GpuDevice, GpuMigInfo, GpuNvLinkInfo, GpuProcess, ProcessOwner } from '../../../protocol/details/gpu';
import type { SeriesMap } from '../../../protocol';
import { seriesName } from '../../../protocol/series';
import { gpuMigSeries, gpuNvLinkSeries } from '../../../protocol/keys';
import type { SampleResult } from '../../source';

/** Per-GPU metric names (the series suffix after `gpu.<i>.`), in base units. */
export const GPU_METRICS = [
  'utilization_ratio',
  'memory_utilization_ratio',
  'memory_used_bytes',
  'memory_total_bytes',
  'memory_reserved_bytes',
  'memory_used_ratio',
  'temperature_celsius',
  'power_watts',
  'power_limit_watts',
  'fan_ratio',
  'sm_clock_hertz',
  'memory_clock_hertz',
  'sm_clock_max_hertz',
  'memory_clock_max_hertz',
  'pcie_rx_bytes_per_second',
  'pcie_tx_bytes_per_second',
  'encoder_utilization_ratio',
  'decoder_utilization_ratio',
  'pstate_count',
  'ecc_volatile_errors_count',
  'temperature_slowdown_celsius',
  'temperature_shutdown_celsius',
  // Memory health (NVML only; null where the GPU does not report them).
  'ecc_volatile_corrected_count',
  'ecc_volatile_uncorrected_count',
  'ecc_aggregate_corrected_count',
  'ecc_aggregate_uncorrected_count',
  'remapped_rows_corrected_count',
  'remapped_rows_uncorrected_count',
  'remap_pending_state',
  'remap_failure_state',
  'retired_pages_count',
  'retired_pages_pending_state',
  // Energy since the driver loaded (nvmlDeviceGetTotalEnergyConsumption), joules.
  'energy_joules',
  // Share of the last interval the clocks were held down by power / thermal limits (nvmlDeviceGetViolationStatus).
  'power_violation_ratio',
  'thermal_violation_ratio',
  // Share of the last interval under hardware or thermal slowdown (violation time, else sampled reasons).
  'hw_slowdown_ratio',
  // GPM (Hopper+), over the last interval: what share of the SMs / warps / tensor pipes / DRAM bandwidth was used.
  'sm_activity_ratio',
  'sm_occupancy_ratio',
  'tensor_activity_ratio',
  'dram_bandwidth_ratio',
  'nvlink_rx_bytes_per_second',
  'nvlink_tx_bytes_per_second',
  // NVLink (NVML; null on GPUs without active links): links active at start, active now, and the error
  // counters summed over those links (CRC flit + data, replay, recovery), since the driver loaded.
  'nvlink_links_count',
  'nvlink_links_active_count',
  'nvlink_crc_errors_count',
  'nvlink_replay_errors_count',
  'nvlink_recovery_errors_count',
] as const;

/** One per-GPU metric name. */
export type GpuMetric = (typeof GPU_METRICS)[number];

/** Position of each metric in GPU_METRICS. */
export const METRIC_INDEX = Object.fromEntries(GPU_METRICS.map((m, i) => [m, i])) as Record<GpuMetric, number>;

/** One GPU as read by a backend (before ordering by PCI bus id). */
export interface DeviceReading {
  name: string;
  uuid: string;
  /** Canonical `DDDDDDDD:BB:DD.F`, upper-case hex (as NVML prints it). */
  pciBusId: string;
  computeCapability: string | null;
  migMode: boolean | null;
  /** Clock-event / throttle reason bitmask, or null when not readable. */
  throttleMask: number | null;
  /** Values by metric; or, from NVML (zero-copy), a Float64Array in GPU_METRICS order with NaN for null. */
  metrics: MetricRecord | Float64Array;
  notes: string[];
  /** Vendor and driver (DRM devices; NVIDIA backends may leave them out). */
  vendor?: GpuDevice['vendor'];
  driver?: string;
  /** Vendor-specific series beyond GPU_METRICS (suffix after `gpu.<i>.` → value), e.g. AMD junction temperature. */
  extra?: Record<string, number | null>;
  /** Why a null metric is null (metric or extra name → reason). */
  unavailable?: Record<string, string>;
  /** NVLink links (NVML, GPUs with active links only). */
  nvlink?: GpuNvLinkInfo;
  /** MIG instances (NVML, MIG-enabled GPUs only). */
  mig?: GpuMigInfo;
}

/** Values by metric name; null = not available. */
export type MetricRecord = Record<GpuMetric, number | null>;

/** One metric of a device reading, whatever form its metrics take. */
export function metricOf(d: DeviceReading, m: GpuMetric): number | null {
  if (d.metrics instanceof Float64Array) {
    const v = d.metrics[METRIC_INDEX[m]];
    return Number.isNaN(v) ? null : v;
  }
  return d.metrics[m];
}

/** One process on one GPU as read by a backend; `pciBusId` names the GPU. */
export interface ProcessReading {
  pciBusId: string;
  pid: number;
  usedMemoryBytes: number | null;
  smUtilRatio: number | null;
  /** Per-process memory-controller / encoder / decoder utilisation (nvmlDeviceGetProcessUtilization). */
  memUtilRatio?: number | null;
  encoderUtilRatio?: number | null;
  decoderUtilRatio?: number | null;
  /** MIG GPU instance the process runs in (NVML v2/v3 process info), null outside MIG. */
  gpuInstanceId?: number | null;
  type: GpuProcess['type'];
  /** Name as the backend saw it (nvidia-smi's process_name); /proc wins when visible. */
  name?: string | null;
}

/** Everything one tick read. */
export interface GpuReading {
  backend: GpuDetails['backend'];
  driverVersion: string | null;
  cudaVersion: string | null;
  devices: DeviceReading[];
  processes: ProcessReading[];
}

/** Names of NVML clock-event (throttle) reason bits, lowest bit first (nvml.h nvmlClocksEventReason*). */
export const THROTTLE_REASON_BITS: ReadonlyArray<readonly [number, string]> = [
  [0x1, 'gpu_idle'],
  [0x2, 'applications_clocks_setting'],
  [0x4, 'sw_power_cap'],
  [0x8, 'hw_slowdown'],
  [0x10, 'sync_boost'],
  [0x20, 'sw_thermal_slowdown'],
  [0x40, 'hw_thermal_slowdown'],
  [0x80, 'hw_power_brake_slowdown'],
  [0x100, 'display_clock_setting'],
];

const reasonCache = new Map<number, readonly string[]>();

/** Decodes a clock-event reason bitmask to names; unknown bits become `unknown_0x…`. */
export function decodeThrottleReasons(mask: number | null): string[] {
  if (mask === null || !Number.isFinite(mask) || mask < 0) return [];
  let hit = reasonCache.get(mask);
  if (!hit) {
    hit = decodeUncached(mask);
    if (reasonCache.size > 1024) reasonCache.clear();
    reasonCache.set(mask, hit);
  }
  return hit.slice();
}

function decodeUncached(mask: number): string[] {
  const out: string[] = [];
  let rest = mask;
  for (const [bit, name] of THROTTLE_REASON_BITS) {
    if (Math.floor(mask / bit) % 2 === 1) {
      out.push(name);
      rest -= bit;
    }
  }
  if (rest > 0) out.push(`unknown_0x${rest.toString(16)}`);
  return out;
}

/** Normalises a PCI bus id to NVML's `DDDDDDDD:BB:DD.F` upper-case form (nvidia-smi prints the same). */
export function normalizePciBusId(id: string): string {
  let hit = busIdCache.get(id);
  if (hit === undefined) {
    hit = normalizeUncached(id);
    if (busIdCache.size > 4096) busIdCache.clear();
    busIdCache.set(id, hit);
  }
  return hit;
}

const busIdCache = new Map<string, string>();
const busKeyCache = new Map<string, number[]>();

function normalizeUncached(id: string): string {
  const m = /^(?:([0-9a-fA-F]{1,8}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$/.exec(id.trim());
  if (!m) return id.trim().toUpperCase();
  const dom = (m[1] ?? '0').padStart(8, '0');
  return `${dom}:${m[2].padStart(2, '0')}:${m[3].padStart(2, '0')}.${m[4]}`.toUpperCase();
}

/** Orders devices by PCI bus id (domain, bus, device, function), CUDA_DEVICE_ORDER=PCI_BUS_ID style. */
export function sortByPciBusId<T extends { pciBusId: string }>(devices: T[]): T[] {
  const key = (d: T): number[] => {
    let k = busKeyCache.get(d.pciBusId);
    if (!k) {
      const m = /^([0-9A-F]+):([0-9A-F]+):([0-9A-F]+)\.([0-9A-F]+)$/i.exec(normalizePciBusId(d.pciBusId));
      k = m ? [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16), parseInt(m[4], 16)] : [Infinity, 0, 0, 0];
      if (busKeyCache.size > 4096) busKeyCache.clear();
      busKeyCache.set(d.pciBusId, k);
    }
    return k;
  };
  return devices
    .map((d) => ({ d, k: key(d) }))
    .sort((a, b) => {
      for (let i = 0; i < 4; i++) if (a.k[i] !== b.k[i]) return a.k[i] - b.k[i];
      return a.d.pciBusId < b.d.pciBusId ? -1 : a.d.pciBusId > b.d.pciBusId ? 1 : 0;
    })
    .map((x) => x.d);
}

/** Who a process is, looked up by the caller (from /proc: see sources/proc-owner). */
export interface ProcessAttribution {
  /** Pid in the collector's namespace when it differs from the backend's. */
  pid?: number;
  nvmlPid?: number;
  name: string | null;
  user: string | null;
  command?: string | null;
  startTime?: number | null;
  owner?: ProcessOwner | null;
  /** false: the pid no longer exists; null: cannot tell. */
  alive?: boolean | null;
}

/** Attribution of a pid, looked up by the caller; `gpu` is the PCI bus id of the GPU the backend listed it on. */
export type ProcessLookup = (pid: number, gpu?: string) => ProcessAttribution;

// Series names per (source, GPU index), built once: naming 160 series every tick would cost more
// than reading the GPUs.
const nameCache = new Map<string, string[]>();
function metricNames(sourceId: string, index: number): string[] {
  const key = `${sourceId}\u0000${index}`;
  let names = nameCache.get(key);
  if (!names) {
    names = GPU_METRICS.map((m) => seriesName(sourceId, index, m));
    nameCache.set(key, names);
  }
  return names;
}

/** Per-link NVLink metrics (series `gpu.<i>.nvlink.<link>.<metric>`). */
export const NVLINK_LINK_METRICS = ['link_rx_bytes_per_second', 'link_tx_bytes_per_second'] as const;
/** Per-GPU-instance MIG metrics (series `gpu.<i>.mig.<gi>.<metric>`). */
export const MIG_INSTANCE_METRICS = ['memory_used_bytes', 'memory_total_bytes', 'sm_activity_ratio'] as const;

// Names of the per-link and per-instance series, built once per (source, GPU, link or instance): one
// map lookup per GPU and tick, then array indexing per link.
interface SubNames {
  links: (string[] | undefined)[];
  mig: Map<number, string[]>;
}
const subNameCache = new Map<string, SubNames>();

/** Series of each NVLink link (rx/tx bytes/s) and each MIG GPU instance (VRAM, SM activity) of one GPU. */
function addSubSeries(series: SeriesMap, sourceId: string, index: number, d: DeviceReading): void {
  const key = `${sourceId}\u0000${index}`;
  let names = subNameCache.get(key);
  if (!names) {
    names = { links: [], mig: new Map() };
    subNameCache.set(key, names);
  }
  if (d.nvlink)
    for (const l of d.nvlink.links) {
      const n = (names.links[l.link] ??= NVLINK_LINK_METRICS.map((m) => gpuNvLinkSeries(sourceId, index, l.link, m)));
      series[n[0]] = l.rxBytesPerSecond ?? null;
      series[n[1]] = l.txBytesPerSecond ?? null;
    }
  // One series set per GPU instance: its compute instances share its memory and SM activity.
  if (d.mig)
    for (const m of d.mig.instances) {
      const gi = m.gpuInstanceId;
      if (gi === null) continue;
      let n = names.mig.get(gi);
      if (!n) {
        n = MIG_INSTANCE_METRICS.map((x) => gpuMigSeries(sourceId, index, gi, x));
        // GPU instance ids are small (< 16 on today's GPUs); a bound in case a driver says otherwise.
        if (names.mig.size < 64) names.mig.set(gi, n);
      }
      if (n[0] in series) continue;
      series[n[0]] = m.memoryUsedBytes;
      series[n[1]] = m.memoryTotalBytes;
      series[n[2]] = m.smActivityRatio ?? null;
    }
}

// The PCI order of the last device list, reused while the list is unchanged (it almost never changes).
// Compared bus id by bus id (no key string built per tick).
let lastBusIds: string[] = [];
let lastOrder: number[] = [];
function pciOrder(devices: DeviceReading[]): number[] {
  let same = devices.length === lastBusIds.length;
  for (let i = 0; same && i < devices.length; i++) same = devices[i].pciBusId === lastBusIds[i];
  if (!same) {
    const idx = devices.map((d, i) => ({ pciBusId: d.pciBusId, i }));
    lastOrder = sortByPciBusId(idx).map((x) => x.i);
    lastBusIds = devices.map((d) => d.pciBusId);
  }
  return lastOrder;
}

/** Turns one tick's reading into series (`gpu.<i>.*`) and details, GPUs ordered by PCI bus id. */
export function buildSample(sourceId: string, reading: GpuReading, lookup: ProcessLookup, backendReason?: string): SampleResult {
  const ordered = pciOrder(reading.devices).map((i) => reading.devices[i]);
  const series: SeriesMap = {};
  const devices: GpuDevice[] = [];
  const indexByBus = new Map<string, number>();
  ordered.forEach((d, index) => {
    indexByBus.set(normalizePciBusId(d.pciBusId), index);
    const names = metricNames(sourceId, index);
    const mv = d.metrics;
    if (mv instanceof Float64Array) {
      for (let i = 0; i < names.length; i++) {
        const v = mv[i];
        series[names[i]] = v === v ? v : null; // NaN → null
      }
    } else {
      for (let i = 0; i < names.length; i++) series[names[i]] = mv[GPU_METRICS[i]];
    }
    if (d.extra) for (const k of Object.keys(d.extra)) series[seriesName(sourceId, index, k)] = d.extra[k];
    if (d.nvlink || d.mig) addSubSeries(series, sourceId, index, d);
    const pstate = metricOf(d, 'pstate_count');
    const dev: GpuDevice = {
      index,
      name: d.name,
      uuid: d.uuid,
      pciBusId: d.pciBusId,
      computeCapability: d.computeCapability,
      migMode: d.migMode,
      throttleReasons: decodeThrottleReasons(d.throttleMask),
      pstate: pstate === null ? null : `P${pstate}`,
      notes: d.notes,
    };
    // NVIDIA backends leave vendor/driver out: every GPU they read is NVIDIA's, read by that backend.
    dev.vendor = d.vendor ?? 'nvidia';
    dev.driver = d.driver ?? reading.backend;
    if (d.unavailable && Object.keys(d.unavailable).length > 0) dev.unavailable = d.unavailable;
    if (d.nvlink) dev.nvlink = d.nvlink;
    if (d.mig) dev.mig = d.mig;
    devices.push(dev);
  });
  const processes: GpuProcess[] = [];
  for (const p of reading.processes) {
    const gpuIndex = indexByBus.get(normalizePciBusId(p.pciBusId));
    if (gpuIndex === undefined) continue;
    const who = lookup(p.pid, p.pciBusId);
    const row: GpuProcess = {
      pid: who.pid ?? p.pid,
      name: who.name ?? p.name ?? null,
      user: who.user,
      gpuIndex,
      usedMemoryBytes: p.usedMemoryBytes,
      smUtilRatio: p.smUtilRatio,
      type: p.type,
    };
    if (who.nvmlPid !== undefined) row.nvmlPid = who.nvmlPid;
    if (who.command !== undefined) row.command = who.command;
    if (who.startTime !== undefined) row.startTime = who.startTime;
    if (who.owner !== undefined) row.owner = who.owner;
    if (who.alive === false) row.alive = false;
    if (p.gpuInstanceId !== undefined && p.gpuInstanceId !== null) row.gpuInstanceId = p.gpuInstanceId;
    if (p.memUtilRatio !== undefined) {
      row.memUtilRatio = p.memUtilRatio;
      row.encoderUtilRatio = p.encoderUtilRatio ?? null;
      row.decoderUtilRatio = p.decoderUtilRatio ?? null;
    }
    processes.push(row);
  }
  processes.sort((a, b) => a.gpuIndex - b.gpuIndex || (b.usedMemoryBytes ?? -1) - (a.usedMemoryBytes ?? -1) || a.pid - b.pid);
  const details: GpuDetails = {
    kind: 'gpu',
    backend: reading.backend,
    driverVersion: reading.driverVersion,
    cudaVersion: reading.cudaVersion,
    devices,
    processes,
  };
  if (backendReason) details.backendReason = backendReason;
  return { series, details };
}

/** Fills `memory_used_ratio` from used/total when both are known. */
export function usedRatio(used: number | null, total: number | null): number | null {
  return used !== null && total !== null && total > 0 ? used / total : null;
}

/** Formats NVML's CUDA driver version integer (12040) as `12.4`. */
export function formatCudaVersion(v: number): string {
  return `${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 10)}`;
}

/** A metrics record with every metric null. */
export function emptyMetrics(): MetricRecord {
  const out = {} as MetricRecord;
  for (const m of GPU_METRICS) out[m] = null;
  return out;
}
