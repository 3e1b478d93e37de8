// Pure parsers for Docker Engine API responses (`/version`, `/containers/json`, `/containers/<id>/json`,
// `/containers/<id>/stats?stream=false`). JSON in, typed values out; tested on captured engine output.

import type { DockerContainer, DockerHealth } from '../../../protocol/details/docker';

/** Longest health-check output kept per container, characters (it travels in every tick's details). */
export const HEALTH_OUTPUT_MAX_CHARS = 500;

/** A container as `/containers/json?all=1` lists it. */
export interface ListedContainer {
  id: string;
  name: string;
  image: string;
  state: string;
  status: string;
}

/** What `/containers/<id>/json` adds to the list entry: the published container's fields, as protocol/ defines them. */
export type InspectedContainer = Pick<
  DockerContainer,
  | 'id'
  | 'name'
  | 'image'
  | 'state'
  | 'health'
  | 'lastHealthOutput'
  | 'lastHealthExitCode'
  | 'lastHealthAt'
  | 'healthFailingStreak'
  | 'restartCount'
  | 'startedAt'
  | 'exitCode'
>;

/** CPU and memory from one `stats?stream=false` reading. */
export interface ContainerStats {
  /** Epoch ms of the reading; null when the engine had none (container not running). */
  readAt: number | null;
  /** CPU over the window between `precpu_stats` and `cpu_stats`; 1 = one core. */
  cpuRatio: number | null;
  memoryUsedBytes: number | null;
  memoryLimitBytes: number | null;
}

