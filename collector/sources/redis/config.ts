// Which Redis instances to watch: the `redis` config list, plus REDIS_URL when set, or the default
// local instance (127.0.0.1:6379) when neither names one. Validates and throws ConfigError.

import { ConfigError } from '../../config-error';
import { redactUrl } from '../../redact';

/** Default local instance probed when nothing is configured. */
export const REDIS_AUTO_URL = 'redis://127.0.0.1:6379';

/** One Redis instance to watch, validated. */
export interface RedisInstanceConfig {
  /** Series/instance name: `redis.<name>.…`. */
  name: string;
  /** Connection URL (may contain a password: never log it, use `redactUrl`). */
  url: string;
  /** Where it came from, for messages: `redis[0]`, `REDIS_URL` or `auto-detected`. */
  origin: string;
  /** True for the default local instance probed without being asked. */
  autoDetected: boolean;
}

const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
const KEYS = new Set(['name', 'url']);

/**
 * Resolves the instances from the raw `redis` config section and the environment.
 * `undefined`/`null`/`true`/`[]` mean "nothing configured". Throws ConfigError naming e.g. `redis[0].url`.
 */
export function resolveRedisInstances(config: unknown, env: NodeJS.ProcessEnv): RedisInstanceConfig[] {
  const out: RedisInstanceConfig[] = [];
  const list = config === undefined || config === null || config === true ? [] : config;
  const items = Array.isArray(list) ? list : typeof list === 'object' ? [list] : null;
  if (items === null) throw new ConfigError('redis', config, 'a list of {name, url} objects, or false to disable');
  items.forEach((item: unknown, i) => {
    const key = Array.isArray(list) ? `redis[${i}]` : 'redis';
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new ConfigError(key, item, 'an object {name, url}');
    }
    const o = item as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!KEYS.has(k)) throw new ConfigError(`${key}.${k}`, o[k], `no such key (allowed: ${[...KEYS].join(', ')})`);
    }
    if (typeof o.name !== 'string' || !NAME_RE.test(o.name)) {
      throw new ConfigError(`${key}.name`, o.name, 'a name of 1–64 letters, digits, _ or -');
    }
    if (out.some((x) => x.name === o.name)) throw new ConfigError(`${key}.name`, o.name, 'a name not used by another redis instance');
    if (typeof o.url !== 'string' || !isRedisUrl(o.url)) {
      throw new ConfigError(
        `${key}.url`,
        typeof o.url === 'string' ? redactUrl(o.url) : o.url,
        'a redis:// or rediss:// URL, e.g. "redis://:password@127.0.0.1:6379/0"',
      );
    }
    out.push({ name: o.name, url: o.url, origin: key, autoDetected: false });
  });
  const envUrl = env.REDIS_URL;
  if (envUrl && isRedisUrl(envUrl) && !out.some((x) => x.url === envUrl) && !out.some((x) => x.name === 'default')) {
    out.push({ name: 'default', url: envUrl, origin: 'REDIS_URL', autoDetected: false });
  }
  if (out.length === 0) out.push({ name: 'local', url: REDIS_AUTO_URL, origin: 'auto-detected', autoDetected: true });
  return out;
}

/** `host:port[/db]` of a Redis URL, without credentials. */
export function redisTarget(url: string): string {
  try {
    const u = new URL(url);
    const db = u.pathname && u.pathname !== '/' ? u.pathname : '';
    return `${u.hostname || '127.0.0.1'}:${u.port || '6379'}${db}`;
  } catch {
    return redactUrl(url);
  }
}

function isRedisUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'redis:' || u.protocol === 'rediss:') && u.hostname !== '';
  } catch {
    return false;
  }
}
