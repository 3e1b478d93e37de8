// Pure formatters turning a history answer into a downloadable CSV or JSON document.

import { seriesUnit } from '../../protocol';
import type { HistoryAnswer } from '../contracts';
import { csvNumber, csvRow } from './csv';

/** Options of exportCsv. */
export interface CsvExportOptions {
  /** Adds `min(<series>)` and `max(<series>)` columns next to each average column. */
  minMax?: boolean;
}

/** Rows of CSV text per chunk yielded by exportCsvChunks. */
const CSV_ROWS_PER_CHUNK = 256;

/**
 * Wide CSV: `timestamp` (ISO-8601 UTC), then one column per series holding the bucket average
 * (optionally min/max too). Rows are the union of all bucket times; a series without a point at a
 * time has an empty cell, so columns never shift.
 */
export function exportCsv(answer: HistoryAnswer, opts: CsvExportOptions = {}): string {
  let out = '';
  for (const c of exportCsvChunks(answer, opts)) out += c;
  return out;
}

/**
 * The text of exportCsv in pieces of a few hundred rows, so a server can send it as the socket drains
 * instead of building one string. Each series' points are in time order, so one cursor per series
 * walks the sorted union of times (no per-series map).
 */
export function* exportCsvChunks(answer: HistoryAnswer, opts: CsvExportOptions = {}): Generator<string> {
  const header = ['timestamp'];
  for (const s of answer.series) {
    header.push(s.name);
    if (opts.minMax) header.push(`min(${s.name})`, `max(${s.name})`);
  }
  let n = 0;
  for (const s of answer.series) n += s.points.length;
  const all = new Float64Array(n);
  n = 0;
  for (const s of answer.series) for (const p of s.points) all[n++] = p[0];
  all.sort();
  const cursors = new Array<number>(answer.series.length).fill(0);
  let out = csvRow(header);
  let rows = 0;
  for (let i = 0; i < all.length; i++) {
    const t = all[i]!;
    if (i > 0 && t === all[i - 1]) continue;
    const row = [new Date(t).toISOString()];
    for (let k = 0; k < answer.series.length; k++) {
      const pts = answer.series[k]!.points;
      let c = cursors[k]!;
      while (c < pts.length && pts[c]![0] < t) c++;
      // Of several points at one time, the last one counts (as a map keyed by time would keep).
      while (c + 1 < pts.length && pts[c + 1]![0] === t) c++;
      cursors[k] = c;
      const p = c < pts.length && pts[c]![0] === t ? pts[c] : undefined;
      row.push(csvNumber(p ? p[2] : null));
      if (opts.minMax) row.push(csvNumber(p ? p[1] : null), csvNumber(p ? p[3] : null));
    }
    out += csvRow(row);
    if (++rows % CSV_ROWS_PER_CHUNK === 0) {
      yield out;
      out = '';
    }
  }
  if (out) yield out;
}

/** JSON document: range, and per series its unit, bucket width and points `{ t, time, min, avg, max }`. */
export function exportJson(answer: HistoryAnswer): string {
  let out = '';
  for (const c of exportJsonChunks(answer)) out += c;
  return out;
}

/** The text of exportJson in pieces (one per series), for sending as the socket drains. */
export function* exportJsonChunks(answer: HistoryAnswer): Generator<string> {
  const head = JSON.stringify(
    {
      format: 'rigwatch-history',
      version: 1,
      from: answer.from,
      to: answer.to,
      fromTime: new Date(answer.from).toISOString(),
      toTime: new Date(answer.to).toISOString(),
      series: [],
    },
    null,
    1,
  );
  // The document as JSON.stringify(doc, null, 1) prints it, series spliced into the empty array.
  const open = head.lastIndexOf('[]');
  if (answer.series.length === 0) {
    yield head;
    return;
  }
  yield head.slice(0, open) + '[\n';
  for (let i = 0; i < answer.series.length; i++) {
    const s = answer.series[i]!;
    const one = {
      name: s.name,
      unit: seriesUnit(s.name),
      stepMs: s.stepMs,
      points: s.points.map(([t, min, avg, max]) => ({ t, time: new Date(t).toISOString(), min, avg, max })),
    };
    // Indented as a second-level element of the document.
    const text = JSON.stringify(one, null, 1).replace(/\n/g, '\n  ');
    yield `  ${text}${i + 1 < answer.series.length ? ',' : ''}\n`;
  }
  yield ' ]' + head.slice(open + 2);
}
