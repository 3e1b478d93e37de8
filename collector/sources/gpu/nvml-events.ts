// Main-thread side of the NVML event thread: starts it, passes folded events on, and stops it through a
// shared flag (it exits after its current wait, at most one wait timeout later).

import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../workers';
import type { Logger } from '../../log';
import { NVML_EVENTS_WORKER_KIND, type NvmlEventsReply, type NvmlEventsWorkerData, type NvmlFoldedEvent } from './nvml-events-protocol';
import './nvml-events-worker';

/** Timeout of one nvmlEventSetWait_v2 call, in ms: the longest shutdown waits for the event thread. */
export const EVENT_WAIT_TIMEOUT_MS = 1000;

/** Callbacks of the event thread. */
export interface NvmlEventsHandlers {
  /** Per device (NVML order): null when events are registered, else why not. */
  registered(reasons: (string | null)[]): void;
  /** Events could not be set up at all. */
  unavailable(reason: string): void;
  events(events: NvmlFoldedEvent[]): void;
}

/** The running event thread. */
export class NvmlEventThread {
  private readonly stop = new SharedArrayBuffer(4);
  private readonly worker: Worker;
  private readonly exited: Promise<number | null>;
  private cpuNs: number | null = null;
  private registeredCpuNs: number | null = null;
  private closed = false;

  constructor(libPath: string, handlers: NvmlEventsHandlers, log: Logger, waitTimeoutMs = EVENT_WAIT_TIMEOUT_MS) {
    const data: NvmlEventsWorkerData = { libPath, waitTimeoutMs, stop: this.stop };
    this.worker = startWorker(NVML_EVENTS_WORKER_KIND, data);
    this.worker.unref();
    this.worker.on('message', (m: NvmlEventsReply) => {
      if (m.type === 'registered') {
        this.registeredCpuNs = m.threadCpuNs;
        handlers.registered(m.reasons);
      } else if (m.type === 'unavailable') handlers.unavailable(m.reason);
      else if (m.type === 'events') handlers.events(m.events);
      else if (m.type === 'wait-error') log.warnOnce(`nvml-events:${m.message}`, `GPU event thread: ${m.message}`);
      else if (m.type === 'stopped') {
        this.cpuNs = m.threadCpuNs !== null && this.registeredCpuNs !== null ? m.threadCpuNs - this.registeredCpuNs : null;
      }
    });
    this.worker.on('error', (e) => {
      log.warn(`GPU event thread crashed: ${e.message}`);
      handlers.unavailable(`event thread crashed: ${e.message}`);
    });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve(this.cpuNs)));
  }

  /**
   * Asks the thread to stop and resolves when it has exited, with the CPU time it used after
   * registering its events (ns, where readable; start-up excluded). Idempotent.
   */
  close(): Promise<number | null> {
    if (!this.closed) {
      this.closed = true;
      const flag = new Int32Array(this.stop);
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      // Keep the process alive until the thread has exited (it is unref'd while running).
      this.worker.ref();
    }
    return this.exited;
  }
}
