// Main-thread side of the NVML path: starts the worker, sends one request per tick and guards every
// request with a watchdog. A request that does not answer in time means a driver call hung: the worker
// is terminated and the caller gets a SourceError, so the tick loop marks the source down and re-probes.

import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../workers';
import { SourceError } from '../../source';
import type { Logger } from '../../log';
import { GPU_METRICS, emptyMetrics, type DeviceReading, type GpuReading, type ProcessReading } from './reading';
import {
  NVML_THROTTLE_OFFSET,
  NVML_VALUES_PER_DEVICE,
  NVML_WORKER_KIND,
  type NvmlReply,
  type NvmlRequest,
  type NvmlStaticInfo,
  type NvmlWorkerData,
} from './nvml-protocol';
import './nvml-worker';

let stuckWorkers = 0;

/**
 * NVML worker threads that were stopped while a driver call was still running and have not exited.
 * Node joins every worker thread when the process exits, so while this is > 0, `process.exit()` blocks;
 * a shutdown path should then end the process with SIGKILL after flushing its state.
 */
export function stuckNvmlWorkers(): number {
  return stuckWorkers;
}

/** Outcome of opening NVML. */
export type NvmlOpenResult =
  | { ok: true; backend: NvmlBackend }
  | { ok: false; stage: Extract<NvmlReply, { type: 'init-error' }>['stage'] | 'timeout' | 'crash'; message: string };

/** Options of the NVML backend. */
export interface NvmlOptions {
  libPath: string;
  /** How long nvmlInit_v2 + device enumeration may take (slow without persistence mode). */
  initTimeoutMs: number;
  /** Watchdog for one tick's batch of calls. */
  callTimeoutMs: number;
  log: Logger;
}

/** Reads GPUs through NVML in a worker thread. */
export class NvmlBackend {
  private nextId = 1;
  private pending: { id: number; resolve: (r: Extract<NvmlReply, { type: 'sample' }>) => void; reject: (e: Error) => void } | null = null;
  private dead: string | null = null;
  private inflight: Promise<unknown> | null = null;
  private counted = false;

  private constructor(
    private readonly worker: Worker,
    /** Static facts read once at start. */
    readonly info: NvmlStaticInfo,
    private readonly opts: NvmlOptions,
  ) {
    worker.on('message', (m: NvmlReply) => this.onMessage(m));
    worker.on('error', (e) => this.die(`NVML worker crashed: ${e.message}`));
    worker.on('exit', (code) => this.die(`NVML worker exited (code ${code})`));
  }

