// The tick loop: probes sources, samples them concurrently each under its own timeout, re-probes
// unavailable/down ones with backoff, and assembles one SampleMessage per interval that feeds
// history, alerts and CSV before listeners (the server) see it.

import { EventEmitter } from 'node:events';
import type { AlertEvent, SampleMessage, SeriesMap, SourceDetails, SourceStatus } from '../protocol';
import { seriesName } from '../protocol';
import { Backoff, type BackoffOptions } from '../client/backoff';
import type { AlertEngine, CsvLogger, HistoryStore } from './contracts';
import type { Logger } from './log';
import type { SampleResult, Source } from './source';
import { SourceError } from './source';

/** First re-probe delay after a failure, in ms. */
export const PROBE_BACKOFF_MIN_MS = 1000;
/** Longest re-probe delay, in ms. */
export const PROBE_BACKOFF_MAX_MS = 60_000;
/** Re-probe backoff of a failing source: 1 s, 2 s, 4 s … 60 s, no jitter (one collector, no herd). */
export const PROBE_BACKOFF: BackoffOptions = { initialMs: PROBE_BACKOFF_MIN_MS, maxMs: PROBE_BACKOFF_MAX_MS, factor: 2, jitter: 0 };
/** Re-probe delay for sources that said "absent, retry" (e.g. no GPU), in ms. */
export const ABSENT_RETRY_MS = 60_000;
/** Default per-sample timeout when a source does not set one, in ms. */
export const DEFAULT_SAMPLE_TIMEOUT_MS = 5000;
/** Probe timeout, in ms. */
export const PROBE_TIMEOUT_MS = 10_000;
/** How often history and alert state are written to disk, in ms. */
export const FLUSH_INTERVAL_MS = 10_000;
/** Default for `limits.maxSeriesPerSource`: series one source may add to a sample; the rest are dropped. */
export const DEFAULT_MAX_SERIES_PER_SOURCE = 10_000;
/** A change of the wall clock against the monotonic one beyond this (and beyond one interval) is a step, in ms. */
export const CLOCK_STEP_TOLERANCE_MS = 2000;

interface Slot {
  source: Source;
  status: SourceStatus;
  /** The in-flight sample or probe; a source never has two at once. */
  busy: Promise<unknown> | null;
  backoff: Backoff;
  /** When to probe again, on the monotonic clock (status.nextProbe is the wall-clock copy for display). */
  probeAtMono?: number;
  details?: SourceDetails;
  /** Whether a "probe again" may ever happen (false after e.g. bad credentials). */
  retry: boolean;
  /** Whether the "over the series cap" warning was logged (once per source). */
  capWarned?: boolean;
  /** A sample that finished after its tick's deadline: it is delivered with the next tick. */
  late?: { result: SampleResult; durationS: number };
}

/** Things the collector feeds each tick into. */
export interface CollectorDeps {
  history: HistoryStore;
  alerts?: AlertEngine;
  csv?: CsvLogger;
  log: Logger;
  /** Wall clock in epoch ms, for timestamps only (tests may replace it). */
  now?: () => number;
  /** Monotonic clock in ms, for scheduling (default performance.now, or `now` when only that is given). */
  monoNow?: () => number;
  /** Series one source may add to a sample (config `limits.maxSeriesPerSource`; DEFAULT_MAX_SERIES_PER_SOURCE). */
  maxSeriesPerSource?: number;
}

/** An action request named a source or action that does not exist (HTTP 404, not 503). */
export class ActionNotFoundError extends Error {}

/** Events: `sample` (SampleMessage), `status` (SourceStatus[]), `alert` (AlertEvent[]). */
export class Collector extends EventEmitter {
  private readonly slots: Slot[];
  private readonly now: () => number;
  private readonly mono: () => number;
  /** Wall minus monotonic at the last tick: a jump in it is a wall-clock step. */
  private clockOffset: number | undefined;
  private timer: NodeJS.Timeout | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private running = false;
  private ticking = false;
  private nextTickAt = 0;
  private latestSample: SampleMessage | undefined;
  /** This tick's series notes from the sources (`{subject}` in alert messages). */
  private readonly notes = new Map<string, string>();
  private pseudo = new Map<string, SourceStatus>();
  /** Whether the found / not found lines of the first probe round were logged. */
  private announced = false;

  constructor(
    sources: Source[],
    readonly intervalMs: number,
    private readonly deps: CollectorDeps,
  ) {
    super();
    this.now = deps.now ?? Date.now;
    // A test that drives only the wall clock schedules on it too (its clock never steps).
    this.mono = deps.monoNow ?? deps.now ?? (() => performance.now());
    this.slots = sources.map((source) => ({
      source,
      status: { id: source.id, kind: source.kind, state: 'probing' },
      busy: null,
      backoff: new Backoff(PROBE_BACKOFF),
      retry: true,
    }));
  }

