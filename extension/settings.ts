// Reads the `rigwatch.*` settings into typed values with defaults, and builds the config file handed to
// the local collector (alert overrides, extra source config).

import * as vscode from 'vscode';
import type { AlertSeverity } from '../protocol';
import { parseGpuChoice, type GpuChoice } from './views/status-text';

/** Configuration section. */
export const SECTION = 'rigwatch';

/** A configured collector (the token lives in SecretStorage). */
export interface CollectorSetting {
  name: string;
  url: string;
}

/** All settings the extension reads. */
export interface RigwatchSettings {
  collectors: CollectorSetting[];
  localEnabled: boolean;
  localDataDir: string | undefined;
  localConfig: Record<string, unknown>;
  intervalSeconds: number;
  alertRules: Record<string, unknown>[];
  alertDisable: string[];
  /** `rigwatch.runs`: training runs to watch, passed to the local collector as `runs.watch`. */
  runs: Record<string, unknown>[];
  notificationsEnabled: boolean;
  minSeverity: AlertSeverity;
  statusBarEnabled: boolean;
  statusBarGpu: GpuChoice;
  statusBarConnection: string | undefined;
}

/** True for a plain object. */
export function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads settings; invalid entries are dropped and reported through `warn` (once per read). */
export function readSettings(warn: (msg: string) => void = () => {}): RigwatchSettings {
  const c = vscode.workspace.getConfiguration(SECTION);
  const collectors: CollectorSetting[] = [];
  const raw = c.get<unknown>('collectors', []);
  if (Array.isArray(raw)) {
    raw.forEach((e, i) => {
      if (isObj(e) && typeof e.name === 'string' && e.name.trim() && typeof e.url === 'string' && e.url.trim()) {
        if (collectors.some((x) => x.name === e.name)) warn(`rigwatch.collectors[${i}]: the name "${e.name}" is used twice; the second entry is ignored`);
        else collectors.push({ name: e.name.trim(), url: e.url.trim() });
      } else {
        warn(`rigwatch.collectors[${i}] needs a "name" and a "url" (e.g. {"name": "train-box", "url": "http://127.0.0.1:9123"})`);
      }
    });
  }
  const interval = c.get<number>('interval', 1);
  const sev = c.get<string>('notifications.minSeverity', 'warning');
  const localConfig = c.get<unknown>('localCollector.config', {});
  const rules = c.get<unknown>('alerts.rules', []);
  const disable = c.get<unknown>('alerts.disable', []);
  const runs = c.get<unknown>('runs', []);
  return {
    collectors,
    localEnabled: c.get<boolean>('localCollector.enabled', true),
    localDataDir: c.get<string>('localCollector.dataDir', '') || undefined,
    localConfig: isObj(localConfig) ? localConfig : {},
    intervalSeconds: typeof interval === 'number' && interval >= 0.25 && interval <= 60 ? interval : 1,
    alertRules: Array.isArray(rules) ? rules.filter(isObj) : [],
    alertDisable: Array.isArray(disable) ? disable.filter((x): x is string => typeof x === 'string') : [],
    runs: Array.isArray(runs) ? runs.filter(isObj) : [],
    notificationsEnabled: c.get<boolean>('notifications.enabled', true),
    minSeverity: sev === 'critical' ? 'critical' : 'warning',
    statusBarEnabled: c.get<boolean>('statusBar.enabled', true),
    statusBarGpu: parseGpuChoice(c.get<unknown>('statusBar.gpu', 'busiest')),
    statusBarConnection: c.get<string>('statusBar.connection', '') || undefined,
  };
}
