// Plain health endpoint: any URL; up when it answers 2xx (and, with `statusField`, when that JSON
// field reads as healthy). Latency is the time to the full answer.

import { SourceError } from '../../../source';
import { jsonBody, requireOk, safeUrl, unexpected } from '../http';
import type { KindContext, KindSample, KindSampler } from './types';
import { field, get } from './types';

/** Status words read as healthy (case-insensitive); `true` and 1 also count. */
const HEALTHY = new Set(['ok', 'up', 'healthy', 'ready', 'pass', 'passing', 'running', 'serving', 'green', 'true', 'alive']);

/** Whether a status field value means healthy. */
export function isHealthyStatus(v: unknown): boolean {
  if (v === true || v === 1) return true;
  return typeof v === 'string' && HEALTHY.has(v.trim().toLowerCase());
}

/** Sampler for `kind: "health"`. */
export class HealthSampler implements KindSampler {
  readonly kind = 'health' as const;

  async sample(kc: KindContext): Promise<KindSample> {
    const a = requireOk(await get(kc, kc.baseUrl));
    let status = `HTTP ${a.status}`;
    if (kc.statusField !== undefined) {
      const v = field(jsonBody(a), kc.statusField);
      if (v === undefined) throw unexpected(a.url, a.body);
      status = typeof v === 'string' ? v : JSON.stringify(v);
      if (!isHealthyStatus(v)) throw new SourceError(`${safeUrl(a.url)} reports ${kc.statusField} = ${status.slice(0, 40)}`);
    }
    return { latencySeconds: a.latencySeconds, metrics: {}, perModel: {}, models: [], server: { status, version: null, slots: null } };
  }
}
