// One Source per model-server endpoint (`models.<name>`), so each has its own up/down state,
// timeout and re-probe backoff in the tick loop. The kind is fixed by config or detected in probe().

import type { ModelServer } from '../../../protocol/details/models';
import { modelServerSeries } from '../../../protocol/keys';
import type { SeriesMap } from '../../../protocol';
import type { Logger } from '../../log';
import type { ProbeResult, SampleResult, Source, SourceContext } from '../../source';
import { SourceError } from '../../source';
import type { EndpointConfig, ModelKind, ModelLimits } from './config';
import { DEFAULT_MAX_LABEL_SETS_PER_METRIC, DEFAULT_MAX_SERIES_PER_SOURCE } from './config';
import { detectKind } from './detect';
import type { FetchFn } from './http';
import { safeUrl } from './http';
import { HealthSampler } from './kinds/health';
import { LlamaCppSampler } from './kinds/llamacpp';
import { OllamaSampler } from './kinds/ollama';
import { TritonSampler } from './kinds/triton';
import type { KindSampler } from './kinds/types';
import { VllmSampler } from './kinds/vllm';
import type { ProcessLookup } from './vram';
import { ServerProcessFinder, gpuDetailsOf, joinVram } from './vram';

/** Names of dropped models quoted in the cap warning. */
const DROPPED_NAMES_SHOWN = 5;

/** Extra time the tick loop grants a sample beyond one request timeout (requests run in parallel). */
const SAMPLE_MARGIN_MS = 500;

/** Test and wiring hooks. */
export interface EndpointOptions {
  /** Epoch-ms clock for rates and windows (tests pass a fake one). */
  now?: () => number;
  /** Root of the proc filesystem (tests). */
  procRoot?: string;
  fetchFn?: FetchFn;
  windowMs: number;
  /** Cardinality caps (defaults when absent). */
  limits?: ModelLimits;
  /** Other discovery candidates: a bare Triton metrics port defers to a Triton HTTP port among them. */
  siblingUrls?: string[];
}

const KIND_LABEL: Record<ModelKind, string> = { llamacpp: 'llama.cpp', vllm: 'vLLM', ollama: 'Ollama', triton: 'Triton', health: 'health endpoint' };

/** The source of one endpoint. */
export class ModelEndpointSource implements Source {
  readonly id: string;
  readonly kind = 'models';
  readonly sampleTimeoutMs: number;
  private sampler: KindSampler | null = null;
  private detectedKind: ModelKind | null;
  private metricsOnly = false;
  private readonly finder: ServerProcessFinder;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(
    readonly endpoint: EndpointConfig,
    private readonly ctx: SourceContext,
    private readonly opts: EndpointOptions,
  ) {
    this.id = modelServerSeries(endpoint.name);
    this.sampleTimeoutMs = endpoint.timeoutMs + SAMPLE_MARGIN_MS;
    this.detectedKind = endpoint.kind ?? null;
    this.log = ctx.log.child(this.id);
    this.now = opts.now ?? Date.now;
    this.finder = new ServerProcessFinder(endpoint, { procRoot: opts.procRoot, env: ctx.env, timeoutMs: endpoint.timeoutMs });
    if (endpoint.kind !== undefined) this.ensureSampler(endpoint.kind);
  }

  /** The kind in use (configured or detected), null before detection. */
  get modelKind(): ModelKind | null {
    return this.detectedKind;
  }

  async probe(signal: AbortSignal): Promise<ProbeResult> {
    const ep = this.endpoint;
    if (ep.kind !== undefined) {
      // A configured kind is trusted; one sample shows whether the server answers like it.
      // A configured endpoint that does not answer is down (retried with backoff), not absent.
      this.ensureSampler(ep.kind);
      await this.sampleOnce(signal);
      // Start rates afresh: a reading moments before the first tick would make a noisy first rate.
      this.sampler = null;
      this.ensureSampler(ep.kind);
      return { status: 'ready', description: `${KIND_LABEL[ep.kind]} at ${safeUrl(ep.url)}` };
    }
    const d = await detectKind(ep.url, { headers: ep.headers, timeoutMs: ep.timeoutMs, signal, fetchFn: this.opts.fetchFn });
    if (d.found === null) {
      if (!ep.discovered) throw new SourceError(d.reason);
      // A discovery candidate with nothing (recognisable) on it is simply absent.
      this.log.debug(`no model server detected: ${d.reason}`);
      return { status: 'unavailable', reason: d.listening ? d.reason : `nothing listening: ${d.reason}`, retry: true };
    }
    this.metricsOnly = d.found.metricsOnly === true;
    if (this.metricsOnly && ep.discovered) {
      const owner = await this.tritonAmongSiblings(signal);
      if (owner !== null) return { status: 'unavailable', reason: `Triton metrics port of ${owner}; reported by that endpoint`, retry: true };
    }
    // A fresh sampler per detection: after an outage the server may be another kind or restarted.
    this.sampler = null;
    this.ensureSampler(d.found.kind);
    const version = d.found.version ? ` ${d.found.version}` : '';
    return {
      status: 'ready',
      description: `${KIND_LABEL[d.found.kind]}${version} at ${safeUrl(ep.url)}${this.metricsOnly ? ' (metrics port)' : ''}${ep.discovered ? ', discovered' : ''}`,
    };
  }

