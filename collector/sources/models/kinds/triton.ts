// Triton Inference Server: `/v2/health/ready` on the HTTP port and the Prometheus page on the
// metrics port (8002 by default). Per model: inference count/s, and mean queue / compute / request
// time per request over the window, from the cumulative `nv_inference_*_duration_us` counters.

import type { LoadedModel } from '../../../../protocol/details/models';
import type { ParsedMetrics } from '../../../prometheus-text';
import { CounterRate, CounterWindow, sumByLabel } from '../../../prometheus-text';
import { SourceError } from '../../../source';
import { join, jsonBody, requireOk, safeUrl, unexpected } from '../http';
import type { KindContext, KindSample, KindSampler, MetricValues } from './types';
import { get, getPage } from './types';

/** Triton's default metrics port. */
export const TRITON_METRICS_PORT = 8002;
const US_PER_S = 1e6;
const VERSION_REFRESH_MS = 5 * 60_000;

/** Raw per-model counters of one page (versions of a model added up). */
export interface TritonModelReading {
  success: number | null;
  failure: number | null;
  inferences: number | null;
  pending: number | null;
  requestUs: number | null;
  queueUs: number | null;
  computeUs: number | null;
}

/** True when a page is Triton's. */
export function isTritonPage(page: ParsedMetrics): boolean {
  return page.families.has('nv_inference_count') || page.families.has('nv_inference_request_success');
}

/** Reads a Triton page per `model` label (versions added up); linear in the page size. */
export function readTritonPage(page: ParsedMetrics): Map<string, TritonModelReading> {
  const by = (family: string): Map<string, number> => sumByLabel(page, family, 'model');
  const success = by('nv_inference_request_success');
  const failure = by('nv_inference_request_failure');
  const count = by('nv_inference_count');
  const pending = by('nv_inference_pending_request_count');
  const request = by('nv_inference_request_duration_us');
  const queue = by('nv_inference_queue_duration_us');
  const cIn = by('nv_inference_compute_input_duration_us');
  const cInf = by('nv_inference_compute_infer_duration_us');
  const cOut = by('nv_inference_compute_output_duration_us');
  const out = new Map<string, TritonModelReading>();
  for (const model of success.keys()) {
    const i = cIn.get(model),
      f = cInf.get(model),
      o = cOut.get(model);
    out.set(model, {
      success: success.get(model) ?? null,
      failure: failure.get(model) ?? null,
      inferences: count.get(model) ?? null,
      pending: pending.get(model) ?? null,
      requestUs: request.get(model) ?? null,
      queueUs: queue.get(model) ?? null,
      computeUs: i === undefined && f === undefined && o === undefined ? null : (i ?? 0) + (f ?? 0) + (o ?? 0),
    });
  }
  return out;
}

/** Default metrics URL for a Triton HTTP base URL: same host, port 8002. */
export function defaultTritonMetricsUrl(baseUrl: string): string {
  const u = new URL(baseUrl);
  u.port = String(TRITON_METRICS_PORT);
  u.pathname = '/metrics';
  u.search = '';
  return u.toString();
}

interface ModelState {
  inferRate: CounterRate;
  successRate: CounterRate;
  failureRate: CounterRate;
  success: CounterWindow;
  requestUs: CounterWindow;
  queueUs: CounterWindow;
  computeUs: CounterWindow;
}

/** Sampler for Triton; `metricsOnly` when the endpoint is the metrics port itself (no /v2 there). */
export class TritonSampler implements KindSampler {
  readonly kind = 'triton' as const;
  private readonly perModel = new Map<string, ModelState>();
  private readonly total: ModelState;
  private version: string | null = null;
  private versionAt = -Infinity;

  constructor(
    private readonly windowMs: number,
    private readonly metricsOnly = false,
  ) {
    this.total = this.freshState();
  }

  private freshState(): ModelState {
    const w = (): CounterWindow => new CounterWindow(this.windowMs);
    return {
      inferRate: new CounterRate(),
      successRate: new CounterRate(),
      failureRate: new CounterRate(),
      success: w(),
      requestUs: w(),
      queueUs: w(),
      computeUs: w(),
    };
  }

