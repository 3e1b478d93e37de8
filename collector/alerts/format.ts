// Alert message templates. Values are printed by the one formatter in protocol/format.ts, in the
// rule's own unit (a ratio rule prints %, never the series' watts).

import { formatDurationMs, type DisplayUnit } from '../../protocol';

/** The unit an alert's compared value is expressed in (`multiple` = × a baseline). */
export type ValueUnit = DisplayUnit;

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
  /** The companion value of a relative rule (`relativeTo`), formatted. */
  relativeTo: string;
  captures: readonly string[];
}

/**
 * Renders a message template: `{value}`, `{threshold}`, `{series}`, `{rule}`, `{severity}`,
 * `{op}` (above/below), `{for}`, `{reason}` (source-down only), `{relativeTo}` (the companion's value) and `$1`…`$9` (selector captures).
 */
export function renderMessage(template: string, vars: MessageVars): string {
  return template
    .replace(/\{(value|threshold|series|rule|severity|op|for|reason|relativeTo)\}/g, (_, k: keyof MessageVars) => String(vars[k]))
    .replace(/\$([1-9])/g, (_, d: string) => vars.captures[Number(d) - 1] ?? '');
}

/** Formats a duration in ms as `30 s`, `2 min`, `1 h`. */
export const formatDuration = formatDurationMs;
