// Ollama: `/api/ps` (loaded models, their size and VRAM share, keep-alive expiry) and `/api/version`.
// Shapes from ollama/ollama api/types.go (ProcessResponse / ProcessModelResponse).

import type { LoadedModel } from '../../../../protocol/details/models';
import { jsonBody, requireOk, unexpected } from '../http';
import type { KindContext, KindSample, KindSampler } from './types';
import { get, num } from './types';

/** How often the version is re-read, ms (it only changes on upgrade). */
const VERSION_REFRESH_MS = 5 * 60_000;

/** Parses an `/api/ps` body into loaded models; null when it is not that shape. */
export function parseOllamaPs(v: unknown): LoadedModel[] | null {
  if (v === null || typeof v !== 'object' || !Array.isArray((v as { models?: unknown }).models)) return null;
  const out: LoadedModel[] = [];
  for (const m of (v as { models: unknown[] }).models) {
    if (m === null || typeof m !== 'object') return null;
    const o = m as Record<string, unknown>;
    const name = typeof o.name === 'string' ? o.name : typeof o.model === 'string' ? o.model : null;
    if (name === null) return null;
    const d = (o.details && typeof o.details === 'object' ? o.details : {}) as Record<string, unknown>;
    const exp = typeof o.expires_at === 'string' ? Date.parse(o.expires_at) : NaN;
    out.push({
      name,
      sizeBytes: num(o.size),
      vramBytes: num(o.size_vram),
      expiresAt: Number.isFinite(exp) ? exp : null,
      parameterSize: typeof d.parameter_size === 'string' ? d.parameter_size : null,
      quantization: typeof d.quantization_level === 'string' ? d.quantization_level : null,
      family: typeof d.family === 'string' ? d.family : null,
    });
  }
  return out;
}

/** Parses `/api/version`; null when not `{ version: string }`. */
export function parseOllamaVersion(v: unknown): string | null {
  const s = (v as { version?: unknown } | null)?.version;
  return typeof s === 'string' ? s : null;
}

/** Sampler for Ollama. */
export class OllamaSampler implements KindSampler {
  readonly kind = 'ollama' as const;
  private version: string | null = null;
  private versionAt = -Infinity;

  async sample(kc: KindContext): Promise<KindSample> {
    const wantVersion = kc.now - this.versionAt >= VERSION_REFRESH_MS;
    const [ps, ver] = await Promise.all([get(kc, '/api/ps'), wantVersion ? get(kc, '/api/version').catch(() => null) : Promise.resolve(null)]);
    requireOk(ps);
    const models = parseOllamaPs(jsonBody(ps));
    if (models === null) throw unexpected(ps.url, ps.body);
    if (ver !== null && ver.status === 200) {
      try {
        this.version = parseOllamaVersion(JSON.parse(ver.body)) ?? this.version;
        this.versionAt = kc.now;
      } catch {
        // a bad version answer leaves the last known version; /api/ps decides up/down
      }
    }
    const perModel: KindSample['perModel'] = {};
    let vram: number | null = models.length === 0 ? 0 : null;
    for (const m of models) {
      perModel[m.name] = { size_bytes: m.sizeBytes, vram_bytes: m.vramBytes };
      if (m.vramBytes !== null) vram = (vram ?? 0) + m.vramBytes;
    }
    return {
      latencySeconds: ps.latencySeconds,
      metrics: { models_loaded_count: models.length, models_vram_bytes: vram },
      perModel,
      models,
      server: { version: this.version, status: 'ok', slots: null },
    };
  }
}
