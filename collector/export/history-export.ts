// Pure formatters turning a history answer into a downloadable CSV or JSON document.

import { seriesUnit } from '../../protocol';
import type { HistoryAnswer } from '../contracts';
import { csvNumber, csvRow } from './csv';

/** Options of exportCsv. */
export interface CsvExportOptions {
  /** Adds `min(<series>)` and `max(<series>)` columns next to each average column. */
  minMax?: boolean;
}

/**
 * Wide CSV: `timestamp` (ISO-8601 UTC), then one column per series holding the bucket average
 * (optionally min/max too). Rows are the union of all bucket times; a series without a point at a
 * time has an empty cell, so columns never shift.
 */
export function exportCsv(answer: HistoryAnswer, opts: CsvExportOptions = {}): string {
  const header = ['timestamp'];
  for (const s of answer.series) {
    header.push(s.name);
    if (opts.minMax) header.push(`min(${s.name})`, `max(${s.name})`);
  }
  const times = new Set<number>();
  const byTime = answer.series.map((s) => {
    const m = new Map<number, (typeof s.points)[number]>();
    for (const p of s.points) {
      m.set(p[0], p);
      times.add(p[0]);
    }
    return m;
  });
  const sorted = [...times].sort((a, b) => a - b);
  let out = csvRow(header);
  for (const t of sorted) {
    const row = [new Date(t).toISOString()];
    for (const m of byTime) {
      const p = m.get(t);
      row.push(csvNumber(p ? p[2] : null));
      if (opts.minMax) row.push(csvNumber(p ? p[1] : null), csvNumber(p ? p[3] : null));
    }
    out += csvRow(row);
  }
  return out;
}

/** JSON document: range, and per series its unit, bucket width and points `{ t, time, min, avg, max }`. */
export function exportJson(answer: HistoryAnswer): string {
  const doc = {
    format: 'rigwatch-history',
    version: 1,
    from: answer.from,
    to: answer.to,
    fromTime: new Date(answer.from).toISOString(),
    toTime: new Date(answer.to).toISOString(),
    series: answer.series.map((s) => ({
      name: s.name,
      unit: seriesUnit(s.name),
      stepMs: s.stepMs,
      points: s.points.map(([t, min, avg, max]) => ({ t, time: new Date(t).toISOString(), min, avg, max })),
    })),
  };
  return JSON.stringify(doc, null, 1);
}
