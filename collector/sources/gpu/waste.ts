// Waste series per GPU, from one tick's processes and values (the default rules gpu-idle-holder,
// gpu-orphaned-memory and gpu-idle-allocated compare them; see docs/gpu.md):
//   gpu.<i>.idle_holder_memory_bytes   VRAM of the biggest holder at 0 % SM (its own SM % where NVML gives
//                                      it, else the GPU's utilisation); 0 when none
//   gpu.<i>.orphaned_memory_bytes      VRAM held by pids that no longer exist, plus used VRAM that live
//                                      processes do not account for when that exceeds 1 GiB; 0 when none
//   gpu.<i>.idle_processes_count       processes on a GPU at 0 % utilisation; 0 when busy
// Each carries a subject (who) for the alert message. Null where the inputs are unknown.

import type { SeriesMap } from '../../../protocol';
import type { GpuDetails, GpuProcess } from '../../../protocol/details/gpu';
import { seriesName } from '../../../protocol/series';
import { ownerLabel } from '../proc-owner';

/** Used VRAM that live processes do not account for counts as orphaned above this, in bytes (driver and context overheads stay below it). */
export const UNACCOUNTED_MIN_BYTES = 1024 ** 3;
/** Processes named in one subject at most. */
const SUBJECT_MAX_PROCESSES = 3;

/** `pid 42 python train.py (alice, container trainer (img))` — plain text, bounded. */
export function describeProcess(p: GpuProcess): string {
  const who = [p.user, ownerLabel(p.owner)].filter((x): x is string => !!x).join(', ');
  const name = (p.name ?? 'unknown').slice(0, 80);
  return `pid ${p.pid} ${name}${who ? ` (${who})` : ''}`;
}

/** Series names one GPU's waste series read and write: utilisation, VRAM used, idle holder, orphaned, idle processes. */
type WasteNames = readonly [string, string, string, string, string];
// Built once per (source, GPU index): seriesName() sanitises every part, too much to repeat five times
// per GPU and tick.
const wasteNames = new Map<string, WasteNames[]>();
function namesOf(sourceId: string, i: number): WasteNames {
  let bySource = wasteNames.get(sourceId);
  if (!bySource) wasteNames.set(sourceId, (bySource = []));
  return (bySource[i] ??= [
    seriesName(sourceId, i, 'utilization_ratio'),
    seriesName(sourceId, i, 'memory_used_bytes'),
    seriesName(sourceId, i, 'idle_holder_memory_bytes'),
    seriesName(sourceId, i, 'orphaned_memory_bytes'),
    seriesName(sourceId, i, 'idle_processes_count'),
  ]);
}

/** Adds the three waste series (and their subjects) for every GPU of `details`. */
export function addWasteSeries(sourceId: string, details: GpuDetails, series: SeriesMap, notes: Record<string, string>): void {
  const byGpu = new Map<number, GpuProcess[]>();
  for (const p of details.processes) {
    let l = byGpu.get(p.gpuIndex);
    if (!l) byGpu.set(p.gpuIndex, (l = []));
    l.push(p);
  }
  for (const d of details.devices) {
    const i = d.index;
    const procs = byGpu.get(i) ?? [];
    const [utilKey, usedKey, holderKey, orphanKey, allocKey] = namesOf(sourceId, i);
    const util = series[utilKey] ?? null;
    const used = series[usedKey] ?? null;

    let holder: GpuProcess | null = null;
    let holderKnown = procs.length === 0 ? util !== null : false;
    for (const p of procs) {
      if (p.alive === false || p.usedMemoryBytes === null) continue;
      const idle = p.smUtilRatio !== null ? p.smUtilRatio === 0 : util === null ? null : util === 0;
      if (idle === null) continue;
      holderKnown = true;
      if (idle && (holder === null || p.usedMemoryBytes > (holder.usedMemoryBytes ?? 0))) holder = p;
    }
    series[holderKey] = holder ? holder.usedMemoryBytes : holderKnown ? 0 : null;
    if (holder) notes[holderKey] = describeProcess(holder);

    let dead = 0;
    let accounted = 0;
    let accountable = used !== null;
    const deadProcs: GpuProcess[] = [];
    for (const p of procs) {
      if (p.usedMemoryBytes === null || p.alive === null) accountable = false;
      else accounted += p.usedMemoryBytes;
      if (p.alive === false && p.usedMemoryBytes !== null) {
        dead += p.usedMemoryBytes;
        deadProcs.push(p);
      }
    }
    const unaccounted = accountable && used !== null ? used - accounted : null;
    const extra = unaccounted !== null && unaccounted > UNACCOUNTED_MIN_BYTES ? unaccounted : 0;
    series[orphanKey] = dead > 0 || extra > 0 ? dead + extra : accountable || deadProcs.length > 0 ? 0 : null;
    if (dead > 0 || extra > 0) {
      const parts = deadProcs.slice(0, SUBJECT_MAX_PROCESSES).map((p) => `${describeProcess(p)}, exited`);
      if (deadProcs.length > SUBJECT_MAX_PROCESSES) parts.push(`${deadProcs.length - SUBJECT_MAX_PROCESSES} more exited`);
      if (extra > 0) parts.push(`${Math.round(extra / 1024 ** 2)} MiB used by no listed process`);
      notes[orphanKey] = parts.join('; ');
    }

    const live = procs.filter((p) => p.alive !== false);
    series[allocKey] = util === null ? null : util === 0 ? live.length : 0;
    if (util === 0 && live.length > 0) {
      const parts = live.slice(0, SUBJECT_MAX_PROCESSES).map(describeProcess);
      if (live.length > SUBJECT_MAX_PROCESSES) parts.push(`${live.length - SUBJECT_MAX_PROCESSES} more`);
      notes[allocKey] = parts.join('; ');
    }
  }
}
