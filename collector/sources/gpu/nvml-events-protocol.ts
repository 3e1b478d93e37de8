// Messages between the GPU source and its NVML event thread (nvml-events-worker.ts).

/** Registered worker kind of the NVML event thread. */
export const NVML_EVENTS_WORKER_KIND = 'gpu-nvml-events';

/** What an event was: an Xid, a double-bit ECC error, the GPU becoming unavailable, or a recovery action. */
export type NvmlEventKind = 'xid' | 'dbe' | 'unavailable' | 'recovery';

/** What the event thread is started with. */
export interface NvmlEventsWorkerData {
  libPath: string;
  /** Timeout of each nvmlEventSetWait_v2 call: the longest a stop request waits, in ms. */
  waitTimeoutMs: number;
  /** Int32 stop flag (1 = stop), checked after every wait. */
  stop: SharedArrayBuffer;
}

/** Events of one (device, kind, code) folded over one burst. */
export interface NvmlFoldedEvent {
  /** Device position in NVML enumeration order. */
  device: number;
  kind: NvmlEventKind;
  /** Xid code; the recovery action for `recovery`; 0 otherwise. */
  code: number;
  count: number;
  /** Wall-clock ms of the last event in the burst. */
  lastSeen: number;
}

/** Event thread → main. */
export type NvmlEventsReply =
  | { type: 'registered'; reasons: (string | null)[]; threadCpuNs: number | null }
  | { type: 'unavailable'; reason: string }
  | { type: 'events'; events: NvmlFoldedEvent[] }
  | { type: 'wait-error'; message: string; lost: boolean }
  | { type: 'stopped'; threadCpuNs: number | null };
