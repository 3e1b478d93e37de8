// The read-only view of one connection that pure view builders take (status text, trees, notifications).
// Mirrors what a Connection exposes, without the vscode module or sockets.

import type { ConnectionState } from '../../protocol/bridge';
import type { AlertInstance, GpuDetails, HelloMessage, HostDetails, SampleMessage, SourceStatus } from '../../protocol';

/** One connection's state, as the views see it. */
export interface ConnectionSnapshot {
  id: string;
  name: string;
  kind: string;
  state: ConnectionState;
  reason?: string;
  hello?: HelloMessage;
  latest?: SampleMessage;
  sources: SourceStatus[];
  alerts: AlertInstance[];
}

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
  return [...indices].sort((a, b) => a - b).map((i) => ({
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

/** Severity order: higher is worse. */
export function severityRank(a: AlertInstance): number {
  if (a.state !== 'firing') return 0;
  return a.severity === 'critical' ? 2 : 1;
}

/** The worst firing severity among alerts, or undefined. */
export function worstSeverity(alerts: AlertInstance[]): 'warning' | 'critical' | undefined {
  let r = 0;
  for (const a of alerts) r = Math.max(r, severityRank(a));
  return r === 2 ? 'critical' : r === 1 ? 'warning' : undefined;
}
