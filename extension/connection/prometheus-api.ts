// A fleet view through Prometheus: which scraped hosts are Rigwatch collectors, their GPU numbers and
// firing alerts, and range queries for a host's charts. Uses the HTTP API (`/api/v1/query`,
// `/api/v1/query_range`) with Node's fetch. Free of the vscode module.

import type { HistorySeries } from '../../protocol';
import { formatLabels, mapSeries } from '../../protocol/prometheus';

/** Longest a Prometheus call may take, in ms. */
export const PROMETHEUS_TIMEOUT_MS = 10_000;

/** One sample of an instant vector. */
export interface VectorSample {
  labels: Record<string, string>;
  value: number;
}

/** One series of a range answer. */
export interface MatrixSeries {
  labels: Record<string, string>;
  values: [t: number, v: number][];
}

/** A GPU as Prometheus last saw it. */
export interface FleetGpu {
  index: string;
  utilization: number | null;
  memoryUsed: number | null;
  memoryTotal: number | null;
}

/** A Rigwatch collector scraped by Prometheus. */
export interface FleetHost {
  /** Prometheus `instance` label (host:port of the collector). */
  instance: string;
  job: string;
  hostname: string;
  version: string;
  /** Prometheus' own `up` for the target. */
  up: boolean;
  gpus: FleetGpu[];
  firingAlerts: { alertname: string; severity: string; series: string }[];
}

/** A Prometheus HTTP API client. */
export class PrometheusApi {
  constructor(
    readonly baseUrl: string,
    private readonly bearerToken?: string,
  ) {}

  private async get(path: string, params: Record<string, string>): Promise<unknown> {
    const url = new URL(path, this.baseUrl.endsWith('/') ? this.baseUrl : this.baseUrl + '/');
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.bearerToken) headers.authorization = `Bearer ${this.bearerToken}`;
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: AbortSignal.timeout(PROMETHEUS_TIMEOUT_MS) });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code;
      throw new Error(`cannot reach Prometheus at ${this.baseUrl}: ${cause ?? (e as Error).message}`);
    }
    const text = await res.text();
    let body: { status?: string; data?: unknown; error?: string };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new Error(`unexpected response from ${this.baseUrl} (${res.status}): ${text.slice(0, 80)}`);
    }
    if (res.status === 401 || res.status === 403) throw new Error(`Prometheus at ${this.baseUrl} refused the request (${res.status}): check the bearer token`);
    if (body.status !== 'success') throw new Error(`Prometheus query failed: ${body.error ?? res.status}`);
    return body.data;
  }

  /** Instant query. */
  async query(expr: string, time?: number): Promise<VectorSample[]> {
    const data = (await this.get('api/v1/query', time ? { query: expr, time: String(time / 1000) } : { query: expr })) as {
      resultType: string;
      result: { metric: Record<string, string>; value: [number, string] }[];
    };
    if (data.resultType !== 'vector') throw new Error(`expected a vector from "${expr}", got ${data.resultType}`);
    return data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
  }

  /** Range query; times in epoch ms, step in seconds. */
  async queryRange(expr: string, startMs: number, endMs: number, stepSeconds: number): Promise<MatrixSeries[]> {
    const data = (await this.get('api/v1/query_range', {
      query: expr,
      start: String(startMs / 1000),
      end: String(endMs / 1000),
      step: String(stepSeconds),
    })) as { resultType: string; result: { metric: Record<string, string>; values: [number, string][] }[] };
    if (data.resultType !== 'matrix') throw new Error(`expected a matrix from "${expr}", got ${data.resultType}`);
    return data.result.map((r) => ({ labels: r.metric, values: r.values.map(([t, v]) => [t * 1000, Number(v)] as [number, number]) }));
  }
}

/** Step (seconds) so a range fits a chart's point budget; never finer than the scrape interval. */
export function stepFor(rangeMs: number, points: number, minStepSeconds = 1): number {
  return Math.max(minStepSeconds, Math.ceil(rangeMs / 1000 / Math.max(1, points)));
}

/** PromQL selector for one Rigwatch series on one scraped instance (the inverse of /metrics naming). */
export function seriesSelector(series: string, instance: string): string {
  const m = mapSeries(series);
  return `${m.name}${formatLabels({ ...m.labels, instance })}`;
}

/** Lists the scraped targets that are Rigwatch collectors, with GPU numbers and firing alerts. */
export async function listFleet(api: PrometheusApi): Promise<FleetHost[]> {
  const [info, up, util, used, total, alerts] = await Promise.all([
    api.query('rigwatch_build_info'),
    api.query('up'),
    api.query('rigwatch_gpu_utilization_ratio'),
    api.query('rigwatch_gpu_memory_used_bytes'),
    api.query('rigwatch_gpu_memory_total_bytes'),
    api.query('rigwatch_alerts{alertstate="firing"}'),
  ]);
  const hosts = new Map<string, FleetHost>();
  for (const s of info) {
    const instance = s.labels.instance ?? '';
    hosts.set(instance, {
      instance,
      job: s.labels.job ?? '',
      hostname: s.labels.hostname ?? instance,
      version: s.labels.version ?? '',
      up: false,
      gpus: [],
      firingAlerts: [],
    });
  }
  for (const s of up) {
    const h = hosts.get(s.labels.instance ?? '');
    if (h) h.up = s.value === 1;
  }
  const gpu = (h: FleetHost, index: string): FleetGpu => {
    let g = h.gpus.find((x) => x.index === index);
    if (!g) h.gpus.push((g = { index, utilization: null, memoryUsed: null, memoryTotal: null }));
    return g;
  };
  for (const [list, key] of [
    [util, 'utilization'],
    [used, 'memoryUsed'],
    [total, 'memoryTotal'],
  ] as const) {
    for (const s of list) {
      const h = hosts.get(s.labels.instance ?? '');
      if (h && s.labels.gpu !== undefined) gpu(h, s.labels.gpu)[key] = s.value;
    }
  }
  for (const s of alerts) {
    const h = hosts.get(s.labels.instance ?? '');
    if (h) h.firingAlerts.push({ alertname: s.labels.alertname ?? '', severity: s.labels.severity ?? '', series: s.labels.series ?? '' });
  }
  for (const h of hosts.values()) h.gpus.sort((a, b) => Number(a.index) - Number(b.index));
  return [...hosts.values()].sort((a, b) => a.hostname.localeCompare(b.hostname) || a.instance.localeCompare(b.instance));
}

/** A host's history for the given Rigwatch series from Prometheus, in the collector's history shape. */
export async function fleetHistory(
  api: PrometheusApi,
  instance: string,
  series: string[],
  fromMs: number,
  toMs: number,
  points: number,
): Promise<HistorySeries[]> {
  const step = stepFor(toMs - fromMs, points);
  return Promise.all(
    series.map(async (name) => {
      const r = await api.queryRange(seriesSelector(name, instance), fromMs, toMs, step);
      const values = r[0]?.values ?? [];
      return { name, stepMs: step * 1000, points: values.map(([t, v]) => [t, v, v, v] as [number, number, number, number]) };
    }),
  );
}