  async sample(kc: KindContext): Promise<KindSample> {
    const metricsUrl = kc.metricsUrl ?? (this.metricsOnly ? join(kc.baseUrl, '/metrics') : defaultTritonMetricsUrl(kc.baseUrl));
    const wantVersion = !this.metricsOnly && kc.now - this.versionAt >= VERSION_REFRESH_MS;
    const [ready, metricsA, meta] = await Promise.all([
      this.metricsOnly ? Promise.resolve(null) : get(kc, '/v2/health/ready'),
      getPage(kc, metricsUrl).catch((e: unknown) => (this.metricsOnly ? Promise.reject(e) : e instanceof SourceError ? e : Promise.reject(e))),
      wantVersion ? get(kc, '/v2').catch(() => null) : Promise.resolve(null),
    ]);
    if (ready !== null && ready.status !== 200) {
      if (ready.status >= 500 || ready.status === 400) throw new SourceError(`Triton at ${safeUrl(kc.baseUrl)} is not ready (HTTP ${ready.status})`);
      throw unexpected(ready.url, ready.body);
    }
    if (meta !== null && meta.status === 200) {
      const v = (jsonBody(meta) as { version?: unknown }).version;
      if (typeof v === 'string') this.version = v;
      this.versionAt = kc.now;
    }
    const metrics: MetricValues = {};
    const perModel: Record<string, MetricValues> = {};
    const models: LoadedModel[] = [];
    let status = 'ready';
    if (metricsA instanceof SourceError) {
      // The server is ready but its metrics port is not reachable (--allow-metrics=false, other port).
      status = `ready; metrics unavailable: ${metricsA.message}`;
      kc.log.warnOnce(
        `triton-metrics:${metricsUrl}`,
        `Triton at ${safeUrl(kc.baseUrl)}: ${metricsA.message}; set metricsUrl if the metrics port is not ${TRITON_METRICS_PORT}`,
      );
    } else {
      requireOk(metricsA);
      const page = metricsA.page;
      if (!isTritonPage(page)) throw unexpected(metricsA.url, metricsA.body);
      const readings = readTritonPage(page);
      const merged: TritonModelReading = { success: null, failure: null, inferences: null, pending: null, requestUs: null, queueUs: null, computeUs: null };
      for (const [model, r] of readings) {
        for (const k of Object.keys(merged) as (keyof TritonModelReading)[]) {
          const v = r[k];
          if (v !== null) merged[k] = (merged[k] ?? 0) + v;
        }
        let st = this.perModel.get(model);
        if (st === undefined) {
          st = this.freshState();
          this.perModel.set(model, st);
        }
        const values = this.values(kc.now, st, r);
        perModel[model] = values;
        models.push({
          name: model,
          sizeBytes: null,
          vramBytes: null,
          expiresAt: null,
          requestsWaiting: r.pending,
          inferencesPerSecond: values.inferences_per_second,
          queueLatencySeconds: values.queue_latency_avg_seconds,
          computeLatencySeconds: values.compute_latency_avg_seconds,
        });
      }
      for (const model of [...this.perModel.keys()]) if (!readings.has(model)) this.perModel.delete(model);
      Object.assign(metrics, this.values(kc.now, this.total, merged));
    }
    return {
      latencySeconds: (ready ?? (metricsA instanceof SourceError ? null : metricsA))?.latencySeconds ?? 0,
      metrics,
      perModel,
      models,
      server: { version: this.version, status, slots: null },
    };
  }

  private values(now: number, st: ModelState, r: TritonModelReading): MetricValues {
    const dSuccess = st.success.update(now, r.success);
    const per = (w: CounterWindow, v: number | null): number | null => {
      const d = w.update(now, v);
      return d === null || dSuccess === null || dSuccess <= 0 ? null : d / dSuccess / US_PER_S;
    };
    return {
      requests_waiting_count: r.pending,
      inferences_per_second: st.inferRate.update(now, r.inferences),
      requests_per_second: st.successRate.update(now, r.success),
      failures_per_second: st.failureRate.update(now, r.failure),
      request_latency_avg_seconds: per(st.requestUs, r.requestUs),
      queue_latency_avg_seconds: per(st.queueUs, r.queueUs),
      compute_latency_avg_seconds: per(st.computeUs, r.computeUs),
    };
  }
}
