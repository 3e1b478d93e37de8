// vLLM: the `/metrics` page (metric names of vllm/engine/metrics.py, 0.4–0.6, and the V1 engine's
// `kv_cache_usage_perc`), read per `model_name` label; `/version` for the version.

import type { LoadedModel } from '../../../../protocol/details/models';
import type { Histogram, ParsedMetrics } from '../../../prometheus-text';
import { CounterRate, HistogramWindow, groupByLabel, histogramsByLabel, sumByLabel, sumHistograms, windowStats } from '../../../prometheus-text';
import { requireOk, unexpected } from '../http';
import type { KindContext, KindSample, KindSampler, MetricValues } from './types';
import { get, getPage } from './types';

const VERSION_REFRESH_MS = 5 * 60_000;
/** KV-cache gauge names across versions (0.4–0.9 V0: gpu_cache_usage_perc; V1: kv_cache_usage_perc). */
const KV_GAUGES = ['vllm:gpu_cache_usage_perc', 'vllm:kv_cache_usage_perc'];
const E2E = 'vllm:e2e_request_latency_seconds';
const TTFT = 'vllm:time_to_first_token_seconds';

/** Raw per-model readings of one page. */
export interface VllmModelReading {
  running: number | null;
  waiting: number | null;
  swapped: number | null;
  kvCache: number | null;
  promptTokensTotal: number | null;
  generationTokensTotal: number | null;
  e2e: Histogram | null;
  ttft: Histogram | null;
}

/** True when a page is a vLLM page. */
export function isVllmPage(page: ParsedMetrics): boolean {
  for (const name of page.families.keys()) if (name.startsWith('vllm:')) return true;
  return false;
}

/** Reads one page per `model_name` (engines of the same model are added up); linear in the page size. */
export function readVllmPage(page: ParsedMetrics): Map<string, VllmModelReading> {
  const L = 'model_name';
  const models = new Set<string>();
  for (const [name, f] of page.families) {
    if (!name.startsWith('vllm:')) continue;
    for (const s of f.samples) {
      const m = s.labels[L];
      if (m !== undefined) models.add(m);
    }
  }
  // Several engines (data parallel) each report a ratio: the mean is the model's usage; a later
  // gauge name (V1) wins over an earlier one when a page has both.
  const kv = new Map<string, number>();
  for (const g of KV_GAUGES) {
    for (const [m, list] of groupByLabel(page, g, L)) kv.set(m, list.reduce((a, s) => a + s.value, 0) / list.length);
  }
  const running = sumByLabel(page, 'vllm:num_requests_running', L);
  const waiting = sumByLabel(page, 'vllm:num_requests_waiting', L);
  const swapped = sumByLabel(page, 'vllm:num_requests_swapped', L);
  const prompt = sumByLabel(page, 'vllm:prompt_tokens_total', L);
  const gen = sumByLabel(page, 'vllm:generation_tokens_total', L);
  const e2e = histogramsByLabel(page, E2E, L);
  const ttft = histogramsByLabel(page, TTFT, L);
  const out = new Map<string, VllmModelReading>();
  for (const model of models) {
    out.set(model, {
      running: running.get(model) ?? null,
      waiting: waiting.get(model) ?? null,
      swapped: swapped.get(model) ?? null,
      kvCache: kv.get(model) ?? null,
      promptTokensTotal: prompt.get(model) ?? null,
      generationTokensTotal: gen.get(model) ?? null,
      e2e: e2e.get(model) ?? null,
      ttft: ttft.get(model) ?? null,
    });
  }
  return out;
}

interface ModelState {
  prompt: CounterRate;
  gen: CounterRate;
  e2e: HistogramWindow;
  ttft: HistogramWindow;
}

/** Sampler for vLLM. */
export class VllmSampler implements KindSampler {
  readonly kind = 'vllm' as const;
  private readonly perModel = new Map<string, ModelState>();
  private readonly total: ModelState;
  private version: string | null = null;
  private versionAt = -Infinity;

  constructor(private readonly windowMs: number) {
    this.total = this.freshState();
  }