  /** Starts a worker, loads the library and enumerates devices; never throws. */
  static open(opts: NvmlOptions): Promise<NvmlOpenResult> {
    const data: NvmlWorkerData = { libPath: opts.libPath };
    let worker: Worker;
    try {
      worker = startWorker(NVML_WORKER_KIND, data);
    } catch (e) {
      return Promise.resolve({ ok: false, stage: 'crash', message: `could not start the NVML worker: ${(e as Error).message}` });
    }
    worker.unref();
    return new Promise<NvmlOpenResult>((resolve) => {
      let settled = false;
      const settle = (r: NvmlOpenResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        worker.removeListener('message', onMessage);
        worker.removeListener('error', onError);
        worker.removeListener('exit', onExit);
        if (!r.ok && r.stage === 'timeout') {
          stuckWorkers++;
          worker.once('exit', () => stuckWorkers--);
        }
        if (!r.ok) void worker.terminate();
        resolve(r);
      };
      const timer = setTimeout(
        () => settle({ ok: false, stage: 'timeout', message: `NVML did not initialise within ${opts.initTimeoutMs} ms (hung driver?)` }),
        opts.initTimeoutMs,
      );
      const onMessage = (m: NvmlReply): void => {
        if (m.type === 'warn') opts.log.warnOnce(`nvml:${m.key}`, m.message);
        else if (m.type === 'init-error') settle({ ok: false, stage: m.stage, message: m.message });
        else if (m.type === 'ready') settle({ ok: true, backend: new NvmlBackend(worker, m.info, opts) });
      };
      const onError = (e: Error): void => settle({ ok: false, stage: 'crash', message: `NVML worker crashed: ${e.message}` });
      const onExit = (code: number): void => settle({ ok: false, stage: 'crash', message: `NVML worker exited (code ${code}) before it was ready` });
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
  }

  /** True while the worker is usable. */
  get alive(): boolean {
    return this.dead === null;
  }

  /**
   * Reads every device once. The batch runs under the watchdog (`callTimeoutMs`): when it fires, the
   * worker is terminated and this and every later call throw SourceError. An abort (the tick loop's
   * sample timeout) only stops waiting: the batch keeps running under its watchdog and the next read
   * waits for it first, so a slow-but-alive driver does not cost a worker restart.
   */
  async read(signal: AbortSignal): Promise<GpuReading> {
    if (this.inflight) await raceAbort(this.inflight.catch(() => undefined), signal);
    if (this.dead !== null) throw new SourceError(this.dead);
    const id = this.nextId++;
    const batch = new Promise<Extract<NvmlReply, { type: 'sample' }>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = null;
        this.terminate(`an NVML call did not return within ${this.opts.callTimeoutMs} ms (hung driver?); worker stopped`);
        reject(new SourceError(this.dead ?? 'NVML hung'));
      }, this.opts.callTimeoutMs);
      this.pending = {
        id,
        resolve: (m) => {
          clearTimeout(timer);
          this.pending = null;
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          this.pending = null;
          reject(e);
        },
      };
      this.post({ type: 'sample', id });
    });
    this.inflight = batch;
    void batch.then(
      () => this.clearInflight(batch),
      () => this.clearInflight(batch),
    );
    const m = await raceAbort(batch, signal);
    return this.toReading(m);
  }

  private clearInflight(p: Promise<unknown>): void {
    if (this.inflight === p) this.inflight = null;
  }

  /** Stops the worker (asking it to call nvmlShutdown first when it is idle). Idempotent. */
  close(): void {
    if (this.dead !== null) return;
    if (!this.inflight) this.post({ type: 'close' });
    this.terminate('NVML backend closed');
  }

  private post(m: NvmlRequest): void {
    this.worker.postMessage(m);
  }

  private terminate(reason: string): void {
    if (this.dead === null) this.dead = reason;
    // Not awaited: a thread stuck inside a driver call only stops when the call returns.
    const w = this.worker;
    if (this.inflight && !this.counted) {
      // Counted until the thread really exits: Node joins worker threads at exit, so a thread stuck
      // in the driver blocks process.exit() — the CLI checks stuckNvmlWorkers() and exits hard.
      this.counted = true;
      stuckWorkers++;
      w.once('exit', () => stuckWorkers--);
    }
    setImmediate(() => void w.terminate().catch(() => undefined));
  }

  private die(reason: string): void {
    if (this.dead === null) this.dead = reason;
    const p = this.pending;
    if (p) p.reject(new SourceError(reason));
  }

  private onMessage(m: NvmlReply): void {
    if (m.type === 'warn') this.opts.log.warnOnce(`nvml:${m.key}`, m.message);
    else if (m.type === 'sample' && this.pending?.id === m.id) this.pending.resolve(m);
    else if (m.type === 'error' && this.pending?.id === m.id) this.pending.reject(new SourceError(`NVML read failed: ${m.message}`));
  }

  private toReading(m: Extract<NvmlReply, { type: 'sample' }>): GpuReading {
    const devices: DeviceReading[] = this.info.devices.map((s, d) => {
      const base = d * NVML_VALUES_PER_DEVICE;
      const metrics = emptyMetrics();
      GPU_METRICS.forEach((name, i) => {
        const v = m.values[base + i];
        metrics[name] = Number.isNaN(v) ? null : v;
      });
      const mask = m.values[base + NVML_THROTTLE_OFFSET];
      return {
        name: s.name,
        uuid: s.uuid,
        pciBusId: s.pciBusId,
        computeCapability: s.computeCapability,
        migMode: s.migMode,
        throttleMask: Number.isNaN(mask) ? null : mask,
        metrics,
        notes: m.notes[d] ?? [],
      };
    });
    const byPid = new Map<string, ProcessReading>();
    for (const [dev, pid, used, sm, type] of m.processes) {
      const busId = this.info.devices[dev]?.pciBusId;
      if (busId === undefined) continue;
      const key = `${dev}:${pid}`;
      const prev = byPid.get(key);
      // A process in both lists (C+G) is shown once, as compute.
      if (prev) {
        if (prev.usedMemoryBytes === null) prev.usedMemoryBytes = used;
        continue;
      }
      byPid.set(key, { pciBusId: busId, pid, usedMemoryBytes: used, smUtilRatio: sm === null ? null : sm / 100, type: type === 0 ? 'compute' : 'graphics' });
    }
    return {
      backend: 'nvml',
      driverVersion: this.info.driverVersion,
      cudaVersion: this.info.cudaVersion,
      devices,
      processes: [...byPid.values()],
    };
  }
}

/** Waits for `p`, rejecting with a SourceError when `signal` aborts first. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new SourceError('sample aborted while NVML was still reading'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new SourceError('sample aborted while NVML was still reading'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
