// Main-thread side of the NVML path: starts the worker, sends one request per tick and guards every
// request with a watchdog. A request that does not answer in time means a driver call hung: the worker
// is terminated and the caller gets a SourceError, so the tick loop marks the source down and re-probes.

import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../workers';
import { SourceError } from '../../source';
import type { Logger } from '../../log';
import { nvmlLibraryMayLoad } from './koffi-load';
import { GPU_METRICS, METRIC_INDEX, type DeviceReading, type GpuReading, type ProcessReading } from './reading';
import type { GpuMigInstance } from '../../../protocol/details/gpu';
import {
  CTRL_DONE,
  CTRL_NPROCS,
  CTRL_REQ,
  CTRL_STATUS,
  MIG_DEVICES_MAX,
  MIG_VALUES_PER_DEVICE,
  NVLINK_VALUES_PER_LINK,
  NVML_MIG_OFFSET,
  NVML_NOTES_OFFSET,
  NVML_NVLINK_OFFSET,
  NVML_NOTE_LOST,
  NVML_NOTE_MIG,
  NVML_NOTE_NO_ENERGY,
  NVML_NOTE_NO_GPM,
  NVML_NOTE_NO_MEMORY_HEALTH,
  NVML_NOTE_NO_VIOLATION,
  NVML_NOTE_MIG_GPM,
  NVML_NOTE_NO_NVLINK_THROUGHPUT,
  NVML_NOTE_NVLINK_RAW,
  NVML_PROCESS_ROW,
  NVML_THROTTLE_OFFSET,
  NVML_VALUES_PER_DEVICE,
  NVML_WORKER_KIND,
  sharedBytes,
  sharedViews,
  type NvmlReply,
  type NvmlRequest,
  type NvmlStaticInfo,
  type NvmlWorkerData,
} from './nvml-protocol';
import './nvml-worker';

/** Atomics.waitAsync (Node ≥ 16; not in the ES2022 lib typings this project compiles against). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      ta: Int32Array,
      index: number,
      value: number,
      timeoutMs: number,
    ): { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
  }
).waitAsync;

const UTIL_NOTE_MIG = 'utilisation not available under MIG';
/** What MIG changes, said once on the parent GPU (with the instances in `mig`); with GPM, SM activity is per instance. */
const MIG_PER_INSTANCE = ['VRAM'];
const MIG_PER_INSTANCE_GPM = ['VRAM', 'SM activity'];
const MIG_NOT_AVAILABLE = ['utilisation', 'per-process utilisation', 'GPM', 'row remapping'];
const MIG_NOT_AVAILABLE_GPM = ['utilisation', 'per-process utilisation', 'row remapping'];
const migNote = (perInstance: string[], notAvailable: string[]): string =>
  `MIG enabled: ${perInstance.join(', ')} per instance (the GPU's own VRAM is the whole board); not available under MIG: ${notAvailable.join(', ')}`;
const MIG_NOTE = migNote(MIG_PER_INSTANCE, MIG_NOT_AVAILABLE);
const MIG_NOTE_GPM = migNote(MIG_PER_INSTANCE_GPM, MIG_NOT_AVAILABLE_GPM);
const MIG_SM_UNAVAILABLE = 'per-instance SM activity needs GPM (Hopper and later)';
const NVLINK_THROUGHPUT_UNAVAILABLE =
  'NVLink throughput counters not supported (nvmlDeviceGetFieldValues NVML_FI_DEV_NVLINK_THROUGHPUT_DATA/RAW); per-link rates are null';
const NVLINK_RAW_NOTE = 'NVLink throughput from the RAW counters (data + protocol overhead; the DATA counters are not supported)';
const GPU_LOST_NOTE = 'GPU is lost (fell off the bus?); values are null until it is reset';

