// The ViewFormat every view hands to the adapters: the protocol's one formatter, plus the view's own
// Markdown escaping (tree tooltips escape; the dashboard renders plain text).

import { formatBytes, formatPercent, formatSeconds, formatUsedTotal, formatValue, hasValue, NO_DATA } from '../../protocol';
import type { ViewFormat } from './adapter';

/** The house formatter for a view whose tooltips use `markdown` to escape plain text. */
export function viewFormat(markdown: (text: string) => string): ViewFormat {
  return {
    value: (unit, v) => formatValue(unit, v),
    percent: (r) => formatPercent(r),
    number: (v, digits = 1, unit = '') => (hasValue(v) ? `${Number(v.toFixed(digits))}${unit}` : NO_DATA),
    bytes: (v) => formatBytes(v),
    seconds: (v) => formatSeconds(v),
    usedTotal: (used, total, compact) => formatUsedTotal(used, total, compact),
    markdown,
  };
}
