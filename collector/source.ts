// The source interface: the one seam every metric source implements (see DESIGN.md).

import type { SampleMessage, SeriesMap, SourceDetails } from '../protocol';
import type { Logger } from './log';

/** What a probe found: ready to sample, or unavailable with a reason and whether to retry. */
export type ProbeResult = { status: 'ready'; description?: string } | { status: 'unavailable'; reason: string; retry: boolean };

/** One tick's output of a source. */
export interface SampleResult {
  /** Series values in base units; null where not available (never 0 for "unknown"). */
  series: SeriesMap;
  /** Structured data for clients (lists, names); keyed under the source id in the snapshot. */
  details?: SourceDetails;
  /** Plain text per series name naming what a value is about (e.g. the process an idle-holder value
   *  belongs to); alert messages show it as `{subject}`. Only for series that carry one this tick. */
  notes?: Record<string, string>;
}

/** An error from `sample()` that says whether probing again can help (bad password: no). */
export class SourceError extends Error {
  constructor(
    message: string,
    readonly retry: boolean = true,
  ) {
    super(message);
    this.name = 'SourceError';
  }
}

/** A metric source. */
export interface Source {
  /** Unique id: `host`, `gpu`, `postgres.main`, … Also the first segment(s) of its series names. */
  readonly id: string;
  /** Kind of source, e.g. `postgres` for `postgres.main`. */
  readonly kind: string;
  /** Per-sample timeout in ms; the tick loop uses the interval when absent. */
  readonly sampleTimeoutMs?: number;
  /** Detects and describes what it can read. Absence is an answer, not an exception. */
  probe(signal: AbortSignal): Promise<ProbeResult>;
  /** Does one tick's I/O. Throw (ideally a SourceError) to mark the source down. */
  sample(signal: AbortSignal): Promise<SampleResult>;
  /** Optional on-demand actions (e.g. the GPU `report`), reached over HTTP and WebSocket. */
  readonly actions?: Record<string, (args: Record<string, string>, signal: AbortSignal) => Promise<unknown>>;
  /** Releases everything it started. Idempotent. */
  close(): Promise<void> | void;
}

/** What a source factory gets from the collector. */
export interface SourceContext {
  /** This source kind's section of the config file (`config.sources[kind]`), unvalidated. */
  config: unknown;
  /** Environment variables (process.env, or a test's copy). */
  env: NodeJS.ProcessEnv;
  /** Sampling interval in ms. */
  intervalMs: number;
  /** The collector's data directory. */
  dataDir: string;
  log: Logger;
  /** The latest assembled snapshot (for joins such as model VRAM ← GPU processes). */
  latest(): SampleMessage | undefined;
}

/** Creates a kind's sources from config; throws ConfigError for a bad section. */
export interface SourceFactory {
  readonly kind: string;
  create(ctx: SourceContext): Source[];
}

/**
 * Outcome of a rejected login: an auto-detected instance (nobody asked for it) is quietly unavailable,
 * a configured one is down and not retried until the configuration changes.
 */
export function authFailure(autoDetected: boolean, reason: string): ProbeResult {
  if (autoDetected) return { status: 'unavailable', reason, retry: false };
  throw new SourceError(reason, false);
}
