// Kind detection from what a server answers — never from the port: Ollama `/api/version`,
// Triton `/v2` metadata, llama.cpp `/health` plus `/props` or `/slots`, vLLM `/metrics` with
// `vllm:` families, and a bare Triton metrics port (`nv_inference_*`).

import type { ModelKind } from './config';
import { DEFAULT_MAX_LABEL_SETS_PER_METRIC, DEFAULT_MAX_PAGE_BYTES } from './config';
import type { HttpAnswer, PageAnswer, PageLimits } from './http';
import { httpGet, httpGetPage, join, safeUrl } from './http';
import { parseLlamaHealth, parseLlamaSlots } from './kinds/llamacpp';
import { parseOllamaVersion } from './kinds/ollama';
import { isVllmPage } from './kinds/vllm';
import { isTritonPage } from './kinds/triton';
import { SourceError } from '../../source';

/** Bytes of a /metrics page read to detect the kind (a one-model vLLM page is ~17 KB). */
export const DETECT_PAGE_BYTES = 256 * 1024;

/** What answered at a base URL. */
export interface Detected {
  kind: ModelKind;
  /** Triton seen only through its metrics port. */
  metricsOnly?: boolean;
  version?: string;
  /** The /metrics page is larger than detection reads, or over the label-set cap: the endpoint reads it between ticks. */
  bigPage?: boolean;
}

/** Outcome of detection: a kind, or why none (with whether anything listens at all). */
export type Detection = { found: Detected } | { found: null; reason: string; listening: boolean };

/** Asks the server the questions each kind answers and names the first kind that fits. */
export async function detectKind(
  baseUrl: string,
  opts: { headers: Record<string, string>; timeoutMs: number; signal: AbortSignal; limits?: Partial<PageLimits> },
): Promise<Detection> {
  const base = baseUrl;
  const asError = (e: unknown): SourceError => {
    if (e instanceof SourceError) return e;
    throw e;
  };
  const ask = (path: string): Promise<HttpAnswer | SourceError> => httpGet(join(base, path), { ...opts }).catch(asError);
  // The page is streamed like the sampler reads it, but only its first DETECT_PAGE_BYTES: enough to
  // tell the kind, and cheap within a discovery candidate's short timeout.
  const askPage = (path: string): Promise<PageAnswer | SourceError> =>
    httpGetPage(join(base, path), {
      ...opts,
      maxPageBytes: Math.min(DETECT_PAGE_BYTES, opts.limits?.maxPageBytes ?? DEFAULT_MAX_PAGE_BYTES),
      maxLabelSetsPerMetric: opts.limits?.maxLabelSetsPerMetric ?? DEFAULT_MAX_LABEL_SETS_PER_METRIC,
    }).catch(asError);
  const json = (a: HttpAnswer | SourceError): unknown => {
    if (a instanceof SourceError) return undefined;
    try {
      return JSON.parse(a.body);
    } catch {
      return undefined;
    }
  };
  const [version, v2, health, props, slots, metrics] = await Promise.all([
    ask('/api/version'),
    ask('/v2'),
    ask('/health'),
    ask('/props'),
    ask('/slots'),
    askPage('/metrics'),
  ]);
  const answers = [version, v2, health, props, slots, metrics];
  const errors = answers.filter((a): a is SourceError => a instanceof SourceError);
  if (errors.length === answers.length) {
    // Nothing answered at all: say why in the words of the first failure (refused, timeout…).
    return { found: null, reason: errors[0].message, listening: !/connection refused|host not found|unreachable/.test(errors[0].message) };
  }
  const ok = (a: HttpAnswer | SourceError): a is HttpAnswer => !(a instanceof SourceError) && a.status === 200;

  if (ok(version)) {
    const v = parseOllamaVersion(json(version));
    if (v !== null) return { found: { kind: 'ollama', version: v } };
  }
  if (ok(v2)) {
    const meta = json(v2) as { name?: unknown; version?: unknown } | undefined;
    if (meta && typeof meta.name === 'string' && /triton/i.test(meta.name)) {
      return { found: { kind: 'triton', version: typeof meta.version === 'string' ? meta.version : undefined } };
    }
  }
  if (!(health instanceof SourceError) && parseLlamaHealth(health.status, json(health)) !== null) {
    const p = json(props) as { total_slots?: unknown; default_generation_settings?: unknown } | undefined;
    const propsFit = ok(props) && p !== undefined && (typeof p.total_slots === 'number' || typeof p.default_generation_settings === 'object');
    const slotsFit = ok(slots) && parseLlamaSlots(json(slots)) !== null;
    if (propsFit || slotsFit) return { found: { kind: 'llamacpp' } };
  }
  if (!(metrics instanceof SourceError) && metrics.status === 200) {
    const page = metrics.page;
    const bigPage = metrics.capped || page.truncated.length > 0;
    if (isVllmPage(page)) {
      const v = await ask('/version');
      const version = (json(v) as { version?: unknown } | undefined)?.version;
      return { found: { kind: 'vllm', version: typeof version === 'string' ? version : undefined, bigPage } };
    }
    if (isTritonPage(page)) return { found: { kind: 'triton', metricsOnly: true, bigPage } };
  }
  return { found: null, reason: `${safeUrl(base)} answers HTTP but not like llama.cpp, vLLM, Ollama or Triton`, listening: true };
}
