// Reading values out of parsed families: label filtering, grouping, histogram assembly.

import type { Labels, MetricFamily, ParsedMetrics, Sample } from './parse';

/** One histogram series (one label set without `le`): cumulative buckets ascending by upper bound. */
export interface Histogram {
  labels: Labels;
  /** Cumulative counts; the last bucket is `+Inf` when the page had it. */
  buckets: { le: number; count: number }[];
  sum: number | null;
  count: number | null;
}

/** Samples of family `family` whose sample name is exactly `name` (default: the family name). */
export function samplesOf(parsed: ParsedMetrics, family: string, name = family): Sample[] {
  const f = parsed.families.get(family);
  if (f === undefined) return [];
  return f.samples.filter((s) => s.name === name);
}

/** The label values of `label` present on a family's samples, in order of appearance. */
export function labelValues(parsed: ParsedMetrics, family: string, label: string): string[] {
  const f = parsed.families.get(family);
  if (f === undefined) return [];
  const seen = new Set<string>();
  for (const s of f.samples) {
    const v = s.labels[label];
    if (v !== undefined) seen.add(v);
  }
  return [...seen];
}

/** Sum of the values of `name` samples matching `match` (every label in it equal); null when none. */
export function sumWhere(parsed: ParsedMetrics, family: string, match: Labels = {}, name = family): number | null {
  let total: number | null = null;
  for (const s of samplesOf(parsed, family, name)) {
    if (!labelsMatch(s.labels, match)) continue;
    total = (total ?? 0) + s.value;
  }
  return total;
}

/** True when every label in `match` has the same value in `labels`. */
export function labelsMatch(labels: Labels, match: Labels): boolean {
  for (const k in match) if (labels[k] !== match[k]) return false;
  return true;
}

/** Stable key of a label set without the named labels (used to group histogram lines). */
export function labelKey(labels: Labels, without: string[] = []): string {
  return Object.keys(labels)
    .filter((k) => !without.includes(k))
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
}

/** Assembles the histograms of a histogram family, one per label set (minus `le`), optionally filtered. */
export function histogramsOf(parsed: ParsedMetrics, family: string, match: Labels = {}): Histogram[] {
  const f: MetricFamily | undefined = parsed.families.get(family);
  if (f === undefined) return [];
  const byKey = new Map<string, Histogram>();
  const get = (labels: Labels): Histogram => {
    const key = labelKey(labels, ['le']);
    let h = byKey.get(key);
    if (h === undefined) {
      const rest: Labels = {};
      for (const k in labels) if (k !== 'le') rest[k] = labels[k];
      h = { labels: rest, buckets: [], sum: null, count: null };
      byKey.set(key, h);
    }
    return h;
  };
  const bucketName = family + '_bucket',
    sumName = family + '_sum',
    countName = family + '_count';
  for (const s of f.samples) {
    if (!labelsMatch(s.labels, match)) continue;
    if (s.name === bucketName) {
      const le = s.labels.le;
      if (le === undefined) continue;
      const bound = le === '+Inf' ? Infinity : Number(le);
      if (Number.isNaN(bound)) continue;
      get(s.labels).buckets.push({ le: bound, count: s.value });
    } else if (s.name === sumName) {
      get(s.labels).sum = s.value;
    } else if (s.name === countName) {
      get(s.labels).count = s.value;
    }
  }
  const out = [...byKey.values()];
  for (const h of out) h.buckets.sort((a, b) => a.le - b.le);
  return out;
}

/** Adds histograms with the same bucket bounds (e.g. all models of one server); null if bounds differ or none. */
export function sumHistograms(list: Histogram[], labels: Labels = {}): Histogram | null {
  if (list.length === 0) return null;
  const first = list[0];
  const out: Histogram = {
    labels,
    buckets: first.buckets.map((b) => ({ le: b.le, count: 0 })),
    sum: 0,
    count: 0,
  };
  for (const h of list) {
    if (h.buckets.length !== out.buckets.length) return null;
    for (let i = 0; i < h.buckets.length; i++) {
      if (h.buckets[i].le !== out.buckets[i].le) return null;
      out.buckets[i].count += h.buckets[i].count;
    }
    out.sum = h.sum === null || out.sum === null ? null : out.sum + h.sum;
    out.count = h.count === null || out.count === null ? null : out.count + h.count;
  }
  return out;
}

/**
 * Samples of `family` named `name` grouped by the value of `label`, in one pass (samples without
 * the label are left out). Readers of per-model pages use this instead of one filter per model,
 * which is quadratic in the number of models.
 */
export function groupByLabel(parsed: ParsedMetrics, family: string, label: string, name = family): Map<string, Sample[]> {
  const out = new Map<string, Sample[]>();
  const f = parsed.families.get(family);
  if (f === undefined) return out;
  for (const s of f.samples) {
    if (s.name !== name) continue;
    const v = s.labels[label];
    if (v === undefined) continue;
    const list = out.get(v);
    if (list === undefined) out.set(v, [s]);
    else list.push(s);
  }
  return out;
}

/** Sum of the values of `family` (sample `name`) per value of `label`, in one pass. */
export function sumByLabel(parsed: ParsedMetrics, family: string, label: string, name = family): Map<string, number> {
  const out = new Map<string, number>();
  const f = parsed.families.get(family);
  if (f === undefined) return out;
  for (const s of f.samples) {
    if (s.name !== name) continue;
    const v = s.labels[label];
    if (v === undefined) continue;
    out.set(v, (out.get(v) ?? 0) + s.value);
  }
  return out;
}

/** The histograms of `family` added up per value of `label` (one pass; null where bounds differ). */
export function histogramsByLabel(parsed: ParsedMetrics, family: string, label: string): Map<string, Histogram | null> {
  const grouped = new Map<string, Histogram[]>();
  for (const h of histogramsOf(parsed, family)) {
    const v = h.labels[label];
    if (v === undefined) continue;
    const list = grouped.get(v);
    if (list === undefined) grouped.set(v, [h]);
    else list.push(h);
  }
  const out = new Map<string, Histogram | null>();
  for (const [v, list] of grouped) out.set(v, sumHistograms(list, { [label]: v }));
  return out;
}