const NO_MEMORY_HEALTH_NOTE = 'row remapping and retired pages not reported (not supported on this GPU or under MIG)';
const NO_ENERGY_NOTE = 'energy counter not reported; energy is null';
const NO_VIOLATION_NOTE = 'throttle time counters not supported; slowdown shares come from sampled clock-event reasons';

const NO_GPM_NOTE = 'GPM not supported (Hopper and later); SM activity, occupancy, tensor and DRAM shares are null';

/** Default cadence of the MIG instance look-up, ms (instances are created and destroyed by an administrator). */
export const DEFAULT_MIG_DISCOVERY_MS = 10_000;

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
  { ok: true; backend: NvmlBackend } | { ok: false; stage: Extract<NvmlReply, { type: 'init-error' }>['stage'] | 'timeout' | 'crash'; message: string };

/** Options of the NVML backend. */
export interface NvmlOptions {
  libPath: string;
  /** How often MIG instances are looked up again, ms (default DEFAULT_MIG_DISCOVERY_MS). */
  migDiscoveryIntervalMs?: number;
  /** How long nvmlInit_v2 + device enumeration may take (slow without persistence mode). */
  initTimeoutMs: number;
  /** Watchdog for one tick's batch of calls. */
  callTimeoutMs: number;
  log: Logger;
}

/** Reads GPUs through NVML in a worker thread. */
export class NvmlBackend {
  private nextId = 1;
  private dead: string | null = null;
  private inflight: Promise<unknown> | null = null;
  private counted = false;
  private readonly ctrl: Int32Array;
  private readonly values: Float64Array;
  private readonly procs: Float64Array;

  private constructor(
    private readonly worker: Worker,
    /** Static facts read once at start. */
    readonly info: NvmlStaticInfo,
    private readonly opts: NvmlOptions,
  ) {
    const buffer = new SharedArrayBuffer(sharedBytes(info.devices.length));
    ({ ctrl: this.ctrl, values: this.values, procs: this.procs } = sharedViews(buffer, info.devices.length));
    worker.on('message', (m: NvmlReply) => this.onMessage(m));
    worker.on('error', (e) => this.die(`NVML worker crashed: ${e.message}`));
    worker.on('exit', (code) => this.die(`NVML worker exited (code ${code})`));
    this.post({ type: 'shared', buffer });
  }

  /** Starts a worker, loads the library and enumerates devices; never throws. */
  static open(opts: NvmlOptions): Promise<NvmlOpenResult> {
    // No library, no worker: a worker thread costs ~10 MB and the probe repeats every minute.
    if (!nvmlLibraryMayLoad(opts.libPath, process.env)) return Promise.resolve({ ok: false, stage: 'load', message: `${opts.libPath} not found` });
    const data: NvmlWorkerData = { libPath: opts.libPath, migDiscoveryIntervalMs: opts.migDiscoveryIntervalMs ?? DEFAULT_MIG_DISCOVERY_MS };
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
    if (this.inflight)
      await raceAbort(
        this.inflight.catch(() => undefined),
        signal,
      );
    if (this.dead !== null) throw new SourceError(this.dead);
    const id = this.nextId++;
    // Request through shared memory; the worker blocks in Atomics.wait between batches.
    Atomics.store(this.ctrl, CTRL_REQ, id);
    Atomics.notify(this.ctrl, CTRL_REQ);
    const batch = this.waitDone(id);
    this.inflight = batch;
    void batch.then(
      () => this.clearInflight(batch),
      () => this.clearInflight(batch),
    );
    await raceAbort(batch, signal);
    return this.toReading();
  }

  private async waitDone(id: number): Promise<void> {
    const w = waitAsync(this.ctrl, CTRL_DONE, id - 1, this.opts.callTimeoutMs);
    const outcome = w.async ? await w.value : w.value;
    if (this.dead !== null) throw new SourceError(this.dead);
    if (outcome === 'timed-out' && Atomics.load(this.ctrl, CTRL_DONE) !== id) {
      this.terminate(`an NVML call did not return within ${this.opts.callTimeoutMs} ms (hung driver?); worker stopped`, true);
      throw new SourceError(this.dead ?? 'NVML hung');
    }
    if (Atomics.load(this.ctrl, CTRL_STATUS) !== 0) throw new SourceError('NVML read failed (see the collector log)');
  }

