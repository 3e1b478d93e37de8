// The model-server source kind: one `models.<name>` source per configured endpoint, or per
// discovery candidate (localhost 11434, 8080, 8000, 8002 by default) when none is configured.

import type { Source, SourceContext, SourceFactory } from '../../source';
import { discoveredName, parseModelsConfig } from './config';
import type { EndpointOptions } from './endpoint-source';
import { ModelEndpointSource } from './endpoint-source';

/** Creates the sources for a `models` config section (exported for tests, which pass a clock). */
export function createModelSources(ctx: SourceContext, opts: Partial<EndpointOptions> = {}): ModelEndpointSource[] {
  const cfg = parseModelsConfig(ctx.config, ctx.env);
  const endpoints = [...cfg.endpoints];
  const taken = new Set(endpoints.map((e) => e.name));
  for (const c of cfg.discovery) {
    const name = discoveredName(c.host, c.port);
    if (taken.has(name)) continue;
    taken.add(name);
    const host = c.host.includes(':') ? `[${c.host}]` : c.host;
    endpoints.push({ name, url: `http://${host}:${c.port}`, headers: {}, timeoutMs: 1000, discovered: true });
  }
  const discovered = endpoints.filter((e) => e.discovered).map((e) => e.url);
  return endpoints.map(
    (e) => new ModelEndpointSource(e, ctx, { windowMs: cfg.windowMs, limits: cfg.limits, siblingUrls: discovered.filter((u) => u !== e.url), ...opts }),
  );
}

/** Factory registered in sources/index.ts. */
export const modelsFactory: SourceFactory = {
  kind: 'models',
  create(ctx: SourceContext): Source[] {
    return createModelSources(ctx);
  },
};
