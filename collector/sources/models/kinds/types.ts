// What every model-server kind implements: one stateful sampler per endpoint (it keeps the previous
// counters and histogram windows), fed by the endpoint source once per tick.

import type { LoadedModel, ModelServer } from '../../../../protocol/details/models';
import type { Logger } from '../../../log';
import type { ModelKind } from '../config';
import { DEFAULT_MAX_LABEL_SETS_PER_METRIC, DEFAULT_MAX_PAGE_BYTES } from '../config';
import type { HttpAnswer, PageAnswer } from '../http';
import { httpGet, httpGetPage, join, safeUrl } from '../http';

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
  statusField?: string;
  metricsUrl?: string;
  /** Distinct label sets read per metric family of a page (default DEFAULT_MAX_LABEL_SETS_PER_METRIC). */
  maxLabelSetsPerMetric?: number;
  /** Bytes read of a /metrics page before the read stops (default DEFAULT_MAX_PAGE_BYTES). */
  maxPageBytes?: number;
  /** Told about every /metrics page read (size, caps hit). */
  onPage?: (r: PageReport) => void;
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
  return httpGet(url, { headers: kc.headers, timeoutMs: kc.timeoutMs, signal: kc.signal });
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

/** What a sampler tells its endpoint about one page it read (the endpoint decides the cadence). */
export interface PageReport {
  url: string;
  bytes: number;
  /** The read stopped at the byte cap. */
  capped: boolean;
  /** Families that went over the label-set cap. */
  truncatedFamilies: number;
}

/** Bytes as a short text for messages: `3.6 MiB`, `512 KiB`, `900 bytes`. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KiB`;
  return `${n} bytes`;
}

/**
 * GETs a server's /metrics page and parses it as it arrives (see page-stream.ts), keeping at most
 * `maxLabelSetsPerMetric` label sets per family and `maxPageBytes` bytes of page; each family over
 * the label-set cap, and a page over the byte cap, is warned about once.
 */
export async function getPage(kc: KindContext, pathOrUrl: string): Promise<PageAnswer> {
  const url = /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : join(kc.baseUrl, pathOrUrl);
  const max = kc.maxLabelSetsPerMetric ?? DEFAULT_MAX_LABEL_SETS_PER_METRIC;
  const maxBytes = kc.maxPageBytes ?? DEFAULT_MAX_PAGE_BYTES;
  const a = await httpGetPage(url, {
    headers: kc.headers,
    timeoutMs: kc.timeoutMs,
    signal: kc.signal,
    maxLabelSetsPerMetric: max,
    maxPageBytes: maxBytes,
  });
  for (const t of a.page.truncated) {
    kc.log.warnOnce(
      `label-sets:${t.family}`,
      `${safeUrl(url)}: ${t.family} has more than ${max} label sets; ${t.dropped} dropped (kept the first ${t.kept}; raise models.maxLabelSetsPerMetric to keep more)`,
    );
  }
  if (a.capped) {
    // The size is the server's Content-Length when it sent one: the rest is never read to count it.
    const size = a.declaredBytes !== null ? `${formatBytes(a.declaredBytes)}, over` : 'over';
    kc.log.warnOnce(
      `page-bytes:${url}`,
      `${safeUrl(url)}: the page is ${size} the cap of ${formatBytes(maxBytes)}; read stopped there and the ${a.page.sampleCount} samples parsed before it are kept (raise models.maxPageBytes to read more)`,
    );
  }
  kc.onPage?.({ url, bytes: a.bytes, capped: a.capped, truncatedFamilies: a.page.truncated.length });
  return a;
}
