// Collector configuration: defaults < JSON config file < environment variables < command-line flags.
// Every bad value is a ConfigError naming the file (or flag/variable), the key, the value and what was expected.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from './config-error';
import type { LogLevel } from './log';
import { DEFAULT_LIMITS, parseLimits, type ServerLimits } from './server/limits';

/** Interval bounds in ms (SPEC: 0.25 s to 60 s). */
export const MIN_INTERVAL_MS = 250;
/** Upper interval bound in ms. */
export const MAX_INTERVAL_MS = 60_000;
/** Default sampling interval in ms. */
export const DEFAULT_INTERVAL_MS = 1000;
/** Default port; 0 asks the OS for a free one. */
export const DEFAULT_PORT = 9465;

/** The collector's resolved configuration. */
export interface CollectorConfig {
  port: number;
  host: string;
  intervalMs: number;
  dataDir: string;
  token: string | undefined;
  logLevel: LogLevel;
  /** Stop after this many ms without any client (0 = never). */
  idleTimeoutMs: number;
  /** Extra Origins allowed to open the WebSocket. */
  allowedOrigins: string[];
  /** Raw `alerts` section, validated by the alert engine. */
  alerts: unknown;
  logging: { enabled: boolean; maxFileBytes?: number; maxFiles?: number };
  /** The server's memory and connection budget (collector/server/limits.ts); defaults where absent. */
  limits: ServerLimits;
  /** Raw per-kind source sections; `false` disables a kind. */
  sources: Record<string, unknown>;
  /** The config file read, if any. */
  configFile: string | undefined;
}

/** What the command line asked for. */
export type CliRequest = { kind: 'run'; config: CollectorConfig } | { kind: 'help' } | { kind: 'version' };

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const CORE_KEYS = ['port', 'host', 'interval', 'dataDir', 'token', 'logLevel', 'idleTimeoutHours', 'allowedOrigins', 'alerts', 'logging', 'limits'];

/** Text of `--help`. */
export const HELP_TEXT = `Usage: rigwatch-collector [options]
       rigwatch-collector ssh [user@]host[:port] [options]   (see: rigwatch-collector ssh --help)

Samples NVIDIA GPUs, the host, PostgreSQL, Redis, model servers, Docker containers and training runs,
keeps history, evaluates alerts, and serves a dashboard, WebSocket and HTTP API.

Options (each also settable by environment variable or config file key):
  --config FILE           JSON config file                    RIGWATCH_CONFIG
  --port N                TCP port (0 = any free port)        RIGWATCH_PORT        port        (default ${DEFAULT_PORT})
  --host ADDR             bind address                        RIGWATCH_HOST        host        (default 127.0.0.1)
  --interval SECONDS      sample interval, 0.25 to 60         RIGWATCH_INTERVAL    interval    (default 1)
  --data-dir DIR          history, alerts, CSV, state file    RIGWATCH_DATA_DIR    dataDir     (default ~/.local/state/rigwatch)
  --token TOKEN           required on every API/WebSocket     RIGWATCH_TOKEN       token       (required for non-loopback binds)
  --log-level LEVEL       debug, info, warn, error            RIGWATCH_LOG_LEVEL   logLevel    (default info)
  --idle-timeout HOURS    exit after HOURS without clients    RIGWATCH_IDLE_TIMEOUT idleTimeoutHours (default 0 = never)
  --help                  show this help
  --version               print the version

Source sections in the config file: host, gpu, postgres, redis, docker, models, runs (false disables one).
Documentation: README.md and docs/ in the Rigwatch repository.`;

/** Default data directory: $XDG_STATE_HOME/rigwatch or ~/.local/state/rigwatch. */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'rigwatch');
}

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** True when `host` is a loopback address. */
export { isLoopback };

interface Raw {
  where: string;
  values: Record<string, unknown>;
}

function num(key: string, v: unknown, where: string, min: number, max: number, expected: string): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) throw new ConfigError(key, v, expected, where);
  return n;
}

function str(key: string, v: unknown, where: string, expected = 'a string'): string {
  if (typeof v !== 'string' || v === '') throw new ConfigError(key, v, expected, where);
  return v;
}

