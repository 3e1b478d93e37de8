// Validation of the `models` config section and of the discovery candidates.

import { ConfigError } from '../../config-error';
import { DEFAULT_MAX_LABEL_SETS_PER_METRIC as PAGE_LABEL_SETS_DEFAULT } from '../../prometheus-text';

/** Kinds of model server the source understands. */
export const MODEL_KINDS = ['llamacpp', 'vllm', 'ollama', 'triton', 'health'] as const;

/** A model-server kind. */
export type ModelKind = (typeof MODEL_KINDS)[number];

/** Ports tried on localhost when no endpoint is configured: Ollama, llama.cpp, vLLM/Triton HTTP, Triton metrics. */
export const DEFAULT_DISCOVERY_PORTS = [11434, 8080, 8000, 8002] as const;

/** Per-request timeout when the endpoint does not set one. */
export const DEFAULT_TIMEOUT_MS = 2000;

/** Longest accepted `timeoutMs`. */
const MAX_TIMEOUT_MS = 60_000;

/** Environment variable listing discovery candidates as `host:port,host:port` (`off` for none). */
export const DISCOVERY_ENV = 'RIGWATCH_MODELS_DISCOVERY';

/** One endpoint to watch, validated. */
export interface EndpointConfig {
  /** Series/instance name: `models.<name>.*`. */
  name: string;
  /** Base URL (for `health`: the URL to GET). */
  url: string;
  /** Fixed kind; detected from the server's answers when absent. */
  kind?: ModelKind;
  /** Extra request headers (e.g. Authorization); never logged. */
  headers: Record<string, string>;
  timeoutMs: number;
  /** `health` kind: dotted path of a JSON field to read as the status (e.g. `status` or `data.state`). */
  statusField?: string;
  /** Process id of the server, for VRAM attribution when the port cannot be looked up. */
  pid?: number;
  /** Docker container (name or id) running the server, for VRAM attribution. */
  container?: string;
  /** Triton: metrics URL when not `http://<host>:8002/metrics`. */
  metricsUrl?: string;
  /** True when found by discovery rather than configured. */
  discovered: boolean;
}

/** Default cap on series one model-server endpoint adds to a sample (server totals come first). */
export const DEFAULT_MAX_SERIES_PER_SOURCE = 2000;

/** Default cap on distinct label sets read per metric family of a server's page. */
export const DEFAULT_MAX_LABEL_SETS_PER_METRIC = PAGE_LABEL_SETS_DEFAULT;

/** Default cap on the bytes of one /metrics page (a one-model vLLM page is ~17 KB, a busy one ~100 KB). */
export const DEFAULT_MAX_PAGE_BYTES = 1024 * 1024;

/** Accepted range of `models.maxPageBytes`. */
const PAGE_BYTES_RANGE = [16 * 1024, 256 * 1024 * 1024] as const;

/** Cardinality caps for data a model server sends. */
export interface ModelLimits {
  /** Bytes of one /metrics page read; the read stops there, keeping what was parsed (warned once). */
  maxPageBytes: number;
  /** Distinct label sets kept per metric family of a /metrics page (`le`/`quantile` not counted). */
  maxLabelSetsPerMetric: number;
  /** Series one endpoint adds to a sample; per-model series beyond it are dropped (warned once). */
  maxSeriesPerSource: number;
}

/** What the section asks for. */
export interface ModelsConfig {
  endpoints: EndpointConfig[];
  /** Candidates probed by discovery (empty: discovery off). */
  discovery: { host: string; port: number }[];
  /** Window for percentiles and windowed averages, ms. */
  windowMs: number;
  limits: ModelLimits;
}

type Obj = Record<string, unknown>;

const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
const DEFAULT_WINDOW_SECONDS = 60;

/**
 * Validates the raw `models` section: `undefined` (discovery), an array of endpoints, or
 * `{ endpoints?, discovery?: { ports } | false, windowSeconds? }`. Throws ConfigError naming the key.
 */
