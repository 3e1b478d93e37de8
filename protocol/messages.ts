// The wire format between a collector and its clients (extension, webview, browser, scripts).
// This file and its siblings are the only place a message shape is written.

import type { SourceDetails } from './details';
import type { DisplayUnit } from './format';

/** Bumped whenever a message shape changes incompatibly. */
export const PROTOCOL_VERSION = 1;

/** Largest inbound client message the collector accepts, in bytes. */
export const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;

/** WebSocket close code: a message the protocol forbids (not JSON, unknown type, binary); RFC 6455 policy violation. */
export const CLOSE_POLICY_VIOLATION = 1008;
/** WebSocket close code: the client did not read its replies and samples fast enough; its unsent data went over budget. */
export const CLOSE_SLOW_CLIENT = 4000;
/** WebSocket close code: the client sent more requests than may wait for an answer at once. */
export const CLOSE_TOO_MANY_REQUESTS = 4001;
/** WebSocket close code: all clients together went over the collector's send budget and this one held the most. */
export const CLOSE_OVER_BUDGET = 4002;

/** A series value: base units, `null` when the value is not available (never 0 for "unknown"). */
export type SeriesValue = number | null;

/** One tick's series values keyed by series name (`<source>.<instance>.<metric>_<unit>`). */
export type SeriesMap = Record<string, SeriesValue>;

/** Lifecycle of a source as the tick loop sees it. */
export type SourceState = 'probing' | 'ready' | 'unavailable' | 'down';

/** What clients know about one source. */
export interface SourceStatus {
  /** Unique id, e.g. `host`, `gpu`, `postgres.main`. */
  id: string;
  /** The kind of source (`host`, `gpu`, `postgres`, `redis`, `models`, `docker`, …). */
  kind: string;
  state: SourceState;
  /** Human-readable reason for `unavailable`/`down`; never contains secrets. */
  reason?: string;
  /** Short description when ready, e.g. "2 × NVIDIA A100 via NVML". */
  description?: string;
  /** Epoch ms of the last successful sample. */
  lastSuccess?: number;
  /** Duration of the last sample in ms. */
  lastDurationMs?: number;
  /** Epoch ms of the next probe when unavailable/down. */
  nextProbe?: number;
}

/** Static facts about the collector's machine. */
export interface HostInfo {
  hostname: string;
  platform: string;
  arch: string;
  os?: string;
  kernel?: string;
  cpuModel?: string;
  cpuCores?: number;
  memTotalBytes?: number;
  collectorVersion: string;
  pid: number;
  startedAt: number;
}

/** Alert severity. */
export type AlertSeverity = 'warning' | 'critical';

/** Lifecycle state of one alert instance. */
export type AlertState = 'pending' | 'firing' | 'resolved';

/** The current (or last) state of one alert instance (one rule × one matching series). */
export interface AlertInstance {
  /** Stable id: `<ruleId>:<series>`. */
  id: string;
  ruleId: string;
  series: string;
  state: AlertState;
  /** Severity while pending/firing; for resolved, the last severity it had. */
  severity: AlertSeverity;
  value: SeriesValue;
  /** The level crossed (in the rule's unit, after ratio). */
  threshold: number;
  /** The unit of `value` and `threshold` (the rule's, e.g. `ratio` for power vs its limit); absent: the series'. */
  unit?: DisplayUnit;
  message: string;
  /** Epoch ms when the condition first held (pending start). */
  activeSince: number;
  /** Epoch ms when it started firing. */
  firingSince?: number;
  /** Epoch ms when it resolved. */
  resolvedAt?: number;
  acknowledged: boolean;
  /** Epoch ms until which notifications are muted. */
  mutedUntil?: number;
}

/** One transition of an alert instance. */
export interface AlertEvent {
  /** Unique, increasing event id. */
  seq: number;
  t: number;
  transition: 'pending' | 'firing' | 'escalated' | 'deescalated' | 'resolved' | 'acknowledged' | 'muted' | 'unmuted';
  alert: AlertInstance;
  /** Whether clients should notify the user about this event (false when muted or quiet). */
  notify: boolean;
}

/** CSV logging state. */
export interface LoggingStatus {
  enabled: boolean;
  file?: string;
  error?: string;
}

