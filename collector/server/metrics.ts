// Prometheus text exposition of the latest sample: `gpu.0.temperature_celsius` becomes
// `rigwatch_gpu_temperature_celsius{gpu="0"}` by the mapping in protocol/prometheus.ts (docs/api.md).

import type { SampleMessage, SourceStatus } from '../../protocol';
import { escapeLabelValue as escapeLabel, formatLabels, mapSeries } from '../../protocol/prometheus';

function fmt(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Renders the exposition text: build info, source status, every non-null series, then `extra` lines (ALERTS). */
export function renderMetrics(sample: SampleMessage | undefined, sources: SourceStatus[], version: string, hostname: string, extra: string[] = []): string {
  const out: string[] = [];
  out.push('# HELP rigwatch_build_info Rigwatch collector build information.');
  out.push('# TYPE rigwatch_build_info gauge');
  out.push(`rigwatch_build_info{version="${escapeLabel(version)}",hostname="${escapeLabel(hostname)}"} 1`);
  out.push('# HELP rigwatch_source_up Whether a source is ready and sampling (1) or not (0).');
  out.push('# TYPE rigwatch_source_up gauge');
  for (const s of sources)
    out.push(`rigwatch_source_up{source="${escapeLabel(s.id)}",kind="${escapeLabel(s.kind)}",state="${s.state}"} ${s.state === 'ready' ? 1 : 0}`);
  if (sample) {
    const families = new Map<string, string[]>();
    for (const [series, v] of Object.entries(sample.series)) {
      if (v === null) continue;
      const m = mapSeries(series);
      let fam = families.get(m.name);
      if (!fam) families.set(m.name, (fam = []));
      fam.push(`${m.name}${formatLabels(m.labels)} ${fmt(v)}`);
    }
    for (const [name, lines] of families) {
      out.push(`# HELP ${name} Rigwatch series ${name.slice('rigwatch_'.length)} (see docs/series.md).`);
      out.push(`# TYPE ${name} gauge`);
      out.push(...lines);
    }
  }
  out.push(...extra);
  return out.join('\n') + '\n';
}