export function parseModelsConfig(raw: unknown, env: NodeJS.ProcessEnv): ModelsConfig {
  let endpointsRaw: unknown = undefined;
  let discoveryRaw: unknown = undefined;
  let windowSeconds = DEFAULT_WINDOW_SECONDS;
  const limits: ModelLimits = {
    maxLabelSetsPerMetric: DEFAULT_MAX_LABEL_SETS_PER_METRIC,
    maxSeriesPerSource: DEFAULT_MAX_SERIES_PER_SOURCE,
    maxPageBytes: DEFAULT_MAX_PAGE_BYTES,
  };
  let prefix = 'models';
  if (Array.isArray(raw)) {
    endpointsRaw = raw;
  } else if (raw !== undefined && raw !== null && raw !== true) {
    if (typeof raw !== 'object') throw new ConfigError('models', raw, 'an array of endpoints, an object or false');
    const o = raw as Obj;
    for (const k of Object.keys(o)) {
      if (!['endpoints', 'discovery', 'modelsDiscovery', 'windowSeconds', 'maxLabelSetsPerMetric', 'maxSeriesPerSource', 'maxPageBytes'].includes(k)) {
        throw new ConfigError(
          `models.${k}`,
          o[k],
          'no such key (endpoints, discovery, windowSeconds, maxLabelSetsPerMetric, maxSeriesPerSource, maxPageBytes)',
        );
      }
    }
    endpointsRaw = o.endpoints;
    prefix = 'models.endpoints';
    discoveryRaw = o.discovery ?? o.modelsDiscovery;
    if (o.windowSeconds !== undefined) {
      const w = o.windowSeconds;
      if (typeof w !== 'number' || !Number.isFinite(w) || w < 5 || w > 3600)
        throw new ConfigError('models.windowSeconds', w, 'a number of seconds from 5 to 3600');
      windowSeconds = w;
    }
    for (const k of ['maxLabelSetsPerMetric', 'maxSeriesPerSource'] as const) {
      const v = o[k];
      if (v === undefined) continue;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 1_000_000) throw new ConfigError(`models.${k}`, v, 'an integer from 1 to 1000000');
      limits[k] = v;
    }
    const pb = o.maxPageBytes;
    if (pb !== undefined) {
      const [lo, hi] = PAGE_BYTES_RANGE;
      if (typeof pb !== 'number' || !Number.isInteger(pb) || pb < lo || pb > hi)
        throw new ConfigError('models.maxPageBytes', pb, `an integer number of bytes from ${lo} to ${hi}`);
      limits.maxPageBytes = pb;
    }
  }

  const endpoints: EndpointConfig[] = [];
  if (endpointsRaw !== undefined) {
    if (!Array.isArray(endpointsRaw)) throw new ConfigError(prefix, endpointsRaw, 'an array of endpoints');
    const names = new Set<string>();
    endpointsRaw.forEach((e, i) => {
      const ep = parseEndpoint(e, `${prefix}[${i}]`);
      if (names.has(ep.name)) throw new ConfigError(`${prefix}[${i}].name`, ep.name, 'a name not used by another endpoint');
      names.add(ep.name);
      endpoints.push(ep);
    });
  }

  let discovery: { host: string; port: number }[] = [];
  const discoveryKey =
    raw !== null && typeof raw === 'object' && !Array.isArray(raw) && (raw as Obj).modelsDiscovery !== undefined
      ? 'models.modelsDiscovery'
      : 'models.discovery';
  if (discoveryRaw === false) {
    discovery = [];
  } else if (discoveryRaw !== undefined) {
    if (typeof discoveryRaw !== 'object' || discoveryRaw === null || Array.isArray(discoveryRaw))
      throw new ConfigError(discoveryKey, discoveryRaw, '{ "ports": [11434, "host:port", …] } or false');
    const ports = (discoveryRaw as Obj).ports;
    if (!Array.isArray(ports)) throw new ConfigError(`${discoveryKey}.ports`, ports, 'an array of ports or "host:port" strings');
    discovery = ports.map((p, i) => parseCandidate(p, `${discoveryKey}.ports[${i}]`));
  } else if (endpoints.length === 0) {
    discovery = DEFAULT_DISCOVERY_PORTS.map((port) => ({ host: '127.0.0.1', port }));
  }
  const fromEnv = env[DISCOVERY_ENV];
  if (fromEnv !== undefined) {
    const t = fromEnv.trim();
    discovery = t === '' || t === 'off' ? [] : t.split(',').map((p) => parseCandidate(p.trim(), DISCOVERY_ENV));
  }
  return { endpoints, discovery, windowMs: windowSeconds * 1000, limits };
}

