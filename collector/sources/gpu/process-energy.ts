// Per-process GPU energy, an estimate: each tick, the GPU's energy increase (NVML's counter) is split
// among its processes in proportion to their SM utilisation (nvmlDeviceGetProcessUtilization), and
// summed per process since the collector first saw it; the published value moves every 10 s. A GPU
// without per-process samples, or whose processes all show 0 % SM, attributes nothing (its processes
// keep what they had, or null).

import type { GpuDetails, GpuProcess } from '../../../protocol/details/gpu';
import type { SeriesMap } from '../../../protocol';

/** Longest tick whose energy is attributed, ms: after a longer gap the split would be a guess. */
const ENERGY_TICK_MAX_MS = 60_000;
/**
 * How often a process's published estimate moves, ms. The estimate is summed every tick, but a value
 * that changed every tick would make every sample resend the whole process list on the compact stream.
 */
export const PROCESS_ENERGY_PUBLISH_MS = 10_000;

/** One process's estimate: summed joules, the published value and when, and the tick it was last seen. */
interface Acc {
  start: number | null | undefined;
  sum: number;
  shown: number;
  at: number;
  seen: number;
}

/** Accumulates per-process energy estimates across ticks. */
export class ProcessEnergy {
  /** Last counter value and time per GPU (PCI bus id). */
  private readonly last = new Map<string, { j: number; t: number }>();
  /**
   * Per GPU (bus id) and pid as NVML reports it, for processes present in the last tick only. Keyed by
   * numbers, not a joined string: this runs for every process every tick.
   */
  private readonly joules = new Map<string, Map<number, Acc>>();
  private tick = 0;

  constructor(private readonly publishMs = PROCESS_ENERGY_PUBLISH_MS) {}

  /** Splits this tick's energy of every GPU among its processes and sets `energyJoules` on each row. */
  apply(sourceId: string, details: GpuDetails, series: SeriesMap, t: number): void {
    const tick = ++this.tick;
    // Processes by GPU in one pass (not one filter of every process per GPU).
    const byGpu = new Map<number, GpuProcess[]>();
    for (const p of details.processes) {
      const list = byGpu.get(p.gpuIndex);
      if (list) list.push(p);
      else byGpu.set(p.gpuIndex, [p]);
    }
    for (const d of details.devices) {
      const j = series[`${sourceId}.${d.index}.energy_joules`];
      const prev = this.last.get(d.pciBusId);
      if (typeof j !== 'number') {
        this.last.delete(d.pciBusId);
        continue;
      }
      // A drop is a driver reload (the counter restarted): nothing to attribute this tick.
      const delta = prev && j >= prev.j && t - prev.t <= ENERGY_TICK_MAX_MS ? j - prev.j : 0;
      if (prev) {
        prev.j = j;
        prev.t = t;
      } else this.last.set(d.pciBusId, { j, t });
      const procs = byGpu.get(d.index) ?? [];
      let smSum = 0;
      for (const p of procs) if (p.smUtilRatio !== null && p.smUtilRatio > 0) smSum += p.smUtilRatio;
      let perPid = this.joules.get(d.pciBusId);
      for (const p of procs) {
        const pid = p.nvmlPid ?? p.pid;
        let acc = perPid?.get(pid);
        // The same pid with another start time is another process: it starts from nothing.
        if (acc && acc.start !== p.startTime) {
          perPid!.delete(pid);
          acc = undefined;
        }
        if (acc) acc.seen = tick;
        if (smSum > 0 && p.smUtilRatio !== null) {
          if (!acc) {
            const fresh: Acc = { start: p.startTime, sum: 0, shown: 0, at: t, seen: tick };
            if (!perPid) this.joules.set(d.pciBusId, (perPid = new Map()));
            perPid.set(pid, fresh);
            acc = fresh;
          }
          acc.sum += (delta * Math.max(0, p.smUtilRatio)) / smSum;
          if (t - acc.at >= this.publishMs) {
            acc.shown = acc.sum;
            acc.at = t;
          }
        }
        p.energyJoules = acc ? acc.shown : null;
      }
    }
    // Bounded by the processes of the last tick: gone processes (and GPUs) are forgotten.
    for (const [bus, perPid] of this.joules) {
      for (const [pid, acc] of perPid) if (acc.seen !== tick) perPid.delete(pid);
      if (perPid.size === 0) this.joules.delete(bus);
    }
  }
}
