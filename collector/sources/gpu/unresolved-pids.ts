// Negative cache of GPU process lookups: pids NVML lists that /proc cannot resolve. NVML reports the pids
// of processes in other pid namespaces (containers) that our /proc does not show, and a process that is
// gone (orphaned VRAM); looking them up every tick costs failed opens, a kill(pid, 0) and error objects per
// pid and GPU — a third of a tick on 8 GPUs. Such a miss is remembered per pid as NVML reports it, with
// NVML's view of it (the GPUs it is listed on), and asked again:
// - at once when /proc/<pid> appears (one existence check per pid and tick, no read);
// - at once when NVML lists it on a GPU it was not on (another process behind the same number, e.g. a
//   second container's pid 100);
// - after RETRY_MS otherwise (the NSpid map of the attribution reader is rebuilt on the same cadence, so a
//   container process is attributed as soon as the reader could know it);
// - never once NVML stops listing it (forgotten at the end of that tick: a later listing is a new process).
// While remembered, the lookup answers what it answered on the miss ("cannot tell" or "not alive").

import * as fs from 'node:fs';
import { NSPID_SCAN_INTERVAL_MS } from '../proc-owner/reader';
import type { ProcessAttribution, ProcessLookup } from './reading';

/** Interval between two lookups of a pid /proc could not resolve, ms. */
export const UNRESOLVED_RETRY_MS = NSPID_SCAN_INTERVAL_MS;

interface Miss {
  /** What the lookup answered. */
  who: ProcessAttribution;
  /** GPUs (PCI bus ids) NVML listed the pid on when it was looked up, and since. */
  gpus: Set<string>;
  /** Clock (ms) of the lookup. */
  at: number;
  /** Tick of the lookup, and of the last existence check / listing. */
  readTick: number;
  seenTick: number;
  /** `<root>/<pid>`, built once. */
  dir: string;
}

/** Options (tests inject the clock and the existence check). */
export interface UnresolvedPidsOptions {
  procRoot: string;
  retryMs?: number;
  /** Monotonic clock, ms. */
  now?: () => number;
  /** Does this /proc/<pid> directory exist? */
  exists?: (dir: string) => boolean;
}

/** A pid lookup (name, user, owner from /proc) with misses remembered; endTick() once per tick. */
export class UnresolvedPids {
  private readonly misses = new Map<number, Miss>();
  private tick = 0;
  private readonly retryMs: number;
  private readonly now: () => number;
  private readonly exists: (dir: string) => boolean;
  /** Lookups that went through to the reader (tests, benchmarks). */
  reads = 0;

  constructor(
    private readonly inner: (pid: number) => ProcessAttribution,
    private readonly opts: UnresolvedPidsOptions,
  ) {
    this.retryMs = opts.retryMs ?? UNRESOLVED_RETRY_MS;
    this.now = opts.now ?? (() => performance.now());
    this.exists = opts.exists ?? ((dir) => fs.existsSync(dir));
  }

  /** The lookup to hand to buildSample. */
  readonly lookup: ProcessLookup = (pid, gpu) => {
    const m = this.misses.get(pid);
    if (m !== undefined) {
      if (m.readTick === this.tick) {
        // The same pid on another GPU in the same tick: the same answer, nothing changed since.
        if (gpu !== undefined) m.gpus.add(gpu);
        return m.who;
      }
      let again = gpu !== undefined && !m.gpus.has(gpu);
      if (!again && m.seenTick !== this.tick) {
        m.seenTick = this.tick;
        again = this.now() - m.at >= this.retryMs || this.exists(m.dir);
      }
      if (!again) return m.who;
      this.misses.delete(pid);
    }
    this.reads++;
    const who = this.inner(pid);
    if (unresolved(who)) {
      const gpus = new Set<string>();
      if (gpu !== undefined) gpus.add(gpu);
      // A pid seen again after a retry keeps the GPUs it was listed on (its view did not change).
      if (m !== undefined) for (const g of m.gpus) gpus.add(g);
      this.misses.set(pid, { who, gpus, at: this.now(), readTick: this.tick, seenTick: this.tick, dir: m?.dir ?? `${this.opts.procRoot}/${pid}` });
    }
    return who;
  };

  /** Ends a tick: pids NVML did not list during it are forgotten. */
  endTick(): void {
    for (const [pid, m] of this.misses) if (m.seenTick !== this.tick) this.misses.delete(pid);
    this.tick++;
  }

  /** Pids remembered as unresolved (tests). */
  get size(): number {
    return this.misses.size;
  }
}

/**
 * A lookup that found nothing in /proc: no name, not known alive, no start time. A process the reader
 * knew and that has gone keeps its name (the orphan rule names it) and is left to the reader's own cache.
 */
function unresolved(who: ProcessAttribution): boolean {
  return who.name === null && (who.alive ?? null) !== true && (who.startTime ?? null) === null;
}
