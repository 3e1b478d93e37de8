// RFC 4180 CSV primitives shared by the logger and the history export.

import { baseUnitSymbol, type SeriesValue } from '../../protocol';

/** Line terminator required by RFC 4180. */
export const CSV_EOL = '\r\n';

/** Quotes a field when it contains a comma, a quote, CR or LF (quotes doubled), per RFC 4180. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV record including its CRLF terminator. */
export function csvRow(fields: readonly string[]): string {
  let out = '';
  for (let i = 0; i < fields.length; i++) out += (i ? ',' : '') + csvField(fields[i] as string);
  return out + CSV_EOL;
}

/** A value cell: empty for null/missing, otherwise the shortest text that reads back to the same number. */
export function csvNumber(v: SeriesValue | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '' : String(v);
}

/**
 * A column's header: the series name and the unit of its cells as the formatter spells it
 * (`gpu.0.memory_used_bytes [B]`, `gpu.0.temperature_celsius [°C]`, `host.cpu_busy_ratio [ratio]`); a
 * count keeps its bare name. `label` wraps the name (`min(…)`) for derived columns.
 */
export function csvColumn(series: string, label: (name: string) => string = (n) => n): string {
  const unit = baseUnitSymbol(series);
  return unit ? `${label(series)} [${unit}]` : label(series);
}
