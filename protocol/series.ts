// Series naming: `<source>.<instance>.<metric>_<unit>` in base units (bytes, seconds, ratio 0..1,
// celsius, watts, hertz, per_second, joules). Host-wide series omit the instance: `host.cpu_busy_ratio`.

/** Units a series name may end with. */
export const SERIES_UNITS = [
  'bytes',
  'seconds',
  'ratio',
  'celsius',
  'watts',
  'hertz',
  'per_second',
  'bytes_per_second',
  'count',
  'info',
  'state',
  'total',
  'joules',
] as const;

/** A unit suffix. */
export type SeriesUnit = (typeof SERIES_UNITS)[number];

const NAME_RE = /^[a-z][a-z0-9_]*(\.[A-Za-z0-9_:@-]+)*\.[a-z][a-z0-9_]*$/;

/** Builds a series name from parts, turning characters not allowed in a segment into `_`. */
export function seriesName(...parts: (string | number)[]): string {
  return parts.map((p, i) => (i === 0 ? String(p) : String(p).replace(/[^A-Za-z0-9_:@-]/g, '_'))).join('.');
}

/** True when `name` follows the naming rule and ends in a known unit. */
export function isValidSeriesName(name: string): boolean {
  return NAME_RE.test(name) && seriesUnit(name) !== null;
}

/** The unit suffix of a series name, or null. */
export function seriesUnit(name: string): SeriesUnit | null {
  const metric = name.slice(name.lastIndexOf('.') + 1);
  let best: SeriesUnit | null = null;
  for (const u of SERIES_UNITS) {
    if (metric === u || metric.endsWith('_' + u)) {
      if (!best || u.length > best.length) best = u;
    }
  }
  return best;
}

/** True when `name` matches a selector: exact, a prefix ending in `*`, or a pattern with `*` segments. */
export function matchesSelector(name: string, selector: string): boolean {
  if (!selector.includes('*')) return name === selector;
  if (selector.endsWith('*') && selector.indexOf('*') === selector.length - 1) {
    return name.startsWith(selector.slice(0, -1));
  }
  const re = new RegExp('^' + selector.split('*').map(escapeRe).join('[^.]*') + '$');
  return re.test(name);
}

function escapeRe(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
