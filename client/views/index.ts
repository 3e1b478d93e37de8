// The one list of view adapters. A source kind becomes visible in the Services tree and the dashboard
// by adding its adapter here (see docs/adding-a-source.md); views never switch on kinds.

import type { SourceStatus } from '../../protocol';
import type { SourceViewAdapter } from './adapter';
import { postgresAdapter, redisAdapter } from './adapters/databases';
import { dockerAdapter } from './adapters/docker';
import { gpuAdapter } from './adapters/gpu';
import { hostAdapter } from './adapters/host';
import { modelsAdapter } from './adapters/models';
import { runsAdapter } from './adapters/runs';
import { OTHER_GROUP } from './groups';
import { notReadyItem, sourceIcon } from './source-items';

/** Every source kind's view adapter. */
export const VIEW_ADAPTERS: readonly SourceViewAdapter[] = [gpuAdapter, hostAdapter, postgresAdapter, redisAdapter, modelsAdapter, dockerAdapter, runsAdapter];

/** The adapter for a kind no adapter describes: a row per source with its description, under "Other sources". */
export function fallbackAdapter(kind: string): SourceViewAdapter {
  return {
    kind,
    group: OTHER_GROUP,
    icon: 'plug',
    label: (s) => s.id,
    describe: (sources, { fmt }) =>
      sources.map((s) =>
        s.state === 'ready'
          ? { key: `src/${s.id}`, label: s.id, description: s.description ?? 'ready', icon: sourceIcon(s, 'plug') }
          : notReadyItem(`src/${s.id}`, s.id, s, fmt),
      ),
    charts: () => [],
  };
}

/** The adapter for a kind from `adapters`, or the fallback. */
export function adapterFor(kind: string, adapters: readonly SourceViewAdapter[] = VIEW_ADAPTERS): SourceViewAdapter {
  return adapters.find((a) => a.kind === kind) ?? fallbackAdapter(kind);
}

/** One group of a connection's sources with the adapters (and their sources) in it, in view order. */
export interface AdaptedGroup {
  group: SourceViewAdapter['group'];
  kinds: { adapter: SourceViewAdapter; sources: SourceStatus[] }[];
}

/** Sorts sources into their adapters' groups: groups by `order`, kinds by first appearance. */
export function groupSources(sources: readonly SourceStatus[], adapters: readonly SourceViewAdapter[] = VIEW_ADAPTERS): AdaptedGroup[] {
  const groups = new Map<string, AdaptedGroup>();
  for (const s of sources) {
    const adapter = adapterFor(s.kind, adapters);
    let g = groups.get(adapter.group.id);
    if (!g) groups.set(adapter.group.id, (g = { group: adapter.group, kinds: [] }));
    let k = g.kinds.find((x) => x.adapter.kind === s.kind);
    if (!k) g.kinds.push((k = { adapter, sources: [] }));
    k.sources.push(s);
  }
  return [...groups.values()].sort((a, b) => a.group.order - b.group.order);
}

export * from './adapter';
export * from './view-format';