/** Engine identity from `/version`. */
export interface EngineVersion {
  version: string | null;
  apiVersion: string | null;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`.slice(0, 60);
}

function obj(v: unknown, what: string): Obj {
  if (!isObj(v)) throw new Error(`Docker API ${what}: expected an object, got ${describe(v)}`);
  return v;
}

function optObj(v: unknown): Obj | undefined {
  return isObj(v) ? v : undefined;
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Parses an engine timestamp (RFC 3339 with nanoseconds) to epoch ms; Go's zero time becomes null. */
export function parseEngineTime(v: unknown): number | null {
  if (typeof v !== 'string' || v.startsWith('0001-01-01')) return null;
  // Date.parse accepts at most millisecond precision reliably, so cut the nanoseconds.
  const t = Date.parse(v.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isFinite(t) ? t : null;
}

/** Container name without the leading `/`; a linked alias (`/web/db`) is skipped for the real name. */
export function containerName(names: unknown, fallback: string): string {
  if (typeof names === 'string') return names.replace(/^\//, '');
  if (Array.isArray(names)) {
    const plain = names.filter((n): n is string => typeof n === 'string');
    const own = plain.find((n) => n.lastIndexOf('/') === 0) ?? plain[0];
    if (own) return own.replace(/^\//, '');
  }
  return fallback;
}

/** Parses `/containers/json?all=1`. */
export function parseContainerList(json: unknown): ListedContainer[] {
  if (!Array.isArray(json)) throw new Error(`Docker API /containers/json: expected an array, got ${describe(json)}`);
  const out: ListedContainer[] = [];
  for (const item of json) {
    if (!isObj(item) || typeof item.Id !== 'string') continue;
    out.push({
      id: item.Id,
      name: containerName(item.Names, item.Id.slice(0, 12)),
      image: str(item.Image) ?? '',
      state: str(item.State) ?? 'unknown',
      status: str(item.Status) ?? '',
    });
  }
  return out;
}

/** The health shown in a list entry's status line ("Up 2 minutes (unhealthy)"), or null. */
export function healthFromStatus(status: string): DockerHealth | null {
  const m = /\((healthy|unhealthy|health: starting)\)\s*$/.exec(status);
  if (!m) return null;
  return m[1] === 'health: starting' ? 'starting' : (m[1] as DockerHealth);
}

function parseHealth(v: unknown): DockerHealth | null {
  return v === 'healthy' || v === 'unhealthy' || v === 'starting' ? v : null;
}

/** Trims a health-check output and caps its length. */
export function trimHealthOutput(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const t = v.trim();
  return t.length > HEALTH_OUTPUT_MAX_CHARS ? t.slice(0, HEALTH_OUTPUT_MAX_CHARS - 1) + '…' : t;
}

/** Parses `/containers/<id>/json` (inspect). */
export function parseInspect(json: unknown): InspectedContainer {
  const c = obj(json, '/containers/<id>/json');
  if (typeof c.Id !== 'string') throw new Error('Docker API /containers/<id>/json: no "Id" in the answer');
  const state = optObj(c.State) ?? {};
  const config = optObj(c.Config) ?? {};
  const health = optObj(state.Health);
  const log = health && Array.isArray(health.Log) ? health.Log.filter(isObj) : [];
  // The engine appends to Log and keeps the last five; the last one is the newest. A probe killed by the
  // container or the engine stopping leaves an entry with no output: the newest entry that says something
  // is the one that explains the health state.
  const said = log.filter((e) => typeof e.Output === 'string' && e.Output.trim() !== '');
  const last = said.length > 0 ? said[said.length - 1] : log.length > 0 ? log[log.length - 1] : undefined;
  const status = parseHealth(health?.Status);
  return {
    id: c.Id,
    name: containerName(c.Name, c.Id.slice(0, 12)),
    image: str(config.Image) ?? str(c.Image) ?? '',
    state: str(state.Status) ?? 'unknown',
    health: status,
    lastHealthOutput: status && last ? trimHealthOutput(last.Output) : null,
    lastHealthExitCode: status && last ? num(last.ExitCode) : null,
    lastHealthAt: status && last ? parseEngineTime(last.End) : null,
    healthFailingStreak: status ? num(health?.FailingStreak) : null,
    restartCount: num(c.RestartCount),
    startedAt: parseEngineTime(state.StartedAt),
    exitCode: num(state.ExitCode),
  };
}

/**
 * CPU use between the two readings in a stats answer, as a ratio of one core — the docker CLI's
 * `CPU %` divided by 100: (Δ container CPU time / Δ system CPU time) × online CPUs.
 * Null when the window is empty (no previous reading, container not running).
 */
export function cpuRatioFromStats(cpu: Obj | undefined, precpu: Obj | undefined): number | null {
  const total = num(optObj(cpu?.cpu_usage)?.total_usage);
  const preTotal = num(optObj(precpu?.cpu_usage)?.total_usage);
  const system = num(cpu?.system_cpu_usage);
  const preSystem = num(precpu?.system_cpu_usage);
  if (total === null || preTotal === null || system === null || preSystem === null) return null;
  let online = num(cpu?.online_cpus) ?? 0;
  if (online === 0) {
    const per = optObj(cpu?.cpu_usage)?.percpu_usage;
    online = Array.isArray(per) ? per.length : 0;
  }
  const systemDelta = system - preSystem;
  if (systemDelta <= 0 || online === 0 || preSystem === 0) return null;
  const cpuDelta = total - preTotal;
  // A counter that went backwards (container restarted in between) is not "idle"; the CLI shows 0 there,
  // but 0 would claim a measurement, so report null.
  if (cpuDelta < 0) return null;
  return (cpuDelta / systemDelta) * online;
}

/**
 * Memory in use as the docker CLI shows it: usage minus the inactive file cache
 * (`total_inactive_file` on cgroup v1, `inactive_file` on cgroup v2), or plain usage when neither is smaller.
 */
export function memoryUsedFromStats(mem: Obj | undefined): number | null {
  const usage = num(mem?.usage);
  if (usage === null) return null;
  const stats = optObj(mem?.stats) ?? {};
  const v1 = num(stats.total_inactive_file);
  if (v1 !== null && v1 < usage) return usage - v1;
  const v2 = num(stats.inactive_file);
  if (v2 !== null && v2 < usage) return usage - v2;
  return usage;
}

/** Parses `/containers/<id>/stats?stream=false`. */
export function parseStats(json: unknown): ContainerStats {
  const s = obj(json, '/containers/<id>/stats');
  const mem = optObj(s.memory_stats);
  const limit = num(mem?.limit);
  return {
    readAt: parseEngineTime(s.read),
    cpuRatio: cpuRatioFromStats(optObj(s.cpu_stats), optObj(s.precpu_stats)),
    memoryUsedBytes: memoryUsedFromStats(mem),
    memoryLimitBytes: limit !== null && limit > 0 ? limit : null,
  };
}

/** Parses `/version`. */
export function parseVersion(json: unknown): EngineVersion {
  const v = obj(json, '/version');
  return { version: str(v.Version), apiVersion: str(v.ApiVersion) };
}
