// Human-readable values for alert messages: the unit comes from the series name (or the rule), and
// ratios read as percentages, bytes as binary multiples, seconds as ms/s, baselines as multiples.

import type { SeriesUnit } from '../../protocol';

/** The unit an alert's compared value is expressed in (`multiple` = × a baseline). */
export type ValueUnit = SeriesUnit | 'multiple';

/** Formats `v` in `unit` for a message (`92.3 %`, `78 °C`, `1.5 GiB`, `250 ms`, `2.4×`). */
export function formatValue(v: number | null, unit: ValueUnit | null): string {
  if (v === null || !Number.isFinite(v)) return 'n/a';
  switch (unit) {
    case 'ratio':
      return `${trim(v * 100)} %`;
    case 'celsius':
      return `${trim(v)} °C`;
    case 'watts':
      return `${trim(v)} W`;
    case 'bytes':
      return bytes(v);
    case 'bytes_per_second':
      return `${bytes(v)}/s`;
    case 'per_second':
      return `${trim(v)}/s`;
    case 'seconds':
      return Math.abs(v) < 1 ? `${trim(v * 1000)} ms` : `${trim(v)} s`;
    case 'hertz':
      return Math.abs(v) >= 1e6 ? `${trim(v / 1e6)} MHz` : `${trim(v)} Hz`;
    case 'multiple':
      return `${trim(v)}×`;
    default:
      return trim(v);
  }
}

/** Values for the placeholders of a message template. */
export interface MessageVars {
  rule: string;
  series: string;
  severity: string;
  value: string;
  threshold: string;
  op: string;
  for: string;
  reason: string;
  /** What the value is about, from the source (`{subject}`), e.g. `pid 42 python train.py (alice, container trainer)`. */
  subject?: string;
  captures: readonly string[];
}

/**
 * Renders a message template: `{value}`, `{threshold}`, `{series}`, `{rule}`, `{severity}`,
 * `{op}` (above/below), `{for}`, `{reason}` (source-down only), `{subject}` (what a value is about,
 * from the source) and `$1`…`$9` (selector captures).
 */
export function renderMessage(template: string, vars: MessageVars): string {
  return template
    .replace(/\{(value|threshold|series|rule|severity|op|for|reason|subject)\}/g, (_, k: keyof MessageVars) => String(vars[k] ?? 'n/a'))
    .replace(/\$([1-9])/g, (_, d: string) => vars.captures[Number(d) - 1] ?? '');
}

/** Formats a duration in ms as `30 s`, `2 min`, `1 h`. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0 s';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${trim(ms / 1000)} s`;
}

function bytes(v: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let x = v;
  let i = 0;
  while (Math.abs(x) >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${trim(x)} ${units[i]}`;
}

function trim(v: number): string {
  const a = Math.abs(v);
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : 2;
  return String(Number(v.toFixed(digits)));
}