  private clearInflight(p: Promise<unknown>): void {
    if (this.inflight === p) this.inflight = null;
  }

  /** Stops the worker (it calls nvmlShutdown first when it is idle). Idempotent. */
  close(): void {
    if (this.dead !== null) return;
    if (!this.inflight) {
      Atomics.store(this.ctrl, CTRL_REQ, -1);
      Atomics.notify(this.ctrl, CTRL_REQ);
    }
    this.terminate('NVML backend closed');
  }

  private post(m: NvmlRequest): void {
    this.worker.postMessage(m);
  }

  private terminate(reason: string, hung = false): void {
    if (this.dead === null) this.dead = reason;
    const w = this.worker;
    if (hung && !this.counted) {
      // Counted until the thread really exits: Node joins worker threads at exit, so a thread stuck
      // in the driver blocks process.exit() — the CLI checks stuckNvmlWorkers() and exits hard.
      this.counted = true;
      stuckWorkers++;
      w.once('exit', () => stuckWorkers--);
    }
    // Not awaited: a thread stuck inside a driver call only stops when the call returns.
    setImmediate(() => void w.terminate().catch(() => undefined));
  }

  private die(reason: string): void {
    if (this.dead === null) this.dead = reason;
    // Wake a waiting read so it sees `dead` instead of waiting for its timeout.
    Atomics.notify(this.ctrl, CTRL_DONE);
  }

  private onMessage(m: NvmlReply): void {
    if (m.type === 'warn') this.opts.log.warnOnce(`nvml:${m.key}`, m.message);
    else if (m.type === 'error') this.opts.log.warn(`NVML read failed: ${m.message}`);
  }

