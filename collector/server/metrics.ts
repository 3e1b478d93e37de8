// Prometheus text exposition of the latest sample: `gpu.0.temperature_celsius` becomes
// `rigwatch_gpu_temperature_celsius{gpu="0"}`; see docs/api.md for the mapping.

import type { SampleMessage, SourceStatus } from '../../protocol';

/** A Prometheus metric family: name, labels per sample. */
interface Mapped {
  name: string;
  labels: Record<string, string>;
}

const cache = new Map<string, Mapped>();

/** Maps a series name to a metric name and labels (memoised: names repeat every tick). */
export function mapSeries(series: string): Mapped {
  let m = cache.get(series);
  if (m) return m;
  const parts = series.split('.');
  const source = parts[0];
  const metric = parts[parts.length - 1];
  const middle = parts.slice(1, -1);
  let name: string;
  const labels: Record<string, string> = {};
  if (middle.length === 0) {
    name = `${source}_${metric}`;
  } else if (source === 'collector') {
    name = `${source}_${metric}`;
    labels.source = middle.join('.');
  } else if (source === 'host' && middle.length > 1) {
    // host.<category>.<id>.<metric>: the category is part of the name (host_cpu_busy_ratio{cpu="3"}).
    name = `${source}_${middle[0]}_${metric}`;
    labels[middle[0]] = middle.slice(1).join('.');
  } else {
    name = `${source}_${metric}`;
    labels[source] = middle[0];
    if (middle.length > 1) labels.sub = middle.slice(1).join('.');
  }
  m = { name: 'rigwatch_' + name.replace(/[^a-zA-Z0-9_]/g, '_'), labels };
  if (cache.size < 100_000) cache.set(series, m);
  return m;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

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
  for (const s of sources) out.push(`rigwatch_source_up{source="${escapeLabel(s.id)}",kind="${escapeLabel(s.kind)}",state="${s.state}"} ${s.state === 'ready' ? 1 : 0}`);
  if (sample) {
    const families = new Map<string, string[]>();
    for (const [series, v] of Object.entries(sample.series)) {
      if (v === null) continue;
      const m = mapSeries(series);
      const labelText = Object.entries(m.labels).map(([k, lv]) => `${k.replace(/[^a-zA-Z0-9_]/g, '_')}="${escapeLabel(lv)}"`).join(',');
      let fam = families.get(m.name);
      if (!fam) families.set(m.name, (fam = []));
      fam.push(`${m.name}${labelText ? `{${labelText}}` : ''} ${fmt(v)}`);
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