  private async tritonAmongSiblings(signal: AbortSignal): Promise<string | null> {
    const mine = new URL(this.endpoint.url).hostname;
    for (const url of this.opts.siblingUrls ?? []) {
      if (new URL(url).hostname !== mine) continue;
      const d = await detectKind(url, { headers: {}, timeoutMs: this.endpoint.timeoutMs, signal, fetchFn: this.opts.fetchFn }).catch(() => null);
      if (d !== null && d.found !== null && d.found.kind === 'triton' && d.found.metricsOnly !== true) return safeUrl(url);
    }
    return null;
  }

  private ensureSampler(kind: ModelKind): void {
    if (this.sampler !== null && this.sampler.kind === kind) return;
    this.detectedKind = kind;
    const w = this.opts.windowMs;
    switch (kind) {
      case 'llamacpp':
        this.sampler = new LlamaCppSampler();
        break;
      case 'vllm':
        this.sampler = new VllmSampler(w);
        break;
      case 'ollama':
        this.sampler = new OllamaSampler();
        break;
      case 'triton':
        this.sampler = new TritonSampler(w, this.metricsOnly);
        break;
      case 'health':
        this.sampler = new HealthSampler();
        break;
    }
  }

  private sampleOnce(signal: AbortSignal): ReturnType<KindSampler['sample']> {
    const ep = this.endpoint;
    if (this.sampler === null) throw new SourceError(`${safeUrl(ep.url)}: kind not detected yet`);
    return this.sampler.sample({
      baseUrl: ep.url,
      headers: ep.headers,
      timeoutMs: ep.timeoutMs,
      signal,
      now: this.now(),
      windowMs: this.opts.windowMs,
      log: this.log,
      fetchFn: this.opts.fetchFn,
      statusField: ep.statusField,
      metricsUrl: ep.metricsUrl,
      maxLabelSetsPerMetric: this.opts.limits?.maxLabelSetsPerMetric ?? DEFAULT_MAX_LABEL_SETS_PER_METRIC,
    });
  }

  async sample(signal: AbortSignal): Promise<SampleResult> {
    const ep = this.endpoint;
    const s = await this.sampleOnce(signal);
    const latest = this.ctx.latest();
    // The /proc scan only pays off when there is a GPU process list to join with.
    const lookup: ProcessLookup = gpuDetailsOf(latest) !== null ? await this.finder.lookup(this.now()) : { pids: null, note: 'no GPU source' };
    const att = joinVram(lookup, latest);

    const series: SeriesMap = {};
    const put = (metric: string, v: number | null): void => {
      series[modelServerSeries(ep.name, metric)] = v;
    };
    put('up_state', 1);
    put('latency_seconds', s.latencySeconds);
    for (const [k, v] of Object.entries(s.metrics)) put(k, v);
    put('vram_bytes', att.bytes);
    // Per-model series fill what the cap leaves after the server's own; the rest is dropped whole
    // (a model's series all or none), warned about once, and left out of the model list too.
    const maxSeries = this.opts.limits?.maxSeriesPerSource ?? DEFAULT_MAX_SERIES_PER_SOURCE;
    let count = Object.keys(series).length;
    const dropped: string[] = [];
    for (const [model, values] of Object.entries(s.perModel)) {
      const keys = Object.keys(values);
      if (count + keys.length > maxSeries) {
        dropped.push(model);
        continue;
      }
      count += keys.length;
      for (const k of keys) series[modelServerSeries(ep.name, model, k)] = values[k];
    }
    let models = s.models;
    if (dropped.length > 0) {
      const gone = new Set(dropped);
      models = models.filter((m) => !gone.has(m.name));
      const names = dropped
        .slice(0, DROPPED_NAMES_SHOWN)
        .map((m) => JSON.stringify(m.slice(0, 40)))
        .join(', ');
      const more = dropped.length > DROPPED_NAMES_SHOWN ? ` and ${dropped.length - DROPPED_NAMES_SHOWN} more` : '';
      this.log.warnOnce(
        'series-cap',
        `${safeUrl(ep.url)} reports ${Object.keys(s.perModel).length} models; over ${maxSeries} series per source, the series of ${dropped.length} were dropped (${names}${more}); raise models.maxSeriesPerSource to keep more`,
      );
    }
    const server: ModelServer = {
      name: ep.name,
      url: safeUrl(ep.url),
      kind: this.detectedKind ?? 'health',
      up: true,
      error: null,
      models,
      vram: att.vram,
      vramNote: att.note,
      vramSummary: att.summary,
      version: s.server.version ?? null,
      status: s.server.status ?? null,
      latencySeconds: s.latencySeconds,
      slots: s.server.slots ?? null,
      pids: lookup.pids,
      discovered: ep.discovered,
    };
    return { series, details: { kind: 'models', servers: [server] } };
  }

  close(): void {
    // Nothing is held between ticks: fetch connections belong to Node's global pool.
  }
}
