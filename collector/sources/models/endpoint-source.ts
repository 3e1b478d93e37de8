// One Source per model-server endpoint (`models.<name>`), so each has its own up/down state,
// timeout and re-probe backoff in the tick loop. The kind is fixed by config or detected in probe().

import type { LoadedModel, ModelServer } from '../../../protocol/details/models';
import { modelServerSeries } from '../../../protocol/keys';
import type { SeriesMap } from '../../../protocol';
import type { Logger } from '../../log';
import type { ProbeResult, SampleResult, Source, SourceContext } from '../../source';
import { SourceError } from '../../source';
import type { EndpointConfig, ModelKind, ModelLimits } from './config';
import { DEFAULT_MAX_LABEL_SETS_PER_METRIC, DEFAULT_MAX_PAGE_BYTES, DEFAULT_MAX_SERIES_PER_SOURCE } from './config';
import { DETECT_PAGE_BYTES, detectKind } from './detect';
import { safeUrl } from './http';
import { HealthSampler } from './kinds/health';
import { LlamaCppSampler } from './kinds/llamacpp';
import { OllamaSampler } from './kinds/ollama';
import { TritonSampler } from './kinds/triton';
import type { KindSample, KindSampler, PageReport } from './kinds/types';
import { formatBytes } from './kinds/types';
import { VllmSampler } from './kinds/vllm';
import type { ProcessLookup } from './vram';
import { ServerProcessFinder, gpuDetailsOf, joinVram } from './vram';

/** Names of dropped models quoted in the cap warning. */
const DROPPED_NAMES_SHOWN = 5;

/** Extra time the tick loop grants a sample beyond one request timeout (requests run in parallel). */
const SAMPLE_MARGIN_MS = 500;

/**
 * How often an endpoint whose page went over the caps (bytes, label sets, series) is read, ms. Such
 * a page is read between ticks and the ticks use its latest completed reading, marked with its age.
 */
export const HEAVY_READ_INTERVAL_MS = 30_000;

/** Request timeout of such a read: nothing waits for it, and a capped page takes a while to parse. */
const HEAVY_READ_TIMEOUT_MS = 10_000;

/** One completed reading of a heavy endpoint. */
interface Reading {
  sample: KindSample;
  /** Monotonic ms when it completed. */
  atMono: number;
}

