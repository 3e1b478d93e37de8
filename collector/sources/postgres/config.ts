// Which PostgreSQL instances to watch: the `postgres` config list, plus DATABASE_URL when it is a
// postgres URL, or the default local instance (127.0.0.1:5432) when neither names one.
// Validates and throws ConfigError naming the key (`postgres[0].url`), never echoing a password.

import { ConfigError } from '../../config-error';
import { redactUrl } from '../../redact';

/** Longest statement timeout accepted in config, in ms. */
export const POSTGRES_MAX_STATEMENT_TIMEOUT_MS = 600_000;

/** One PostgreSQL instance to watch, validated. */
export interface PostgresInstanceConfig {
  /** Series/instance name: `postgres.<name>.…`. */
  name: string;
  /** Connection URL (may contain a password: never log it, use `redactUrl`). */
  url: string;
  /** Database whose statistics (rates, cache hit, size) are reported; null = all databases. */
  database: string | null;
  /** Whether the longest running query's text may be shown. */
  showQueryText: boolean;
  /** Statement timeout for every monitoring query; null = derived from the sampling interval. */
  statementTimeoutMs: number | null;
  /** Where it came from, for messages: `postgres[0]`, `DATABASE_URL` or `auto-detected`. */
  origin: string;
  /** True for the default local instance probed without being asked. */
  autoDetected: boolean;
}

const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
const KEYS = ['name', 'url', 'database', 'showQueryText', 'statementTimeoutMs'];

/**
 * Resolves the instances from the raw `postgres` config section and the environment.
 * `undefined`/`null`/`true`/`[]` mean "nothing configured". A single object is taken as a list of one.
 */
export function resolvePostgresInstances(config: unknown, env: NodeJS.ProcessEnv): PostgresInstanceConfig[] {
  const out: PostgresInstanceConfig[] = [];
  const list = config === undefined || config === null || config === true ? [] : config;
  const items = Array.isArray(list) ? list : typeof list === 'object' ? [list] : null;
  if (items === null) throw new ConfigError('postgres', config, 'a list of {name, url} objects, or false to disable');
  items.forEach((item: unknown, i) => {
    const key = Array.isArray(list) ? `postgres[${i}]` : 'postgres';
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new ConfigError(key, item, 'an object {name, url, database?, showQueryText?, statementTimeoutMs?}');
    }
    const o = item as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!KEYS.includes(k)) throw new ConfigError(`${key}.${k}`, o[k], `no such key (allowed: ${KEYS.join(', ')})`);
    }
    if (typeof o.name !== 'string' || !NAME_RE.test(o.name)) {
      throw new ConfigError(`${key}.name`, o.name, 'a name of 1–64 letters, digits, _ or -');
    }
    if (out.some((x) => x.name === o.name)) throw new ConfigError(`${key}.name`, o.name, 'a name not used by another postgres instance');
    if (typeof o.url !== 'string' || !isPostgresUrl(o.url)) {
      throw new ConfigError(
        `${key}.url`,
        typeof o.url === 'string' ? redactUrl(o.url) : o.url,
        'a postgres:// or postgresql:// URL, e.g. "postgres://user:password@127.0.0.1:5432/app"',
      );
    }
    if (o.database !== undefined && (typeof o.database !== 'string' || o.database === '')) {
      throw new ConfigError(`${key}.database`, o.database, 'a database name (string)');
    }
    if (o.showQueryText !== undefined && typeof o.showQueryText !== 'boolean') {
      throw new ConfigError(`${key}.showQueryText`, o.showQueryText, 'true or false');
    }
    const st = o.statementTimeoutMs;
    if (st !== undefined && (typeof st !== 'number' || !Number.isInteger(st) || st < 1 || st > POSTGRES_MAX_STATEMENT_TIMEOUT_MS)) {
      throw new ConfigError(`${key}.statementTimeoutMs`, st, `an integer number of milliseconds, 1–${POSTGRES_MAX_STATEMENT_TIMEOUT_MS}`);
    }
    out.push({
      name: o.name,
      url: o.url,
      database: typeof o.database === 'string' ? o.database : null,
      showQueryText: o.showQueryText === true,
      statementTimeoutMs: typeof st === 'number' ? st : null,
      origin: key,
      autoDetected: false,
    });
  });
  // DATABASE_URL is often another app's setting: only a postgres URL counts, anything else is ignored.
  const envUrl = env.DATABASE_URL;
  if (envUrl && isPostgresUrl(envUrl) && !out.some((x) => x.url === envUrl) && !out.some((x) => x.name === 'default')) {
    out.push({ name: 'default', url: envUrl, database: null, showQueryText: false, statementTimeoutMs: null, origin: 'DATABASE_URL', autoDetected: false });
  }
  if (out.length === 0) {
    const user = encodeURIComponent(env.PGUSER || 'postgres');
    const db = encodeURIComponent(env.PGDATABASE || 'postgres');
    out.push({
      name: 'local',
      url: `postgres://${user}@127.0.0.1:5432/${db}`,
      database: null,
      showQueryText: false,
      statementTimeoutMs: null,
      origin: 'auto-detected',
      autoDetected: true,
    });
  }
  return out;
}

/** `host:port/database` of a PostgreSQL URL, without credentials. */
export function postgresTarget(url: string): string {
  try {
    const u = new URL(url);
    const host = u.hostname || u.searchParams.get('host') || 'localhost';
    const db = decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || '';
    return `${host}:${u.port || '5432'}${db ? `/${db}` : ''}`;
  } catch {
    return redactUrl(url);
  }
}

function isPostgresUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'postgres:' || u.protocol === 'postgresql:';
  } catch {
    return false;
  }
}