  private freshState(): ModelState {
    return { prompt: new CounterRate(), gen: new CounterRate(), e2e: new HistogramWindow(this.windowMs), ttft: new HistogramWindow(this.windowMs) };
  }

  async sample(kc: KindContext): Promise<KindSample> {
    const wantVersion = kc.now - this.versionAt >= VERSION_REFRESH_MS;
    const [a, ver] = await Promise.all([getPage(kc, '/metrics'), wantVersion ? get(kc, '/version').catch(() => null) : Promise.resolve(null)]);
    requireOk(a);
    const page = a.page;
    if (!isVllmPage(page)) throw unexpected(a.url, a.body);
    if (ver !== null && ver.status === 200) {
      try {
        const v = (JSON.parse(ver.body) as { version?: unknown }).version;
        if (typeof v === 'string') this.version = v;
        this.versionAt = kc.now;
      } catch {
        // no version is fine
      }
    }
    const readings = readVllmPage(page);
    const perModel: Record<string, MetricValues> = {};
    const models: LoadedModel[] = [];
    const sum = (f: (r: VllmModelReading) => number | null): number | null => {
      let t: number | null = null;
      for (const r of readings.values()) {
        const v = f(r);
        if (v !== null) t = (t ?? 0) + v;
      }
      return t;
    };
    for (const [model, r] of readings) {
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
        requestsRunning: r.running,
        requestsWaiting: r.waiting,
        kvCacheUsageRatio: r.kvCache,
        promptTokensPerSecond: values.prompt_tokens_per_second,
        generationTokensPerSecond: values.generation_tokens_per_second,
        requestLatencyP95Seconds: values.request_latency_p95_seconds,
        ttftP95Seconds: values.ttft_p95_seconds,
      });
    }
    for (const model of [...this.perModel.keys()]) if (!readings.has(model)) this.perModel.delete(model);
    // Server totals: counts and throughput add up; KV cache is the fullest model's; latency
    // percentiles come from all models' histograms added together (same vLLM buckets).
    const all = [...readings.values()];
    const merged: VllmModelReading = {
      running: sum((r) => r.running),
      waiting: sum((r) => r.waiting),
      swapped: sum((r) => r.swapped),
      kvCache: all.reduce<number | null>((m, r) => (r.kvCache === null ? m : Math.max(m ?? 0, r.kvCache)), null),
      promptTokensTotal: sum((r) => r.promptTokensTotal),
      generationTokensTotal: sum((r) => r.generationTokensTotal),
      e2e: sumHistograms(all.map((r) => r.e2e).filter((h): h is Histogram => h !== null)),
      ttft: sumHistograms(all.map((r) => r.ttft).filter((h): h is Histogram => h !== null)),
    };
    return {
      latencySeconds: a.latencySeconds,
      metrics: this.values(kc.now, this.total, merged),
      perModel,
      models,
      server: { version: this.version, status: 'ok', slots: null },
    };
  }

  private values(now: number, st: ModelState, r: VllmModelReading): MetricValues {
    const e2e = windowStats(r.e2e ? st.e2e.update(now, r.e2e.buckets, r.e2e.sum, r.e2e.count) : null);
    const ttft = windowStats(r.ttft ? st.ttft.update(now, r.ttft.buckets, r.ttft.sum, r.ttft.count) : null);
    return {
      requests_running_count: r.running,
      requests_waiting_count: r.waiting,
      requests_swapped_count: r.swapped,
      kv_cache_usage_ratio: r.kvCache,
      prompt_tokens_per_second: st.prompt.update(now, r.promptTokensTotal),
      generation_tokens_per_second: st.gen.update(now, r.generationTokensTotal),
      request_latency_avg_seconds: e2e.avg,
      request_latency_p50_seconds: e2e.p50,
      request_latency_p95_seconds: e2e.p95,
      request_latency_p99_seconds: e2e.p99,
      ttft_avg_seconds: ttft.avg,
      ttft_p50_seconds: ttft.p50,
      ttft_p95_seconds: ttft.p95,
      ttft_p99_seconds: ttft.p99,
    };
  }
}