/** Test and wiring hooks. */
export interface EndpointOptions {
  /** Epoch-ms clock for rates and windows (tests pass a fake one). */
  now?: () => number;
  /** Root of the proc filesystem (tests). */
  procRoot?: string;
  windowMs: number;
  /** Cardinality caps (defaults when absent). */
  limits?: ModelLimits;
  /** Other discovery candidates: a bare Triton metrics port defers to a Triton HTTP port among them. */
  siblingUrls?: string[];
  /** Monotonic ms clock for the heavy-page cadence (default `now` when given, else performance.now). */
  monoNow?: () => number;
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
  private readonly mono: () => number;
  /** Why the page is read on the slow cadence (which cap it went over); null: read fresh every tick. */
  private heavy: string | null = null;
  /** Latest completed reading of a heavy endpoint. */
  private reading: Reading | null = null;
  /** A failed heavy read, thrown by the next sample (the endpoint goes down and is re-probed). */
  private readingError: Error | null = null;
  /** The per-model part of the latest assembled reading (see modelPart). */
  private modelCache: { of: KindSample; used: number; series: SeriesMap; models: LoadedModel[] } | null = null;
  /** The heavy read scheduled or in flight. */
  private refresh: { ac: AbortController; timer: NodeJS.Timeout | null } | null = null;

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
    this.mono = opts.monoNow ?? opts.now ?? (() => performance.now());
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
      this.resetHeavy();
      this.ensureSampler(ep.kind);
      const r = await this.readOnce(signal, ep.timeoutMs);
      if (r.over !== null) {
        // A page over the caps is read on the slow cadence from the start; this reading is its first.
        this.becomeHeavy(r.over);
        this.reading = { sample: r.sample, atMono: this.mono() };
      } else {
        // Start rates afresh: a reading moments before the first tick would make a noisy first rate.
        this.sampler = null;
        this.ensureSampler(ep.kind);
      }
      return { status: 'ready', description: `${KIND_LABEL[ep.kind]} at ${safeUrl(ep.url)}` };
    }
    this.resetHeavy();
    const d = await detectKind(ep.url, { headers: ep.headers, timeoutMs: ep.timeoutMs, signal, limits: this.opts.limits });
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
    if (d.found.bigPage === true) {
      // Not read in a tick before it is known: the first reading happens between ticks, and tells
      // whether the page is over the caps (then it stays on the slow cadence) or not.
      this.log.info(`${safeUrl(ep.url)}: the /metrics page is over ${formatBytes(DETECT_PAGE_BYTES)}; reading it between ticks first`);
      this.heavy = `its /metrics page is over ${formatBytes(DETECT_PAGE_BYTES)}`;
    }
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
      const d = await detectKind(url, { headers: {}, timeoutMs: this.endpoint.timeoutMs, signal }).catch(() => null);
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

  /** One reading of the server (every request of its kind); `over` names the cap it went over, if any. */
  private async readOnce(signal: AbortSignal, timeoutMs: number): Promise<{ sample: KindSample; over: string | null }> {
    const ep = this.endpoint;
    if (this.sampler === null) throw new SourceError(`${safeUrl(ep.url)}: kind not detected yet`);
    const pages: PageReport[] = [];
    const maxPageBytes = this.opts.limits?.maxPageBytes ?? DEFAULT_MAX_PAGE_BYTES;
    const sample = await this.sampler.sample({
      baseUrl: ep.url,
      headers: ep.headers,
      timeoutMs,
      signal,
      now: this.now(),
      windowMs: this.opts.windowMs,
      log: this.log,
      statusField: ep.statusField,
      metricsUrl: ep.metricsUrl,
      maxLabelSetsPerMetric: this.opts.limits?.maxLabelSetsPerMetric ?? DEFAULT_MAX_LABEL_SETS_PER_METRIC,
      maxPageBytes,
      onPage: (r) => pages.push(r),
    });
    let over: string | null = null;
    const capped = pages.find((p) => p.capped);
    const truncated = pages.find((p) => p.truncatedFamilies > 0);
    if (capped) over = `its page is over ${formatBytes(maxPageBytes)}`;
    else if (truncated) over = `its page has more label sets than models.maxLabelSetsPerMetric`;
    else if (seriesCount(sample) > this.maxSeries()) over = `it reports more series than models.maxSeriesPerSource`;
    return { sample, over };
  }

  private maxSeries(): number {
    return this.opts.limits?.maxSeriesPerSource ?? DEFAULT_MAX_SERIES_PER_SOURCE;
  }

  private becomeHeavy(why: string): void {
    this.log.warnOnce(
      'heavy-page',
      `${safeUrl(this.endpoint.url)}: ${why}; reading it every ${HEAVY_READ_INTERVAL_MS / 1000} s between ticks from now on (the ticks show the latest reading and its age)`,
    );
    this.heavy = why;
  }

  /** Back to reading fresh every tick (a new probe, or a page back under the caps). */
  private resetHeavy(): void {
    this.heavy = null;
    this.reading = null;
    this.readingError = null;
    this.stopRefresh();
  }

  private stopRefresh(): void {
    if (this.refresh === null) return;
    if (this.refresh.timer !== null) clearTimeout(this.refresh.timer);
    this.refresh.ac.abort(new Error('endpoint closed'));
    this.refresh = null;
  }

  /** Starts a heavy read when the latest one is HEAVY_READ_INTERVAL_MS old: half an interval from now, between two ticks. */
  private scheduleRefresh(): void {
    if (this.refresh !== null) return;
    if (this.reading !== null && this.mono() - this.reading.atMono < HEAVY_READ_INTERVAL_MS) return;
    const ac = new AbortController();
    const job: { ac: AbortController; timer: NodeJS.Timeout | null } = { ac, timer: null };
    this.refresh = job;
    const run = (): void => {
      job.timer = null;
      this.readOnce(ac.signal, Math.max(this.endpoint.timeoutMs, HEAVY_READ_TIMEOUT_MS)).then(
        (r) => {
          if (this.refresh !== job) return;
          this.refresh = null;
          this.reading = { sample: r.sample, atMono: this.mono() };
          if (r.over === null) {
            this.log.info(`${safeUrl(this.endpoint.url)}: the page is within the caps; reading it fresh every tick`);
            this.heavy = null;
          } else {
            this.becomeHeavy(r.over);
          }
        },
        (e: unknown) => {
          if (this.refresh !== job) return;
          this.refresh = null;
          this.readingError = e instanceof Error ? e : new Error(String(e));
        },
      );
    };
    if (this.reading === null) run();
    else {
      job.timer = setTimeout(run, Math.round(this.ctx.intervalMs / 2));
      job.timer.unref();
    }
  }

  async sample(signal: AbortSignal): Promise<SampleResult> {
    if (this.heavy === null) {
      const r = await this.readOnce(signal, this.endpoint.timeoutMs);
      if (r.over !== null) {
        this.becomeHeavy(r.over);
        this.reading = { sample: r.sample, atMono: this.mono() };
      }
      return this.assemble(r.sample, null);
    }
    if (this.readingError !== null) {
      const e = this.readingError;
      this.resetHeavy();
      throw e;
    }
    this.scheduleRefresh();
    if (this.reading === null) return this.pending();
    return this.assemble(this.reading.sample, (this.mono() - this.reading.atMono) / 1000);
  }

  /** A heavy endpoint before its first reading completed: up (it answered the probe), values not read yet. */
  private pending(): SampleResult {
    const ep = this.endpoint;
    const status = `first reading in progress (${this.heavy ?? ''}; read every ${HEAVY_READ_INTERVAL_MS / 1000} s between ticks)`;
    const server: ModelServer = {
      name: ep.name,
      url: safeUrl(ep.url),
      kind: this.detectedKind ?? 'health',
      up: true,
      error: null,
      models: [],
      vram: null,
      vramNote: 'no reading yet',
      vramSummary: null,
      version: null,
      status,
      latencySeconds: null,
      slots: null,
      pids: null,
      discovered: ep.discovered,
    };
    const age = modelServerSeries(ep.name, 'reading_age_seconds');
    return {
      series: { [modelServerSeries(ep.name, 'up_state')]: 1, [modelServerSeries(ep.name, 'latency_seconds')]: null, [age]: null },
      details: { kind: 'models', servers: [server] },
      notes: { [age]: status },
    };
  }

  /** Series and details of one reading; `ageSeconds` for a heavy endpoint's cached reading (null: read this tick). */
  private async assemble(s: KindSample, ageSeconds: number | null): Promise<SampleResult> {
    const ep = this.endpoint;
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
    let notes: Record<string, string> | undefined;
    let status = s.server.status ?? null;
    if (ageSeconds !== null) {
      // A heavy endpoint: what follows is its latest completed reading, this old.
      const age = modelServerSeries(ep.name, 'reading_age_seconds');
      series[age] = ageSeconds;
      const note = `${this.heavy ?? 'page over the caps'}: read every ${HEAVY_READ_INTERVAL_MS / 1000} s between ticks; this reading is ${Math.round(ageSeconds)} s old`;
      notes = { [age]: note };
      status = `${status ?? 'ok'} (${note})`;
    }
    const part = this.modelPart(s, Object.keys(series).length);
    Object.assign(series, part.series);
    const models = part.models;
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
      status,
      latencySeconds: s.latencySeconds,
      slots: s.server.slots ?? null,
      pids: lookup.pids,
      discovered: ep.discovered,
    };
    return notes === undefined ? { series, details: { kind: 'models', servers: [server] } } : { series, details: { kind: 'models', servers: [server] }, notes };
  }

  /**
   * Per-model series fill what the cap leaves after the server's own (`used`); the rest is dropped
   * whole (a model's series all or none), warned about once, and left out of the model list too.
   * Kept for the reading it was made from: a heavy endpoint's ticks reuse it until the next reading.
   */
  private modelPart(s: KindSample, used: number): { series: SeriesMap; models: LoadedModel[] } {
    const c = this.modelCache;
    if (c !== null && c.of === s && c.used === used) return c;
    const ep = this.endpoint;
    const series: SeriesMap = {};
    const maxSeries = this.maxSeries();
    let count = used;
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
    this.modelCache = { of: s, used, series, models };
    return this.modelCache;
  }

  close(): void {
    // Fetch connections belong to Node's global pool; a heavy page's read in flight is stopped.
    this.resetHeavy();
  }
}

/** Series a reading adds to a sample before the series cap (the server's own plus every model's). */
function seriesCount(s: KindSample): number {
  // up_state, latency_seconds, vram_bytes, reading_age_seconds
  let n = 4 + Object.keys(s.metrics).length;
  for (const m in s.perModel) n += Object.keys(s.perModel[m]).length;
  return n;
}
