// What every model-server kind implements: one stateful sampler per endpoint (it keeps the previous
// counters and histogram windows), fed by the endpoint source once per tick.

import type { LoadedModel, ModelServer } from '../../../../protocol/details/models';
import type { Logger } from '../../../log';
import type { ParsedMetrics } from '../../../prometheus-text';
import { parsePrometheusTextAsync } from '../../../prometheus-text';
import type { ModelKind } from '../config';
import { DEFAULT_MAX_LABEL_SETS_PER_METRIC } from '../config';
import type { FetchFn, HttpAnswer } from '../http';
import { httpGet, join, safeUrl } from '../http';

/** What a sampler may use for one tick. */
export interface KindContext {
  baseUrl: string;
  headers: Record<string, string>;
  timeoutMs: number;
  signal: AbortSignal;
  /** Epoch ms of this tick (a test clock in tests). */
  now: number;
  windowMs: number;
  log: Logger;
  fetchFn?: FetchFn;
  statusField?: string;
  metricsUrl?: string;
  /** Distinct label sets read per metric family of a page (default DEFAULT_MAX_LABEL_SETS_PER_METRIC). */
  maxLabelSetsPerMetric?: number;
}

/** Series values by metric suffix (`requests_running_count`); the source adds `models.<name>.`. */
export type MetricValues = Record<string, number | null>;

/** One tick of one server. */
export interface KindSample {
  /** Response time of the endpoint's main request. */
  latencySeconds: number;
  metrics: MetricValues;
  /** Per served model (vLLM `model_name`, Triton model, Ollama model): metric suffix → value. */
  perModel: Record<string, MetricValues>;
  models: LoadedModel[];
  server: Pick<ModelServer, 'version' | 'status' | 'slots'>;
}

/** A stateful sampler of one kind. */
export interface KindSampler {
  readonly kind: ModelKind;
  sample(kc: KindContext): Promise<KindSample>;
}

/** GET relative to the base URL with the endpoint's headers and timeout. */
export function get(kc: KindContext, pathOrUrl: string): Promise<HttpAnswer> {
  const url = /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : join(kc.baseUrl, pathOrUrl);
  return httpGet(url, { headers: kc.headers, timeoutMs: kc.timeoutMs, signal: kc.signal, fetchFn: kc.fetchFn });
}

/** A finite number or null. */
export function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Reads a dotted path (`data.state`) from parsed JSON. */
export function field(v: unknown, path: string): unknown {
  let cur = v;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/**
 * Parses a server's /metrics page in slices (the tick's signal stops it), keeping at most
 * `maxLabelSetsPerMetric` label sets per family; each family over the cap is warned about once.
 */
export async function parsePage(kc: KindContext, url: string, body: string): Promise<ParsedMetrics> {
  const max = kc.maxLabelSetsPerMetric ?? DEFAULT_MAX_LABEL_SETS_PER_METRIC;
  const page = await parsePrometheusTextAsync(body, { maxLabelSetsPerMetric: max, signal: kc.signal });
  for (const t of page.truncated) {
    kc.log.warnOnce(
      `label-sets:${t.family}`,
      `${safeUrl(url)}: ${t.family} has more than ${max} label sets; ${t.dropped} dropped (kept the first ${t.kept}; raise models.maxLabelSetsPerMetric to keep more)`,
    );
  }
  return page;
}