function parseCandidate(v: unknown, key: string): { host: string; port: number } {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 1 || v > 65535) throw new ConfigError(key, v, 'a port number 1–65535');
    return { host: '127.0.0.1', port: v };
  }
  if (typeof v === 'string') {
    const m = /^(?:\[([0-9a-fA-F:]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(v) ?? /^()()(\d{1,5})$/.exec(v);
    if (m) {
      const port = Number(m[3]);
      if (port >= 1 && port <= 65535) return { host: m[1] || m[2] || '127.0.0.1', port };
    }
  }
  throw new ConfigError(key, v, 'a port or "host:port" (e.g. "127.0.0.1:11434")');
}

function parseEndpoint(v: unknown, key: string): EndpointConfig {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new ConfigError(key, v, 'an object { name, url, kind?, headers?, timeoutMs?, statusField?, pid?, container? }');
  const o = v as Obj;
  const known = ['name', 'url', 'kind', 'headers', 'timeoutMs', 'statusField', 'pid', 'container', 'metricsUrl'];
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new ConfigError(`${key}.${k}`, o[k], `no such key (${known.join(', ')})`);
  if (typeof o.name !== 'string' || !NAME_RE.test(o.name)) throw new ConfigError(`${key}.name`, o.name, 'a name of letters, digits, _ or - (at most 64)');
  let url = parseUrl(o.url, `${key}.url`);
  let kind: ModelKind | undefined;
  if (o.kind !== undefined) {
    if (typeof o.kind !== 'string' || !(MODEL_KINDS as readonly string[]).includes(o.kind))
      throw new ConfigError(`${key}.kind`, o.kind, `one of ${MODEL_KINDS.join(', ')}`);
    kind = o.kind as ModelKind;
  }
  const headers: Record<string, string> = {};
  if (o.headers !== undefined) {
    if (typeof o.headers !== 'object' || o.headers === null || Array.isArray(o.headers))
      throw new ConfigError(`${key}.headers`, '(hidden)', 'an object of header name → string');
    for (const [h, hv] of Object.entries(o.headers as Obj)) {
      // Header values are usually secrets (tokens): never echo them in the error.
      if (typeof hv !== 'string' || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(h))
        throw new ConfigError(`${key}.headers.${h}`, '(hidden)', 'a string value under a valid header name');
      headers[h] = hv;
    }
  }
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (o.timeoutMs !== undefined) {
    if (typeof o.timeoutMs !== 'number' || !Number.isInteger(o.timeoutMs) || o.timeoutMs < 50 || o.timeoutMs > MAX_TIMEOUT_MS)
      throw new ConfigError(`${key}.timeoutMs`, o.timeoutMs, `an integer number of ms from 50 to ${MAX_TIMEOUT_MS}`);
    timeoutMs = o.timeoutMs;
  }
  if (o.statusField !== undefined && (typeof o.statusField !== 'string' || o.statusField === ''))
    throw new ConfigError(`${key}.statusField`, o.statusField, 'a JSON field path such as "status" or "data.state"');
  if (o.pid !== undefined && (typeof o.pid !== 'number' || !Number.isInteger(o.pid) || o.pid < 1))
    throw new ConfigError(`${key}.pid`, o.pid, 'a positive integer process id');
  if (o.container !== undefined && (typeof o.container !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(o.container)))
    throw new ConfigError(`${key}.container`, o.container, 'a container name or id');
  const metricsUrl = o.metricsUrl === undefined ? undefined : parseUrl(o.metricsUrl, `${key}.metricsUrl`);
  // fetch refuses URLs with credentials: move them into a Basic Authorization header.
  const u = new URL(url);
  if (u.username !== '' || u.password !== '') {
    if (headers.Authorization === undefined && headers.authorization === undefined) {
      headers.Authorization = 'Basic ' + Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
    }
    u.username = '';
    u.password = '';
    url = u.toString().replace(/\/+$/, '');
  }
  return {
    name: o.name,
    url,
    kind,
    headers,
    timeoutMs,
    statusField: o.statusField as string | undefined,
    pid: o.pid as number | undefined,
    container: o.container as string | undefined,
    metricsUrl,
    discovered: false,
  };
}

function parseUrl(v: unknown, key: string): string {
  if (typeof v === 'string') {
    try {
      const u = new URL(v);
      if (u.protocol === 'http:' || u.protocol === 'https:') return v.replace(/\/+$/, '') || v;
    } catch {
      // fall through to the error below
    }
  }
  throw new ConfigError(key, v, 'an http:// or https:// URL such as "http://127.0.0.1:8000"');
}

/** Instance name for a discovered candidate, e.g. `localhost_11434`. */
export function discoveredName(host: string, port: number): string {
  const h = isLoopbackHost(host) ? 'localhost' : host.replace(/[^A-Za-z0-9]/g, '_');
  return `${h}_${port}`;
}

/** True for loopback host names and addresses. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || h.startsWith('127.') || h === '0.0.0.0' || h === '::';
}
