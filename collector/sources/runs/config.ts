// Validation of the `runs` config section. Every bad value is a ConfigError naming its key, e.g.
// `runs.watch[0].command`.

import { isAbsolute } from 'node:path';
import { ConfigError } from '../../config-error';

/** Environment variable that moves the /proc root (tests point it at a captured or fake tree). */
export const PROC_ROOT_ENV = 'RIGWATCH_PROC_ROOT';
/** Default most scalar tags kept per run. */
export const DEFAULT_MAX_TAGS = 64;
/** Most configured watches. */
export const MAX_WATCHES = 32;

/** One configured run to watch: a command pattern and/or a log directory, optionally a metrics URL. */
export interface RunWatch {
  /** Display name and id stem; derived from the command when absent. */
  name: string | null;
  /** Matched against the space-joined command line. */
  command: RegExp | null;
  /** Where its metric files are (absolute). */
  logDir: string | null;
  /** A Prometheus text endpoint the run exposes. */
  metricsUrl: string | null;
}

/** The validated section. */
export interface RunsConfig {
  /** Find runs among GPU processes with no configuration. */
  auto: boolean;
  watch: RunWatch[];
  maxTags: number;
  procRoot: string;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses `config.runs` (an object, an array of watches as shorthand, or undefined). */
export function parseRunsConfig(raw: unknown, env: NodeJS.ProcessEnv): RunsConfig {
  const procRoot = env[PROC_ROOT_ENV] && env[PROC_ROOT_ENV] !== '' ? (env[PROC_ROOT_ENV] as string) : '/proc';
  const cfg: RunsConfig = { auto: true, watch: [], maxTags: DEFAULT_MAX_TAGS, procRoot };
  if (raw === undefined || raw === null) return cfg;
  const o: Obj = Array.isArray(raw) ? { watch: raw } : isObj(raw) ? raw : {};
  if (!Array.isArray(raw) && !isObj(raw)) throw new ConfigError('runs', raw, 'an object {auto, watch, maxTags}, an array of watches, or false');
  for (const k of Object.keys(o)) {
    if (!['auto', 'watch', 'maxTags'].includes(k)) throw new ConfigError(`runs.${k}`, o[k], 'no such key (known: auto, watch, maxTags)');
  }
  if (o.auto !== undefined) {
    if (typeof o.auto !== 'boolean') throw new ConfigError('runs.auto', o.auto, 'true or false');
    cfg.auto = o.auto;
  }
  if (o.maxTags !== undefined) {
    const m = o.maxTags;
    if (typeof m !== 'number' || !Number.isInteger(m) || m < 1 || m > 1000) throw new ConfigError('runs.maxTags', m, 'an integer from 1 to 1000');
    cfg.maxTags = m;
  }
  if (o.watch !== undefined) {
    if (!Array.isArray(o.watch)) throw new ConfigError('runs.watch', o.watch, 'an array of {name, command, logDir, metricsUrl}');
    if (o.watch.length > MAX_WATCHES) throw new ConfigError('runs.watch', `${o.watch.length} entries`, `at most ${MAX_WATCHES} entries`);
    const names = new Set<string>();
    o.watch.forEach((w: unknown, i: number) => {
      const key = `runs.watch[${i}]`;
      if (!isObj(w)) throw new ConfigError(key, w, 'an object {name, command, logDir, metricsUrl}');
      for (const k of Object.keys(w)) {
        if (!['name', 'command', 'logDir', 'metricsUrl'].includes(k))
          throw new ConfigError(`${key}.${k}`, w[k], 'no such key (known: name, command, logDir, metricsUrl)');
      }
      const watch: RunWatch = { name: null, command: null, logDir: null, metricsUrl: null };
      if (w.name !== undefined) {
        if (typeof w.name !== 'string' || !/^[A-Za-z0-9_.-]{1,40}$/.test(w.name))
          throw new ConfigError(`${key}.name`, w.name, 'a name of 1 to 40 letters, digits, _ . -');
        if (names.has(w.name)) throw new ConfigError(`${key}.name`, w.name, 'a name used by only one watch');
        names.add(w.name);
        watch.name = w.name;
      }
      if (w.command !== undefined) {
        if (typeof w.command !== 'string' || w.command === '' || w.command.length > 500)
          throw new ConfigError(`${key}.command`, w.command, 'a regular expression matched against the command line, e.g. "train\\\\.py"');
        try {
          watch.command = new RegExp(w.command);
        } catch (e) {
          throw new ConfigError(`${key}.command`, w.command, `a valid regular expression (${(e as Error).message})`);
        }
      }
      if (w.logDir !== undefined) {
        if (typeof w.logDir !== 'string' || !isAbsolute(w.logDir)) throw new ConfigError(`${key}.logDir`, w.logDir, 'an absolute directory path');
        watch.logDir = w.logDir;
      }
      if (w.metricsUrl !== undefined) {
        let ok = false;
        if (typeof w.metricsUrl === 'string') {
          try {
            ok = ['http:', 'https:'].includes(new URL(w.metricsUrl).protocol);
          } catch {
            ok = false;
          }
        }
        if (!ok) throw new ConfigError(`${key}.metricsUrl`, w.metricsUrl, 'an http(s) URL such as "http://127.0.0.1:8000/metrics"');
        watch.metricsUrl = w.metricsUrl as string;
      }
      if (watch.command === null && watch.logDir === null)
        throw new ConfigError(`${key}.command`, undefined, 'a command pattern or a logDir (a watch needs at least one)');
      if (watch.command === null && watch.name === null)
        throw new ConfigError(`${key}.name`, undefined, 'a name (a watch with only a logDir has no command to name it after)');
      cfg.watch.push(watch);
    });
  }
  return cfg;
}
