// Model servers: one row per server (vLLM, TGI, Triton, Ollama, llama.cpp) across the models sources.

import type { ModelsDetails } from '../../../protocol';
import { modelServerSeries } from '../../../protocol/keys';
import { detailsOf, seriesValue, type SourceViewAdapter, type ViewItem } from '../adapter';
import { MODELS_GROUP } from '../groups';
import { notReadyItem } from '../source-items';

/** Model-server endpoints. */
export const modelsAdapter: SourceViewAdapter = {
  kind: 'models',
  group: MODELS_GROUP,
  icon: 'hubot',
  section: 'rw-model-cards',
  label: (s) => s.id,
  describe(sources, { sample, fmt }) {
    const items: ViewItem[] = [];
    for (const s of sources) {
      const det = detailsOf(sample, s.id) as ModelsDetails | undefined;
      if (s.state !== 'ready' && !det) {
        items.push(notReadyItem(`src/${s.id}`, s.id, s, fmt));
        continue;
      }
      for (const srv of det?.kind === 'models' ? det.servers : []) {
        const num = (metric: string): number | null => seriesValue(sample, modelServerSeries(srv.name, metric));
        const running = num('requests_running_count') ?? num('slots_busy_count');
        items.push({
          key: `model/${srv.name}`,
          label: srv.name,
          description: srv.up
            ? `${srv.kind} · ${fmt.seconds(num('latency_seconds'))}${running !== null ? ` · ${running} running` : ''}${srv.models.length ? ` · ${srv.models.length} model${srv.models.length > 1 ? 's' : ''}` : ''}`
            : `down${srv.error ? ': ' + srv.error : ''}`,
          tooltip: `**${fmt.markdown(srv.name)}** (${srv.kind}) — ${fmt.markdown(srv.url)}${srv.models.length ? '\n\n' + srv.models.map((m) => `- ${fmt.markdown(m.name)}${m.vramBytes !== null ? ` · ${fmt.bytes(m.vramBytes)} VRAM` : ''}`).join('\n') : ''}${srv.error ? `\n\n${fmt.markdown(srv.error)}` : ''}`,
          icon: srv.up ? { id: 'hubot', color: 'testing.iconPassed' } : { id: 'error', color: 'list.errorForeground' },
          contextValue: 'rigwatch.model',
        });
      }
    }
    return items;
  },
  charts(s, { sample }) {
    const det = detailsOf(sample, s.id) as ModelsDetails | undefined;
    const servers = det?.kind === 'models' ? det.servers : [];
    return [{ title: 'Latency', lines: servers.map((srv) => ({ series: modelServerSeries(srv.name, 'latency_seconds'), label: srv.name })) }];
  },
};
