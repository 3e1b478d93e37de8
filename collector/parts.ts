// Opens the collector's stateful parts under the data dir: history, alerts and CSV logging.

import * as path from 'node:path';
import type { CollectorConfig } from './config';
import type { AlertEngine, CsvLogger, HistoryAnswer, HistoryStore } from './contracts';
import type { Logger } from './log';
import { TieredHistory } from './history';
import { createAlertEngine } from './alerts';
import { createCsvLogger, exportCsvChunks, exportJsonChunks } from './export';

/** The opened parts. */
export interface Parts {
  history: HistoryStore;
  alerts: AlertEngine;
  csv: CsvLogger;
  exporters: { csv(a: HistoryAnswer): Iterable<string>; json(a: HistoryAnswer): Iterable<string> };
}

/** Opens history, alerts and CSV for `config`; throws ConfigError for bad alert rules. */
export async function openParts(config: CollectorConfig, log: Logger): Promise<Parts> {
  const alerts = await createAlertEngine({
    config: config.alerts,
    file: path.join(config.dataDir, 'alerts.json'),
    log: log.child('alerts'),
    configFile: config.configFile,
    // New series names (an Xid counter) are discovered on the tick they first appear.
    namesVersion: () => history.namesVersion(),
  });
  const history = await TieredHistory.open({ file: path.join(config.dataDir, 'history.bin'), intervalMs: config.intervalMs, log: log.child('history') });
  const csv = createCsvLogger({
    dir: path.join(config.dataDir, 'csv'),
    enabled: config.logging.enabled,
    maxFileBytes: config.logging.maxFileBytes,
    maxFiles: config.logging.maxFiles,
    log: log.child('csv'),
  });
  return { history, alerts, csv, exporters: { csv: (a) => exportCsvChunks(a), json: (a) => exportJsonChunks(a) } };
}