  private toReading(): GpuReading {
    // Views of the shared buffer, not copies: the next batch starts only when the next read() is
    // called, after GpuSource.sample() has turned this reading into series (synchronously).
    const all = this.values;
    const devices: DeviceReading[] = this.info.devices.map((s, d) => {
      const base = d * NVML_VALUES_PER_DEVICE;
      const mask = all[base + NVML_THROTTLE_OFFSET];
      const flags = all[base + NVML_NOTES_OFFSET];
      const notes: string[] = [];
      const migGpm = (flags & NVML_NOTE_MIG_GPM) !== 0;
      if (flags & NVML_NOTE_MIG) notes.push(UTIL_NOTE_MIG, migGpm ? MIG_NOTE_GPM : MIG_NOTE);
      if (flags & NVML_NOTE_NVLINK_RAW) notes.push(NVLINK_RAW_NOTE);
      if (flags & NVML_NOTE_LOST) notes.push(GPU_LOST_NOTE);
      if (flags & NVML_NOTE_NO_MEMORY_HEALTH) notes.push(NO_MEMORY_HEALTH_NOTE);
      if (flags & NVML_NOTE_NO_ENERGY) notes.push(NO_ENERGY_NOTE);
      if (flags & NVML_NOTE_NO_VIOLATION) notes.push(NO_VIOLATION_NOTE);
      if (flags & NVML_NOTE_NO_GPM) notes.push(NO_GPM_NOTE);
      const reading: DeviceReading = {
        name: s.name,
        uuid: s.uuid,
        pciBusId: s.pciBusId,
        computeCapability: s.computeCapability,
        migMode: s.migMode,
        throttleMask: Number.isNaN(mask) ? null : mask,
        // Zero-copy view of this device's metrics (NaN = null), read by buildSample.
        metrics: all.subarray(base, base + GPU_METRICS.length),
        notes,
      };
      const num = (x: number): number | null => (Number.isNaN(x) ? null : x);
      if (s.nvLinks.length > 0) {
        const noThroughput = (flags & NVML_NOTE_NO_NVLINK_THROUGHPUT) !== 0;
        reading.nvlink = {
          links: s.nvLinks.map((link, k) => {
            const o = base + NVML_NVLINK_OFFSET + k * NVLINK_VALUES_PER_LINK;
            return {
              link,
              active: Number.isNaN(all[o]) ? null : all[o] === 1,
              crcErrors: num(all[o + 1]),
              replayErrors: num(all[o + 2]),
              recoveryErrors: num(all[o + 3]),
              rxBytesPerSecond: num(all[o + 4]),
              txBytesPerSecond: num(all[o + 5]),
            };
          }),
        };
        if (noThroughput) {
          reading.nvlink.throughputUnavailable = NVLINK_THROUGHPUT_UNAVAILABLE;
          const unavailable: Record<string, string> = {};
          for (const m of ['nvlink_rx_bytes_per_second', 'nvlink_tx_bytes_per_second'] as const)
            if (Number.isNaN(all[base + METRIC_INDEX[m]])) unavailable[m] = NVLINK_THROUGHPUT_UNAVAILABLE;
          if (Object.keys(unavailable).length > 0) reading.unavailable = unavailable;
        } else reading.nvlink.throughputCounters = flags & NVML_NOTE_NVLINK_RAW ? 'raw' : 'data';
      }
      if (s.migMode) {
        const instances: GpuMigInstance[] = [];
        for (let k = 0; k < MIG_DEVICES_MAX; k++) {
          const o = base + NVML_MIG_OFFSET + k * MIG_VALUES_PER_DEVICE;
          if (Number.isNaN(all[o])) break;
          instances.push({
            gpuInstanceId: all[o] < 0 ? null : all[o],
            computeInstanceId: all[o + 1] < 0 ? null : all[o + 1],
            memoryTotalBytes: num(all[o + 2]),
            memoryUsedBytes: num(all[o + 3]),
            smActivityRatio: num(all[o + 4]),
          });
        }
        reading.mig = {
          instances,
          perInstance: migGpm ? MIG_PER_INSTANCE_GPM : MIG_PER_INSTANCE,
          notAvailable: migGpm ? MIG_NOT_AVAILABLE_GPM : MIG_NOT_AVAILABLE,
        };
        if (!migGpm) reading.mig.smActivityUnavailable = MIG_SM_UNAVAILABLE;
      }
      return reading;
    });
    // Keyed by device and pid as one number (pids < 2^22 on Linux): no string keys per tick.
    const byPid = new Map<number, ProcessReading>();
    const n = Atomics.load(this.ctrl, CTRL_NPROCS);
    const p = this.procs;
    for (let i = 0; i < n; i++) {
      const o = i * NVML_PROCESS_ROW;
      const dev = p[o];
      const pid = p[o + 1];
      const used = Number.isNaN(p[o + 2]) ? null : p[o + 2];
      const sm = Number.isNaN(p[o + 3]) ? null : p[o + 3];
      const busId = this.info.devices[dev]?.pciBusId;
      if (busId === undefined) continue;
      const key = dev * 4194304 + pid;
      const prev = byPid.get(key);
      // A process in both lists (C+G) is shown once, as compute.
      if (prev) {
        if (prev.usedMemoryBytes === null) prev.usedMemoryBytes = used;
        continue;
      }
      const pct = (x: number): number | null => (Number.isNaN(x) ? null : x / 100);
      byPid.set(key, {
        pciBusId: busId,
        pid,
        usedMemoryBytes: used,
        smUtilRatio: sm === null ? null : sm / 100,
        type: p[o + 4] === 0 ? 'compute' : 'graphics',
        memUtilRatio: pct(p[o + 5]),
        encoderUtilRatio: pct(p[o + 6]),
        decoderUtilRatio: pct(p[o + 7]),
        gpuInstanceId: Number.isNaN(p[o + 8]) ? null : p[o + 8],
      });
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
