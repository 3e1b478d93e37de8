// The server's memory and connection budget (config `limits`): what one client, and all clients
// together, may make the collector hold, and how long an idle or stalled peer may keep a socket.

import { DEFAULT_MAX_SERIES_PER_SOURCE } from '../collector';

/** Memory and connection limits of the server. Defaults are in DEFAULT_LIMITS and docs/api.md. */
export interface ServerLimits {
  /** Unsent bytes one client may have queued (WebSocket, or one HTTP response), in bytes. */
  clientQueuedBytes: number;
  /** Unsent bytes all clients together may have queued; beyond it the client holding most is dropped, in bytes. */
  globalQueuedBytes: number;
  /** Requests one WebSocket client (or one HTTP connection) may have waiting for an answer. */
  requestsInFlight: number;
  /** A reply that could not hand its next chunk to the socket for this long drops the client, in ms. */
  replyStallMs: number;
  /** A connection that has not sent complete request headers (or anything) for this long is closed, in ms. */
  headersTimeoutMs: number;
  /** Connections held open at once (HTTP and WebSocket); more are closed on accept. */
  maxConnections: number;
  /** History exports (CSV/JSON) built at once across all clients; more wait their turn. */
  concurrentExports: number;
  /** Series one source may add to a sample (the tick loop keeps the first ones, warns once, drops the rest). */
  maxSeriesPerSource: number;
}

/** The defaults (documented in docs/api.md, "Limits"). */
export const DEFAULT_LIMITS: Readonly<ServerLimits> = {
  clientQueuedBytes: 4 * 1024 * 1024,
  globalQueuedBytes: 64 * 1024 * 1024,
  requestsInFlight: 16,
  replyStallMs: 10_000,
  headersTimeoutMs: 10_000,
  maxConnections: 1000,
  concurrentExports: 1,
  maxSeriesPerSource: DEFAULT_MAX_SERIES_PER_SOURCE,
};

/** Bounds of each limit a config may set: [min, max, what it is]. */
const BOUNDS: Record<keyof ServerLimits, [number, number, string]> = {
  clientQueuedBytes: [64 * 1024, 1024 ** 3, 'bytes from 65536 to 1 GiB'],
  globalQueuedBytes: [64 * 1024, 16 * 1024 ** 3, 'bytes from 65536 to 16 GiB'],
  requestsInFlight: [1, 10_000, 'a count from 1 to 10000'],
  replyStallMs: [100, 3_600_000, 'ms from 100 to 3600000'],
  headersTimeoutMs: [100, 3_600_000, 'ms from 100 to 3600000'],
  maxConnections: [2, 1_000_000, 'a count from 2 to 1000000'],
  concurrentExports: [1, 64, 'a count from 1 to 64'],
  maxSeriesPerSource: [10, 10_000_000, 'a count from 10 to 10000000'],
};

/**
 * Validates a config `limits` object; returns the full limits or an error naming the bad key, e.g.
 * `limits.replyStallMs must be ms from 100 to 3600000, got -1`.
 */
export function parseLimits(v: unknown): ServerLimits | { key: string; value: unknown; expected: string } {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return { key: 'limits', value: v, expected: `an object with any of ${Object.keys(BOUNDS).join(', ')}` };
  const out: ServerLimits = { ...DEFAULT_LIMITS };
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (!Object.hasOwn(BOUNDS, k)) return { key: `limits.${k}`, value: x, expected: `no such key (${Object.keys(BOUNDS).join(', ')})` };
    const [min, max, expected] = BOUNDS[k as keyof ServerLimits];
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) return { key: `limits.${k}`, value: x, expected };
    out[k as keyof ServerLimits] = x;
  }
  return out;
}
