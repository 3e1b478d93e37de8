// The `docker` config section and where the engine is: config `socket` > DOCKER_HOST > /var/run/docker.sock.

import { ConfigError } from '../../config-error';
import { DEFAULT_DOCKER_SOCKET, parseDockerHost, type DockerEndpoint } from './engine-client';

/** Default cadence of the background stats readings, ms. */
export const DEFAULT_STATS_INTERVAL_MS = 5000;
/** Lowest accepted stats cadence, ms (one stats answer itself takes about a second). */
export const MIN_STATS_INTERVAL_MS = 1000;
/** Highest accepted stats cadence, ms. */
export const MAX_STATS_INTERVAL_MS = 600_000;

const KEYS = ['socket', 'statsIntervalMs', 'containers'] as const;

/** The validated `docker` section. */
export interface DockerConfig {
  /** `socket` as given (path, unix:// or tcp://), undefined when not set. */
  socket: string | undefined;
  statsIntervalMs: number;
  /** Name patterns (`*` wildcard, `!` to exclude); empty = every container. */
  containers: string[];
}

/** Validates the raw `docker` section (undefined, null or true mean defaults); throws ConfigError. */
export function parseDockerConfig(raw: unknown): DockerConfig {
  const out: DockerConfig = { socket: undefined, statsIntervalMs: DEFAULT_STATS_INTERVAL_MS, containers: [] };
  if (raw === undefined || raw === null || raw === true) return out;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError('docker', raw, 'an object {socket, statsIntervalMs, containers}, or false to disable');
  }
  const r = raw as Record<string, unknown>;
  for (const k of Object.keys(r)) {
    if (!(KEYS as readonly string[]).includes(k)) throw new ConfigError(`docker.${k}`, r[k], `no such key (${KEYS.join(', ')})`);
  }
  if (r.socket !== undefined) {
    if (typeof r.socket !== 'string' || r.socket.trim() === '') {
      throw new ConfigError('docker.socket', r.socket, 'a socket path, unix:///path/to/docker.sock or tcp://host:port');
    }
    const parsed = parseDockerHost(r.socket);
    if ('error' in parsed) throw new ConfigError('docker.socket', r.socket, parsed.error);
    out.socket = r.socket;
  }
  if (r.statsIntervalMs !== undefined) {
    const v = r.statsIntervalMs;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < MIN_STATS_INTERVAL_MS || v > MAX_STATS_INTERVAL_MS) {
      throw new ConfigError('docker.statsIntervalMs', v, `milliseconds from ${MIN_STATS_INTERVAL_MS} to ${MAX_STATS_INTERVAL_MS}`);
    }
    out.statsIntervalMs = Math.round(v);
  }
  if (r.containers !== undefined) {
    const v = r.containers;
    if (!Array.isArray(v) || v.some((p) => typeof p !== 'string' || p.replace(/^!/, '') === '')) {
      throw new ConfigError('docker.containers', v, 'an array of container name patterns such as ["web", "worker-*", "!scratch-*"]');
    }
    out.containers = v as string[];
  }
  return out;
}

/** Where the endpoint came from: decides how loudly its absence is reported. */
export type EndpointOrigin = 'config' | 'env' | 'default';

/** The resolved endpoint, or why the environment's one cannot be used. */
export type EndpointChoice = { endpoint: DockerEndpoint; origin: EndpointOrigin } | { error: string; origin: EndpointOrigin };

/** Picks the engine endpoint: config `socket`, then DOCKER_HOST, then the default socket. */
export function resolveEndpoint(config: DockerConfig, env: NodeJS.ProcessEnv): EndpointChoice {
  if (config.socket !== undefined) {
    const p = parseDockerHost(config.socket);
    return 'error' in p ? { error: `docker.socket: expected ${p.error}`, origin: 'config' } : { endpoint: p, origin: 'config' };
  }
  const dh = env.DOCKER_HOST;
  if (dh !== undefined && dh.trim() !== '') {
    const p = parseDockerHost(dh);
    if ('error' in p) return { error: `DOCKER_HOST: expected ${p.error}`, origin: 'env' };
    if (p.kind === 'tcp' && env.DOCKER_TLS_VERIFY && env.DOCKER_TLS_VERIFY !== '0') {
      return {
        error: `DOCKER_HOST ${p.display} needs TLS (DOCKER_TLS_VERIFY is set), which Rigwatch does not speak; point docker.socket at the engine's unix socket`,
        origin: 'env',
      };
    }
    return { endpoint: p, origin: 'env' };
  }
  return { endpoint: { kind: 'unix', socketPath: DEFAULT_DOCKER_SOCKET, display: `unix://${DEFAULT_DOCKER_SOCKET}` }, origin: 'default' };
}

/** Compiles the `containers` patterns into a name predicate. */
export function containerFilter(patterns: string[]): (name: string) => boolean {
  const toRe = (p: string): RegExp =>
    new RegExp(
      '^' +
        p
          .split('*')
          .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*') +
        '$',
    );
  const include = patterns.filter((p) => !p.startsWith('!')).map(toRe);
  const exclude = patterns.filter((p) => p.startsWith('!')).map((p) => toRe(p.slice(1)));
  return (name) => (include.length === 0 || include.some((re) => re.test(name))) && !exclude.some((re) => re.test(name));
}