  /** The latest assembled sample, if any. */
  latest(): SampleMessage | undefined {
    return this.latestSample;
  }

  /** Status of every source plus collector-internal parts (history, csv) when they have a problem. */
  statuses(): SourceStatus[] {
    return [...this.slots.map((s) => ({ ...s.status })), ...this.pseudo.values()];
  }

  /** Starts probing and ticking. */
  start(): void {
    if (this.running) return;
    this.running = true;
    for (const slot of this.slots) this.probe(slot);
    this.nextTickAt = this.mono() + this.intervalMs;
    this.schedule();
    this.flushTimer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.flushTimer.unref();
  }

  /** Runs a source action (e.g. the GPU report) with a timeout. */
  async action(sourceId: string, action: string, args: Record<string, string>, timeoutMs = 30_000): Promise<unknown> {
    const slot = this.slots.find((s) => s.source.id === sourceId);
    if (!slot) throw new ActionNotFoundError(`no source "${sourceId}" (have: ${this.slots.map((s) => s.source.id).join(', ') || 'none'})`);
    // Own properties only: `constructor` or `__proto__` must not reach Object.prototype.
    const actions = slot.source.actions;
    const fn = actions && Object.hasOwn(actions, action) ? actions[action] : undefined;
    if (typeof fn !== 'function') throw new ActionNotFoundError(`source "${sourceId}" has no action "${action}"`);
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new Error(`action ${sourceId}/${action} timed out after ${timeoutMs} ms`)), timeoutMs);
    try {
      return await withAbort(fn(args, ac.signal), ac.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops ticking, flushes, and closes every source. Idempotent. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.timer = this.flushTimer = null;
    await this.flush();
    await Promise.all(
      this.slots.map(async (s) => {
        try {
          await s.source.close();
        } catch (e) {
          this.deps.log.warn(`closing ${s.source.id}: ${(e as Error).message}`);
        }
      }),
    );
    await this.deps.csv?.close();
  }

  /** Writes history and alert state; a failure is reported as a `history` status, memory stays intact. */
  async flush(): Promise<void> {
    try {
      await this.deps.history.flush();
      this.setPseudo('history', null);
    } catch (e) {
      this.setPseudo('history', `${(e as Error).message}; keeping history in memory`);
    }
    try {
      await this.deps.alerts?.flush();
    } catch (e) {
      this.deps.log.warn(`cannot write alert state: ${(e as Error).message}`);
    }
  }

  private setPseudo(id: string, problem: string | null): void {
    const had = this.pseudo.get(id);
    if (problem === null) {
      if (had) {
        this.pseudo.delete(id);
        this.deps.log.info(`${id}: recovered`);
        this.emit('status', this.statuses());
      }
      return;
    }
    if (had?.reason === problem) return;
    this.pseudo.set(id, { id, kind: 'collector', state: 'down', reason: problem });
    this.deps.log.warn(problem);
    this.emit('status', this.statuses());
  }

  private schedule(): void {
    if (!this.running) return;
    // Scheduling runs on the monotonic clock: a wall-clock step (NTP, a VM resumed, a user) never
    // stalls sampling or makes it burst.
    const delay = Math.max(0, this.nextTickAt - this.mono());
    this.timer = setTimeout(() => void this.tick(), delay);
  }

  private probe(slot: Slot): void {
    if (slot.busy || !this.running) return;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new Error(`probe timed out after ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
    const p = withAbort(slot.source.probe(ac.signal), ac.signal)
      .then((r) => {
        if (r.status === 'ready') {
          this.setState(slot, { state: 'ready', description: r.description, reason: undefined, nextProbe: undefined });
          slot.backoff.reset();
        } else {
          slot.retry = r.retry;
          const wait = r.retry ? ABSENT_RETRY_MS : undefined;
          slot.probeAtMono = wait === undefined ? undefined : this.mono() + wait;
          this.setState(slot, { state: 'unavailable', reason: r.reason, nextProbe: wait === undefined ? undefined : this.now() + wait });
        }
      })
      .catch((e: unknown) => {
        const err = e as Error;
        slot.retry = !(err instanceof SourceError) || err.retry;
        this.backoff(slot, `probe failed: ${err.message}`);
      })
      .finally(() => {
        clearTimeout(timer);
        slot.busy = null;
        this.announce();
      });
    slot.busy = p;
  }

  /**
   * Once every source has answered its first probe: one line naming the sources found (with what was
   * found) and one naming those not found (with why), so a start log says what is watched at a glance.
   */
  private announce(): void {
    if (this.announced || this.slots.some((s) => s.status.state === 'probing')) return;
    this.announced = true;
    const found: string[] = [];
    const missing: string[] = [];
    for (const { status } of this.slots) {
      if (status.state === 'ready') found.push(status.description ? `${status.id} (${status.description})` : status.id);
      else missing.push(status.reason ? `${status.id} (${status.reason})` : status.id);
    }
    this.deps.log.info(`found: ${found.join(', ') || 'none'}`);
    this.deps.log.info(`not found: ${missing.join(', ') || 'none'}`);
  }

  private backoff(slot: Slot, reason: string): void {
    const delayMs = slot.retry ? slot.backoff.next() : undefined;
    const nextProbe = delayMs === undefined ? undefined : this.now() + delayMs;
    slot.probeAtMono = delayMs === undefined ? undefined : this.mono() + delayMs;
    this.setState(slot, { state: 'down', reason: slot.retry ? reason : `${reason} (not retrying until the configuration changes)`, nextProbe });
  }

  private setState(slot: Slot, patch: Partial<SourceStatus>): void {
    const before = JSON.stringify([slot.status.state, slot.status.reason, slot.status.description]);
    Object.assign(slot.status, patch);
    for (const k of Object.keys(patch) as (keyof SourceStatus)[]) if (patch[k] === undefined) delete slot.status[k];
    const after = JSON.stringify([slot.status.state, slot.status.reason, slot.status.description]);
    if (before !== after) {
      const level = slot.status.state === 'down' ? 'warn' : slot.status.state === 'unavailable' ? 'debug' : 'info';
      this.deps.log[level](`${slot.source.id}: ${slot.status.state}${slot.status.reason ? ` (${slot.status.reason})` : ''}`);
      this.emit('status', this.statuses());
    }
  }

  /** One tick; public for tests that drive the loop by hand. */
  async tick(): Promise<SampleMessage | undefined> {
    if (this.ticking) return undefined;
    this.ticking = true;
    const started = performance.now();
    const t = this.now();
    const monoT = this.mono();
    this.watchClock(t, monoT);
    const series: SeriesMap = {};
    const details: Record<string, SourceDetails> = {};
    if (this.notes.size) this.notes.clear();
    try {
      const runs: Promise<void>[] = [];
      for (const slot of this.slots) {
        const st = slot.status.state;
        if (st === 'ready') {
          // A sample that missed its tick's deadline but finished since is delivered now.
          if (slot.late) {
            this.deliver(slot, slot.late.result, slot.late.durationS, series, details);
            slot.late = undefined;
          }
          // Still busy with an earlier sample (slower than the interval, but within its own timeout):
          // this tick goes without a new one rather than piling up requests.
          if (slot.busy) continue;
          runs.push(this.sampleOne(slot, series, details));
        } else {
          series[seriesName('collector', slot.source.id, 'up_state')] = 0;
          if (slot.retry && slot.probeAtMono !== undefined && slot.probeAtMono <= monoT) this.probe(slot);
          else if (st === 'probing' && !slot.busy) this.probe(slot);
        }
      }
      await Promise.all(runs);
      series['collector.tick_duration_seconds'] = (performance.now() - started) / 1000;
      const msg: SampleMessage = { type: 'sample', t, series, details };
      this.latestSample = msg;
      this.deps.history.record(t, series);
      this.deps.csv?.write(t, series);
      if (this.deps.csv?.series) Object.assign(series, this.deps.csv.series());
      const csvError = this.deps.csv?.status().error;
      this.setPseudo('csv', csvError ? `CSV logging failed: ${csvError}` : null);
      let events: AlertEvent[] = [];
      if (this.deps.alerts) {
        try {
          events = this.deps.alerts.evaluate(t, series, this.statuses(), this.notes);
        } catch (e) {
          this.deps.log.error(`alert evaluation failed: ${(e as Error).stack ?? e}`);
        }
      }
      this.emit('sample', msg);
      if (events.length) this.emit('alert', events);
      return msg;
    } finally {
      this.ticking = false;
      // Drift-free schedule; if we fell behind by more than a tick, skip ahead instead of bursting.
      this.nextTickAt += this.intervalMs;
      const now = this.mono();
      if (this.nextTickAt < now) this.nextTickAt = now + this.intervalMs - ((now - this.nextTickAt) % this.intervalMs);
      this.schedule();
    }
  }

  /** Logs a wall-clock step (either way) once, when it is first seen; scheduling does not care. */
  private watchClock(wall: number, mono: number): void {
    const offset = wall - mono;
    const prev = this.clockOffset;
    this.clockOffset = offset;
    if (prev === undefined) return;
    const step = offset - prev;
    if (Math.abs(step) <= Math.max(CLOCK_STEP_TOLERANCE_MS, this.intervalMs)) return;
    this.deps.log.warn(
      `the wall clock stepped ${step < 0 ? 'back' : 'forward'} by ${formatStep(Math.abs(step))}; sampling goes on every ${this.intervalMs} ms (sample times follow the new clock)`,
    );
  }

  /**
   * Starts one sample. The tick waits for it only until its deadline (a bit under the interval): a
   * slower answer is delivered with the next tick. The source's own timeout (default 5 s) aborts it
   * and marks the source down, to be re-probed with backoff.
   */
  private sampleOne(slot: Slot, series: SeriesMap, details: Record<string, SourceDetails>): Promise<void> {
    const timeoutMs = slot.source.sampleTimeoutMs ?? DEFAULT_SAMPLE_TIMEOUT_MS;
    const deadlineMs = Math.min(timeoutMs, Math.max(this.intervalMs * 0.9, 200));
    const ac = new AbortController();
    const started = performance.now();
    const upName = seriesName('collector', slot.source.id, 'up_state');
    const durName = seriesName('collector', slot.source.id, 'sample_duration_seconds');
    const work = slot.source.sample(ac.signal);
    slot.busy = work;
    let tickOpen = true;
    return new Promise<void>((resolve) => {
      const deadline =
        deadlineMs < timeoutMs
          ? setTimeout(() => {
              // Missed this tick; the answer (if it comes in time) goes out with the next one.
              tickOpen = false;
              this.deps.log.debug(`${slot.source.id}: sample slower than ${deadlineMs} ms; it misses this tick`);
              resolve();
            }, deadlineMs)
          : undefined;
      const timeout = setTimeout(() => {
        ac.abort(new Error(`sample timed out after ${timeoutMs} ms`));
        if (slot.busy === work) slot.busy = null;
        slot.late = undefined;
        if (tickOpen) {
          series[upName] = 0;
          tickOpen = false;
          resolve();
        }
        this.backoff(slot, `sample did not finish within ${timeoutMs} ms (hung?)`);
      }, timeoutMs);
      work.then(
        (r) => {
          clearTimeout(deadline);
          clearTimeout(timeout);
          if (slot.busy === work) slot.busy = null;
          if (ac.signal.aborted || slot.status.state !== 'ready') return;
          const dur = (performance.now() - started) / 1000;
          if (tickOpen) {
            this.deliver(slot, r, dur, series, details);
            resolve();
          } else {
            slot.late = { result: r, durationS: dur };
          }
        },
        (e: unknown) => {
          clearTimeout(deadline);
          clearTimeout(timeout);
          if (slot.busy === work) slot.busy = null;
          if (ac.signal.aborted) return;
          const err = e as Error;
          slot.retry = !(err instanceof SourceError) || err.retry;
          slot.details = undefined;
          slot.late = undefined;
          if (tickOpen) {
            series[upName] = 0;
            series[durName] = (performance.now() - started) / 1000;
            resolve();
          }
          this.backoff(slot, err.message);
        },
      );
    });
  }

  /** Puts a successful sample's values into this tick. */
  private deliver(slot: Slot, r: SampleResult, durationS: number, series: SeriesMap, details: Record<string, SourceDetails>): void {
    // A source reading someone else's data (a page, a container list) is bounded here whatever it
    // does itself: the first N series in the source's own order are kept, the rest dropped.
    const cap = this.deps.maxSeriesPerSource ?? DEFAULT_MAX_SERIES_PER_SOURCE;
    let n = 0;
    for (const k in r.series) {
      if (n++ < cap) series[k] = r.series[k]!;
    }
    if (n > cap && !slot.capWarned) {
      slot.capWarned = true;
      this.deps.log.warn(
        `${slot.source.id}: returned ${n} series, over the limit of ${cap} per source; kept the first ${cap} and dropped ${n - cap} (this warning is shown once; raise limits.maxSeriesPerSource to keep more)`,
      );
    }
    if (r.notes) for (const k in r.notes) this.notes.set(k, r.notes[k]);
    if (r.details) slot.details = r.details;
    if (slot.details) details[slot.source.id] = slot.details;
    series[seriesName('collector', slot.source.id, 'up_state')] = 1;
    series[seriesName('collector', slot.source.id, 'sample_duration_seconds')] = durationS;
    slot.backoff.reset();
    slot.status.lastSuccess = this.now();
    slot.status.lastDurationMs = Math.round(durationS * 1e4) / 10;
  }
}

/** A step length for the log: `3600.0 s`, `1.5 s`. */
function formatStep(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Rejects when `signal` aborts, with its reason. */
function withAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