/** One downsampled history point: time (bucket start, epoch ms), min, avg, max (null = no data). */
export type HistoryPoint = [t: number, min: SeriesValue, avg: SeriesValue, max: SeriesValue];

/** A downsampled series in a history answer. */
export interface HistorySeries {
  name: string;
  /** Bucket width in ms of the returned points. */
  stepMs: number;
  points: HistoryPoint[];
}

/** Parameters of a history query (WebSocket and HTTP). */
export interface HistoryQuery {
  /** Exact series names, or prefixes ending in `*` (e.g. `gpu.0.*`). */
  series: string[];
  /** Epoch ms; default `to - 1 h`. */
  from?: number;
  /** Epoch ms; default now. */
  to?: number;
  /** Point budget per series; default 600, max 5000. */
  points?: number;
  /** Backfill: raw samples strictly after this epoch ms (overrides from). */
  since?: number;
}

// ---------- server → client ----------

/** First message on every connection. */
export interface HelloMessage {
  type: 'hello';
  protocol: number;
  host: HostInfo;
  intervalMs: number;
  serverTime: number;
  sources: SourceStatus[];
  /** Alerts currently pending or firing, so a late client sees what is active. */
  alerts: AlertInstance[];
  logging: LoggingStatus;
  /** The latest snapshot, if any, so a client can render at once. */
  latest?: SampleMessage;
}

/** One tick: every source's series and details. */
export interface SampleMessage {
  type: 'sample';
  t: number;
  series: SeriesMap;
  /** Structured per-source data keyed by source id (processes, containers, model lists…). */
  details: Record<string, SourceDetails>;
}

/** Source status changes. */
export interface StatusMessage {
  type: 'status';
  sources: SourceStatus[];
}

/** Alert lifecycle events, in order. */
export interface AlertMessage {
  type: 'alert';
  events: AlertEvent[];
}

/** The answer to a `history` request. */
export interface HistoryReplyMessage {
  type: 'history';
  id: string;
  from: number;
  to: number;
  series: HistorySeries[];
}

/** Generic answer to a request (`logging`, `ack`, `mute`, `export`, `action`). */
export interface ResultMessage {
  type: 'result';
  id: string;
  ok: boolean;
  error?: string;
  /** Request-specific payload (export text, action output, logging status…). */
  data?: unknown;
}

/** Logging state changed. */
export interface LoggingMessage {
  type: 'logging';
  logging: LoggingStatus;
}

/** A protocol error not tied to a request; the server may close afterwards. */
export interface ErrorMessage {
  type: 'error';
  message: string;
}

/** Everything a collector sends. */
export type ServerMessage = HelloMessage | SampleMessage | StatusMessage | AlertMessage | HistoryReplyMessage | ResultMessage | LoggingMessage | ErrorMessage;

// ---------- client → server ----------

/** Ask for history; answered with `history`. */
export interface HistoryRequest extends HistoryQuery {
  type: 'history';
  id: string;
}

/** Switch CSV logging; answered with `result`. */
export interface LoggingRequest {
  type: 'logging';
  id: string;
  enabled: boolean;
}

/** Acknowledge an alert instance; answered with `result`. */
export interface AckRequest {
  type: 'ack';
  id: string;
  alertId: string;
}

/** Mute a rule or one instance for a duration; answered with `result`. */
export interface MuteRequest {
  type: 'mute';
  id: string;
  /** A rule id, or an alert instance id (`rule:series`). */
  target: string;
  /** 0 unmutes. */
  durationMs: number;
}

/** Export history as CSV or JSON; answered with `result` whose data is the file text. */
export interface ExportRequest extends HistoryQuery {
  type: 'export';
  id: string;
  format: 'csv' | 'json';
}

/** Invoke a source action (e.g. the GPU report); answered with `result`. */
export interface ActionRequest {
  type: 'action';
  id: string;
  source: string;
  action: string;
  args: Record<string, string>;
}

/** Ask for recent alert events; answered with `result` whose data is AlertEvent[] (oldest first). */
export interface AlertHistoryRequest {
  type: 'alerts';
  id: string;
  limit?: number;
}

/** Everything a client may send. */
export type ClientMessage = AlertHistoryRequest | HistoryRequest | LoggingRequest | AckRequest | MuteRequest | ExportRequest | ActionRequest;

/** Exhaustiveness check for switches over message unions. */
export function assertNever(x: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(x)}`);
}
