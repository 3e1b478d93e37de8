// The alert state file (`alerts.json` in the data dir): instances, mutes, the bounded history and the
// baselines, written atomically (temp file + rename) with mode 0600 and read back with a guard that
// turns a missing, unreadable or foreign file into a fresh start.

import { mkdir, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AlertEvent } from '../../protocol';
import type { Logger } from '../log';
import { writePrivateFile } from '../private-file';
import type { BaselineState } from './baseline';
import type { Instance } from './state-machine';

/** Version of the persisted state file layout. */
export const ALERT_STATE_VERSION = 1;

/** An instance as written to the state file: the rule by id, without run-time links. */
export type PersistedInstance = Omit<Instance, 'entry' | 'captures' | 'lastTick' | 'deleted' | 'offsetBase' | 'reason' | 'resolvedReason'> & { ruleId: string };

/** The whole state file. */
export interface PersistedState {
  version: number;
  savedAt: number;
  seq: number;
  instances: PersistedInstance[];
  ruleMutes: Record<string, number>;
  history: AlertEvent[];
  baselines: Record<string, BaselineState>;
  /** Ids of the sources configured when saved, to resolve the alerts of one removed meanwhile (absent in older files). */
  sources?: string[];
}

/** The persisted form of a live instance. */
export function persistInstance(i: Instance): PersistedInstance {
  return {
    id: i.id,
    ruleId: i.entry.rule.id,
    series: i.series,
    state: i.state,
    severity: i.severity,
    value: i.value,
    peak: i.peak,
    warnSince: i.warnSince,
    critSince: i.critSince,
    activeSince: i.activeSince,
    firingSince: i.firingSince,
    clearingSince: i.clearingSince,
    nullSince: i.nullSince,
    acknowledged: i.acknowledged,
    mutedUntil: i.mutedUntil,
    changedAt: i.changedAt,
    mutedReported: i.mutedReported,
  };
}

/** The lifecycle fields of a persisted instance, each checked for its type (a hand-edited file is not trusted). */
export function restoredFields(p: PersistedInstance): Partial<Instance> {
  const out: Partial<Instance> = {
    state: p.state === 'pending' || p.state === 'firing' ? p.state : 'inactive',
    severity: p.severity === 'critical' ? 'critical' : 'warning',
    value: typeof p.value === 'number' ? p.value : null,
    acknowledged: p.acknowledged === true,
    mutedReported: p.mutedReported === true,
  };
  for (const k of ['warnSince', 'critSince', 'activeSince', 'firingSince', 'clearingSince', 'nullSince', 'mutedUntil', 'peak', 'changedAt'] as const) {
    if (typeof p[k] === 'number') out[k] = p[k];
  }
  return out;
}

/**
 * Reads the state file. Missing: null (a fresh start). Unreadable, not JSON or another layout: null
 * with a warning naming the file and what was wrong; the next save replaces it.
 */
export async function readAlertState(file: string, log: Logger): Promise<PersistedState | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log.warn(`cannot read alert state ${file}: ${(e as Error).message}; starting fresh`);
    return null;
  }
  try {
    const st = JSON.parse(text) as PersistedState;
    if (st.version !== ALERT_STATE_VERSION || !Array.isArray(st.instances) || !Array.isArray(st.history))
      throw new Error(`unsupported layout (version ${String(st.version)})`);
    return st;
  } catch (e) {
    log.warn(`alert state ${file} is unreadable (${(e as Error).message}); starting fresh`);
    return null;
  }
}

/** Writes the state file atomically with mode 0600. Rejects with a message naming the file. */
export async function writeAlertState(file: string, state: PersistedState): Promise<void> {
  const text = JSON.stringify(state);
  try {
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.tmp`;
    await writePrivateFile(tmp, text);
    await rename(tmp, file);
  } catch (e) {
    throw new Error(`cannot save alert state to ${file}: ${(e as Error).message}`);
  }
}
