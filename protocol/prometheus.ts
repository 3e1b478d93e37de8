// Prometheus naming shared by the collector's /metrics and clients that query a Prometheus scraping it:
// `gpu.0.temperature_celsius` ⇄ `rigwatch_gpu_temperature_celsius{gpu="0"}` (docs/api.md), and label
// escaping for the text exposition format and PromQL selectors (the same three escapes).

/** Prefix of every metric the collector exposes. */
export const PROMETHEUS_PREFIX = 'rigwatch_';

/** A series as a Prometheus metric: name and labels. */
export interface PrometheusSeries {
  name: string;
  labels: Record<string, string>;
}

/** Most series names remembered by `mapSeries` (names repeat every tick). */
const MAP_CACHE_MAX_ENTRIES = 100_000;
const cache = new Map<string, PrometheusSeries>();

/** Maps a series name to a metric name and labels (memoised). */
export function mapSeries(series: string): PrometheusSeries {
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
  } else if (source === 'gpu' && middle.length === 3) {
    // gpu.<i>.<category>.<id>.<metric> (NVLink links, MIG instances): rigwatch_gpu_mig_memory_used_bytes{gpu="0",mig="1"}.
    name = `${source}_${middle[1]}_${metric}`;
    labels.gpu = middle[0];
    labels[middle[1]] = middle[2];
  } else if (source === 'host' && middle.length > 1) {
    // host.<category>.<id>.<metric>: the category is part of the name (host_cpu_busy_ratio{cpu="3"}).
    name = `${source}_${middle[0]}_${metric}`;
    labels[middle[0]] = middle.slice(1).join('.');
  } else {
    name = `${source}_${metric}`;
    labels[source] = middle[0];
    if (middle.length > 1) labels.sub = middle.slice(1).join('.');
  }
  m = { name: PROMETHEUS_PREFIX + sanitizeName(name), labels };
  if (cache.size < MAP_CACHE_MAX_ENTRIES) cache.set(series, m);
  return m;
}

/** A metric or label name with every character Prometheus does not allow turned into `_`. */
export function sanitizeName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

/** Escapes a label value for the exposition format and PromQL strings: backslash, quote, newline. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** `{a="1",b="x"}` from labels (names sanitised, values escaped); empty text for no labels. */
export function formatLabels(labels: Record<string, string>): string {
  const text = Object.entries(labels)
    .map(([k, v]) => `${sanitizeName(k)}="${escapeLabelValue(v)}"`)
    .join(',');
  return text ? `{${text}}` : '';
}
