// Folded GPU events: one entry per (GPU, code) with a count and first/last seen times, so a storm of
// Xids costs one entry and one series, not one per event. Bounded per GPU.

import type { NvmlEventKind } from './nvml-events-protocol';

/** Most distinct codes kept per GPU; further codes fold into `other`. */
export const XID_CODES_PER_GPU_MAX = 64;

/** One folded code on one GPU. */
export interface XidEntry {
  /** Series key (`45`, `dbe`, `unavailable`, `recovery`, `other`). */
  key: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
  /** Last Xid code or recovery action value. */
  lastCode: number;
}

/** Series key of an event. */
export function xidKey(kind: NvmlEventKind, code: number): string {
  return kind === 'xid' ? String(code) : kind;
}

/** Folded events per GPU (by PCI bus id). */
export class XidStore {
  private readonly byGpu = new Map<string, Map<string, XidEntry>>();

  /** Adds `count` events of one key on one GPU. */
  record(busId: string, key: string, code: number, count: number, lastSeen: number): void {
    let m = this.byGpu.get(busId);
    if (!m) this.byGpu.set(busId, (m = new Map()));
    let k = key;
    if (!m.has(k) && m.size >= XID_CODES_PER_GPU_MAX) k = 'other';
    const e = m.get(k);
    if (e) {
      e.count += count;
      e.lastSeen = Math.max(e.lastSeen, lastSeen);
      e.lastCode = code;
    } else m.set(k, { key: k, count, firstSeen: lastSeen, lastSeen, lastCode: code });
  }

  /** Every folded entry of a GPU (empty when none). */
  entries(busId: string): XidEntry[] {
    const m = this.byGpu.get(busId);
    return m ? [...m.values()] : [];
  }

  /** Entries seen within `holdMs` of `now`. */
  active(busId: string, now: number, holdMs: number): XidEntry[] {
    return this.entries(busId).filter((e) => now - e.lastSeen < holdMs);
  }
}
