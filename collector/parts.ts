// Opens the collector's stateful parts under the data dir: history, alerts and CSV logging.
// TEMPORARY wiring until history/, alerts/ and export/ land: a raw in-memory history.

import * as path from 'node:path';
import { matchesSelector, type HistoryQuery, type SeriesMap } from '../protocol';
import type { CollectorConfig } from './config';
import type { AlertEngine, CsvLogger, HistoryAnswer, HistoryStore } from './contracts';
import type { Logger } from './log';

/** The opened parts. */
export interface Parts {
  history: HistoryStore;
  alerts?: AlertEngine;
  csv?: CsvLogger;
  exporters: { csv(a: HistoryAnswer): string; json(a: HistoryAnswer): string };
}

class RawHistory implements HistoryStore {
  private rows: { t: number; series: SeriesMap }[] = [];
  record(t: number, series: SeriesMap): void {
    this.rows.push({ t, series });
    if (this.rows.length > 3600) this.rows.shift();
  }
  query(q: HistoryQuery, now: number): HistoryAnswer {
    const to = q.to ?? now;
    const from = q.since !== undefined ? q.since + 1 : (q.from ?? to - 3600_000);
    const names = this.seriesNames().filter((n) => q.series.some((s) => matchesSelector(n, s)));
    return { from, to, series: names.map((name) => ({ name, stepMs: 0, points: this.rows.filter((r) => r.t >= from && r.t <= to && name in r.series).map((r) => [r.t, r.series[name], r.series[name], r.series[name]]) })) };
  }
  seriesNames(): string[] {
    return [...new Set(this.rows.flatMap((r) => Object.keys(r.series)))];
  }
  async flush(): Promise<void> {}
}

/** Opens history, alerts and CSV for `config`; throws ConfigError for bad alert rules. */
export async function openParts(config: CollectorConfig, log: Logger): Promise<Parts> {
  void path;
  void log;
  void config;
  return {
    history: new RawHistory(),
    exporters: { csv: (a) => JSON.stringify(a), json: (a) => JSON.stringify(a) },
  };
}
