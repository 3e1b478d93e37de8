// llama.cpp server (llama-server): `/health`, `/slots` (busy/total, context, tokens per slot),
// `/props` (slot count, model path) and `/metrics` when started with `--metrics`.
// Shapes from ggerganov/llama.cpp examples/server (README + server.cpp), old (`state`, `task_id`)
// and new (`is_processing`, `id_task`) slot formats.

import type { LoadedModel, ModelSlot } from '../../../../protocol/details/models';
import { CounterRate, sumWhere } from '../../../prometheus-text';
import { SourceError } from '../../../source';
import type { HttpAnswer } from '../http';
import { jsonBody, requireOk, safeUrl, unexpected } from '../http';
import type { KindContext, KindSample, KindSampler } from './types';
import { get, getPage, num } from './types';

/** How often `/props` is re-read, ms. */
const PROPS_REFRESH_MS = 60_000;

/** Parses a `/slots` body; null when it is not an array of slot objects. */
export function parseLlamaSlots(v: unknown): ModelSlot[] | null {
  if (!Array.isArray(v)) return null;
  const out: ModelSlot[] = [];
  for (const s of v) {
    if (s === null || typeof s !== 'object') return null;
    const o = s as Record<string, unknown>;
    const id = num(o.id);
    if (id === null) return null;
    // New servers say is_processing; old ones a state (0 idle, 1+ busy).
    const busy = typeof o.is_processing === 'boolean' ? o.is_processing : typeof o.state === 'number' ? o.state !== 0 : null;
    if (busy === null) return null;
    const next = (o.next_token && typeof o.next_token === 'object' ? o.next_token : {}) as Record<string, unknown>;
    out.push({ id, busy, contextTokens: num(o.n_ctx), decodedTokens: num(next.n_decoded) });
  }
  return out;
}

/** Reads `/health`: status text and, on old servers, idle/processing slot counts. Null when not llama.cpp-shaped. */
export function parseLlamaHealth(status: number, v: unknown): { status: string; ok: boolean; idle: number | null; processing: number | null } | null {
  if (v === null || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  if (typeof o.status === 'string') {
    return { status: o.status, ok: status === 200 && o.status === 'ok', idle: num(o.slots_idle), processing: num(o.slots_processing) };
  }
  const err = o.error as Record<string, unknown> | undefined;
  if (err && typeof err === 'object' && typeof err.message === 'string') return { status: err.message.toLowerCase(), ok: false, idle: null, processing: null };
  return null;
}

/** Sampler for llama.cpp. */
export class LlamaCppSampler implements KindSampler {
  readonly kind = 'llamacpp' as const;
  private readonly promptRate = new CounterRate();
  private readonly genRate = new CounterRate();
  private totalSlots: number | null = null;
  private modelPath: string | null = null;
  private build: string | null = null;
  private propsAt = -Infinity;
  private slotsDisabled = false;
  private metricsDisabled = false;

  async sample(kc: KindContext): Promise<KindSample> {
    const optional = <A extends HttpAnswer>(p: Promise<A>): Promise<A | null> =>
      p.catch((e: unknown) => {
        // An optional endpoint failing in transport while /health answered is reported by /health's outcome.
        if (e instanceof SourceError) return null;
        throw e;
      });
    const wantProps = kc.now - this.propsAt >= PROPS_REFRESH_MS;
    const [health, slotsA, metricsA, propsA] = await Promise.all([
      get(kc, '/health'),
      this.slotsDisabled ? Promise.resolve(null) : optional(get(kc, '/slots')),
      this.metricsDisabled ? Promise.resolve(null) : optional(getPage(kc, '/metrics')),
      wantProps ? optional(get(kc, '/props')) : Promise.resolve(null),
    ]);
    let hv: unknown;
    try {
      hv = JSON.parse(health.body);
    } catch {
      throw health.status >= 500 ? requireOkError(health) : unexpected(health.url, health.body);
    }
    const h = parseLlamaHealth(health.status, hv);
    if (h === null) throw unexpected(health.url, health.body);
    if (!h.ok) throw new SourceError(`llama.cpp at ${safeUrl(kc.baseUrl)} is not ready: ${h.status} (HTTP ${health.status})`);

    if (propsA !== null && propsA.status === 200) {
      try {
        const p = JSON.parse(propsA.body) as Record<string, unknown>;
        this.totalSlots = num(p.total_slots) ?? this.totalSlots;
        this.modelPath = typeof p.model_path === 'string' ? p.model_path : this.modelPath;
        this.build = typeof p.build_info === 'string' ? p.build_info : this.build;
        this.propsAt = kc.now;
      } catch {
        // /props is a nicety (slot total, model path); its absence is not an error
      }
    }

    let slots: ModelSlot[] | null = null;
    if (slotsA !== null) {
      if (slotsA.status === 501 || slotsA.status === 404) {
        this.slotsDisabled = true;
        kc.log.debug(`/slots disabled at ${safeUrl(kc.baseUrl)} (HTTP ${slotsA.status}); slot counts come from /health when it has them`);
      } else {
        requireOk(slotsA);
        slots = parseLlamaSlots(jsonBody(slotsA));
        if (slots === null) throw unexpected(slotsA.url, slotsA.body);
      }
    }

    const metrics: KindSample['metrics'] = {
      slots_busy_count: slots ? slots.filter((s) => s.busy).length : h.processing,
      slots_total_count: slots ? slots.length : h.idle !== null && h.processing !== null ? h.idle + h.processing : this.totalSlots,
      context_tokens_count: slots && slots.length > 0 ? slots[0].contextTokens : null,
      requests_running_count: null,
      requests_waiting_count: null,
      kv_cache_usage_ratio: null,
      prompt_tokens_per_second: null,
      generation_tokens_per_second: null,
    };

    if (metricsA !== null) {
      if (metricsA.status === 501 || metricsA.status === 404) {
        this.metricsDisabled = true;
        kc.log.debug(`/metrics disabled at ${safeUrl(kc.baseUrl)} (start llama-server with --metrics for throughput)`);
      } else {
        requireOk(metricsA);
        const page = metricsA.page;
        if (!page.families.has('llamacpp:prompt_tokens_total') && !page.families.has('llamacpp:requests_processing'))
          throw unexpected(metricsA.url, metricsA.body);
        metrics.requests_running_count = sumWhere(page, 'llamacpp:requests_processing');
        metrics.requests_waiting_count = sumWhere(page, 'llamacpp:requests_deferred');
        metrics.kv_cache_usage_ratio = sumWhere(page, 'llamacpp:kv_cache_usage_ratio');
        metrics.prompt_tokens_per_second = this.promptRate.update(kc.now, sumWhere(page, 'llamacpp:prompt_tokens_total'));
        metrics.generation_tokens_per_second = this.genRate.update(kc.now, sumWhere(page, 'llamacpp:tokens_predicted_total'));
      }
    }

    const models: LoadedModel[] = [];
    if (this.modelPath !== null) {
      models.push({ name: this.modelPath.split(/[\\/]/).pop() ?? this.modelPath, sizeBytes: null, vramBytes: null, expiresAt: null });
    }
    return { latencySeconds: health.latencySeconds, metrics, perModel: {}, models, server: { status: h.status, version: this.build, slots } };
  }
}

function requireOkError(a: HttpAnswer): SourceError {
  try {
    requireOk(a);
  } catch (e) {
    if (e instanceof SourceError) return e;
  }
  return unexpected(a.url, a.body);
}
