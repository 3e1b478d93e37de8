// Readings the views take from a sample: GPU and host numbers by series name, details by kind. Pure.

import type { GpuDetails, HostDetails, SampleMessage } from '../../protocol';

/** One GPU's numbers, read from series `gpu.<i>.*` and details. */
export interface GpuReading {
  index: number;
  name: string | null;
  util: number | null;
  /** GPM SM activity (Hopper+): the share of SMs busy, not just "a kernel ran"; null elsewhere. */
  smActivity: number | null;
  memUsed: number | null;
  memTotal: number | null;
  temp: number | null;
  power: number | null;
  powerLimit: number | null;
}

const GPU_SERIES_RE = /^gpu\.(\d+)\.(utilization_ratio|memory_total_bytes|memory_used_bytes)$/;

/** The GPU details of a sample, if the GPU source reported any. */
export function gpuDetails(sample: SampleMessage | undefined): GpuDetails | undefined {
  if (!sample) return undefined;
  for (const d of Object.values(sample.details)) if (d.kind === 'gpu') return d;
  return undefined;
}

/** The host details of a sample, if any. */
export function hostDetails(sample: SampleMessage | undefined): HostDetails | undefined {
  if (!sample) return undefined;
  for (const d of Object.values(sample.details)) if (d.kind === 'host') return d;
  return undefined;
}

/** Every GPU in a sample, by index (devices from details, else indices seen in series). */
export function gpuReadings(sample: SampleMessage | undefined): GpuReading[] {
  if (!sample) return [];
  const indices = new Set<number>();
  const names = new Map<number, string>();
  const det = gpuDetails(sample);
  for (const d of det?.devices ?? []) {
    indices.add(d.index);
    names.set(d.index, d.name);
  }
  for (const k of Object.keys(sample.series)) {
    const m = GPU_SERIES_RE.exec(k);
    if (m) indices.add(Number(m[1]));
  }
  const s = sample.series;
  const v = (k: string): number | null => (typeof s[k] === 'number' ? (s[k] as number) : null);
  return [...indices]
    .sort((a, b) => a - b)
    .map((i) => ({
      index: i,
      name: names.get(i) ?? null,
      util: v(`gpu.${i}.utilization_ratio`),
      smActivity: v(`gpu.${i}.sm_activity_ratio`),
      memUsed: v(`gpu.${i}.memory_used_bytes`),
      memTotal: v(`gpu.${i}.memory_total_bytes`),
      temp: v(`gpu.${i}.temperature_celsius`),
      power: v(`gpu.${i}.power_watts`),
      powerLimit: v(`gpu.${i}.power_limit_watts`),
    }));
}

/** Host CPU and RAM numbers of a sample. */
export function hostReading(sample: SampleMessage | undefined): { cpu: number | null; memUsed: number | null; memTotal: number | null } {
  const s = sample?.series ?? {};
  const v = (k: string): number | null => (typeof s[k] === 'number' ? (s[k] as number) : null);
  return { cpu: v('host.cpu_busy_ratio'), memUsed: v('host.memory_used_bytes'), memTotal: v('host.memory_total_bytes') };
}
