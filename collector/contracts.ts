// The interfaces the tick loop and the server use to reach history, alerts and CSV logging.
// Each is implemented in its own folder (history/, alerts/, export/); the collector wires them.

import type { AlertEvent, AlertInstance, HistoryQuery, HistorySeries, LoggingStatus, SeriesMap, SourceStatus } from '../protocol';

/** Answer to a history query. */
export interface HistoryAnswer {
  from: number;
  to: number;
  series: HistorySeries[];
}

/**
 * One series' answer as columns: point k is at `t[k]` with `min/avg/max[k]`, NaN for null. A fraction of
 * the memory of point tuples, and no per-point objects: replies and exports are written from these.
 */
export interface ColumnSeries {
  name: string;
  stepMs: number;
  t: Float64Array;
  min: Float64Array;
  avg: Float64Array;
  max: Float64Array;
}

/** Answer to a history query, as columns. */
export interface ColumnAnswer {
  from: number;
  to: number;
  series: ColumnSeries[];
}

/** Multi-resolution per-series history (SPEC §3), persisted atomically under the data dir. */
export interface HistoryStore {
  /** Records one tick's values at epoch ms `t`. */
  record(t: number, series: SeriesMap): void;
  /** Downsampled answer; `since` returns raw samples strictly after it. Selectors as in `matchesSelector`. */
  query(q: HistoryQuery, now: number): HistoryAnswer;
  /** The same answer as columns (what the server streams from). */
  queryColumns(q: HistoryQuery, now: number): ColumnAnswer;
  /** Names of every series held. */
  seriesNames(): string[];
  /**
   * Makes recorded data durable: appends to a checksummed journal; periodically rewrites the snapshot
   * atomically (temp + fsync + rename). Rejects on I/O failure; memory stays intact.
   */
  flush(): Promise<void>;
}

/** Alert evaluation (SPEC §3; issue "Alerts and CSV"). */
export interface AlertEngine {
  /** Evaluates every rule on one tick (`notes`: the sources' per-series subjects, `{subject}` in messages); returns the transitions. */
  evaluate(t: number, series: SeriesMap, sources: SourceStatus[], notes?: ReadonlyMap<string, string>): AlertEvent[];
  /** Pending and firing instances. */
  active(): AlertInstance[];
  /** Acknowledges an instance. Throws with a clear message for an unknown id. */
  acknowledge(alertId: string, t: number): AlertEvent[];
  /** Mutes a rule id or instance id for `durationMs` (0 unmutes). Throws for an unknown target. */
  mute(target: string, durationMs: number, t: number): AlertEvent[];
  /** The last `limit` alert events, oldest first (bounded persisted history). */
  alertHistory(limit?: number): AlertEvent[];
  /** `ALERTS`-style exposition lines for /metrics (`rigwatch_alerts{…}`). */
  prometheusLines(): string[];
  /** Persists state so firing alerts survive a restart. */
  flush(): Promise<void>;
}

/** CSV logging of every tick (SPEC §3). */
export interface CsvLogger {
  status(): LoggingStatus;
  /** Turns logging on or off; resolves with the new status (errors are reported in it, not thrown). */
  setEnabled(enabled: boolean): Promise<LoggingStatus>;
  /** Appends one tick when enabled. Never throws; failures show in status(). */
  write(t: number, series: SeriesMap): void;
  /** Series describing the logger's own health (e.g. `collector.csv.error_state`), recorded each tick. */
  series?(): SeriesMap;
  close(): Promise<void>;
}