/** Parses argv (without node and script) and env into a CLI request; throws ConfigError. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv, knownKinds: readonly string[]): CliRequest {
  const flags: Record<string, string> = {};
  const takesValue = new Set(['config', 'port', 'host', 'interval', 'data-dir', 'token', 'log-level', 'idle-timeout']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    if (arg === '--version' || arg === '-v') return { kind: 'version' };
    if (!arg.startsWith('--')) throw new ConfigError('argument', arg, 'an option such as --port (see --help)', 'command line');
    let name = arg.slice(2);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (!takesValue.has(name)) throw new ConfigError(`--${name}`, arg, `one of --${[...takesValue].join(', --')}, --help, --version`, 'command line');
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new ConfigError(`--${name}`, undefined, 'a value after it', 'command line');
    }
    flags[name] = value;
  }

  const configFile = flags.config ?? env.RIGWATCH_CONFIG;
  const layers: Raw[] = [];
  if (configFile) layers.push({ where: configFile, values: readConfigFile(configFile, knownKinds) });
  const envMap: Record<string, string> = {
    RIGWATCH_PORT: 'port',
    RIGWATCH_HOST: 'host',
    RIGWATCH_INTERVAL: 'interval',
    RIGWATCH_DATA_DIR: 'dataDir',
    RIGWATCH_TOKEN: 'token',
    RIGWATCH_LOG_LEVEL: 'logLevel',
    RIGWATCH_IDLE_TIMEOUT: 'idleTimeoutHours',
  };
  for (const [name, key] of Object.entries(envMap)) {
    const v = env[name];
    if (v !== undefined && v !== '') layers.push({ where: `environment variable ${name}`, values: { [key]: v } });
  }
  const flagMap: Record<string, string> = {
    port: 'port',
    host: 'host',
    interval: 'interval',
    'data-dir': 'dataDir',
    token: 'token',
    'log-level': 'logLevel',
    'idle-timeout': 'idleTimeoutHours',
  };
  for (const [flag, key] of Object.entries(flagMap)) {
    if (flags[flag] !== undefined) layers.push({ where: `command line --${flag}`, values: { [key]: flags[flag] } });
  }

  const config: CollectorConfig = {
    port: DEFAULT_PORT,
    host: '127.0.0.1',
    intervalMs: DEFAULT_INTERVAL_MS,
    dataDir: defaultDataDir(env),
    token: undefined,
    logLevel: 'info',
    idleTimeoutMs: 0,
    allowedOrigins: [],
    alerts: undefined,
    logging: { enabled: false },
    limits: { ...DEFAULT_LIMITS },
    sources: {},
    configFile,
  };
  for (const { where, values } of layers) {
    for (const [key, v] of Object.entries(values)) {
      switch (key) {
        case 'port':
          config.port = num(key, v, where, 0, 65535, 'a port number from 0 to 65535');
          if (!Number.isInteger(config.port)) throw new ConfigError(key, v, 'an integer port', where);
          break;
        case 'host':
          // `host` is both the bind address (a string) and the host source's section (an object or false).
          if ((typeof v === 'object' && v !== null) || v === false) {
            config.sources.host = v;
            break;
          }
          config.host = str(key, v, where, 'a bind address such as 127.0.0.1 (or an object configuring the host source)');
          break;
        case 'interval':
          config.intervalMs = Math.round(num(key, v, where, MIN_INTERVAL_MS / 1000, MAX_INTERVAL_MS / 1000, 'seconds from 0.25 to 60') * 1000);
          break;
        case 'dataDir':
          config.dataDir = path.resolve(str(key, v, where, 'a directory path'));
          break;
        case 'token': {
          const t = str(key, v, where, 'a non-empty token');
          if (t.length < 16) throw new ConfigError(key, '<hidden>', 'a token of at least 16 characters', where);
          config.token = t;
          break;
        }
        case 'logLevel':
          if (typeof v !== 'string' || !LOG_LEVELS.includes(v as LogLevel)) throw new ConfigError(key, v, `one of ${LOG_LEVELS.join(', ')}`, where);
          config.logLevel = v as LogLevel;
          break;
        case 'idleTimeoutHours':
          config.idleTimeoutMs = Math.round(num(key, v, where, 0, 24 * 365, 'hours, 0 or more') * 3600_000);
          break;
        case 'allowedOrigins':
          if (!Array.isArray(v) || v.some((o) => typeof o !== 'string'))
            throw new ConfigError(key, v, 'an array of origins such as "https://example.com"', where);
          config.allowedOrigins = v as string[];
          break;
        case 'alerts':
          config.alerts = v;
          break;
        case 'logging': {
          if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(key, v, 'an object {enabled, maxFileBytes, maxFiles}', where);
          const l = v as Record<string, unknown>;
          if (l.enabled !== undefined && typeof l.enabled !== 'boolean') throw new ConfigError('logging.enabled', l.enabled, 'true or false', where);
          const out: CollectorConfig['logging'] = { enabled: l.enabled === true };
          if (l.maxFileBytes !== undefined) out.maxFileBytes = num('logging.maxFileBytes', l.maxFileBytes, where, 1024, 1e12, 'bytes, at least 1024');
          if (l.maxFiles !== undefined) out.maxFiles = num('logging.maxFiles', l.maxFiles, where, 1, 10_000, 'a count from 1 to 10000');
          for (const k of Object.keys(l)) {
            if (!['enabled', 'maxFileBytes', 'maxFiles'].includes(k))
              throw new ConfigError(`logging.${k}`, l[k], 'no such key (enabled, maxFileBytes, maxFiles)', where);
          }
          config.logging = out;
          break;
        }
        case 'limits': {
          const l = parseLimits(v);
          if ('key' in l) throw new ConfigError(l.key, l.value, l.expected, where);
          config.limits = l;
          break;
        }
        default:
          if (knownKinds.includes(key)) config.sources[key] = v;
          else throw new ConfigError(key, v, `a known key (${[...CORE_KEYS, ...knownKinds].join(', ')})`, where);
      }
    }
  }
  if (!isLoopback(config.host) && !config.token) {
    throw new ConfigError('token', undefined, `a token (--token or RIGWATCH_TOKEN) because host ${config.host} is not loopback`, 'configuration');
  }
  return { kind: 'run', config };
}

/** Reads and shape-checks a JSON config file. */
export function readConfigFile(file: string, knownKinds: readonly string[]): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('(file)', file, `a readable JSON file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, file);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ConfigError('(file)', text.slice(0, 40), `valid JSON (${(e as Error).message})`, file);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError('(top level)', parsed, 'a JSON object', file);
  for (const key of Object.keys(parsed)) {
    if (!CORE_KEYS.includes(key) && !knownKinds.includes(key)) {
      throw new ConfigError(key, (parsed as Record<string, unknown>)[key], `a known key (${[...CORE_KEYS, ...knownKinds].join(', ')})`, file);
    }
  }
  return parsed as Record<string, unknown>;
}
