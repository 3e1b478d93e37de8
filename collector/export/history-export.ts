// Pure formatters turning a history answer into a downloadable CSV or JSON document.

import { seriesUnit } from '../../protocol';
import type { HistorySeries } from '../../protocol';
import type { ColumnSeries, HistoryAnswer } from '../contracts';

export type { ColumnSeries };
import { csvColumn, csvNumber, csvRow } from './csv';

/** Options of exportCsv. */
export interface CsvExportOptions {
  /** Adds `min(<series>)` and `max(<series>)` columns next to each average column. */
  minMax?: boolean;
}

/** CSV text per piece yielded by the chunked exports (a few rows), in characters. */
const CSV_PIECE_CHARS = 16 * 1024;

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

/** Converts a series' point tuples to columns. */
export function toColumns(s: HistorySeries): ColumnSeries {
  const n = s.points.length;
  const c: ColumnSeries = {
    name: s.name,
    stepMs: s.stepMs,
    t: new Float64Array(n),
    min: new Float64Array(n),
    avg: new Float64Array(n),
    max: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    const [t, mn, av, mx] = s.points[i]!;
    c.t[i] = t;
    c.min[i] = mn ?? NaN;
    c.avg[i] = av ?? NaN;
    c.max[i] = mx ?? NaN;
  }
  return c;
}

/** The text of exportCsv in pieces of a few rows, so a server can send it as the socket drains. */
export function exportCsvChunks(answer: HistoryAnswer, opts: CsvExportOptions = {}): Generator<string> {
  return exportCsvColumnChunks(answer.series.map(toColumns), opts);
}

/**
 * exportCsv from columns, in pieces. Each series' points are in time order, so one cursor per series
 * walks the sorted union of times (no per-series map).
 */
export function* exportCsvColumnChunks(series: readonly ColumnSeries[], opts: CsvExportOptions = {}): Generator<string> {
  const header = ['timestamp'];
  for (const s of series) {
    header.push(csvColumn(s.name));
    if (opts.minMax)
      header.push(
        csvColumn(s.name, (n) => `min(${n})`),
        csvColumn(s.name, (n) => `max(${n})`),
      );
  }
  // The union of times by merging the sorted columns one by one (series mostly share their times, so
  // this is near-linear; a sort of all times is several times slower).
  let all: Float64Array = new Float64Array(0);
  for (const s of series) {
    all = mergeSorted(all, s.t);
    yield ''; // lets a server that sends the pieces give other work a turn
  }
  const cursors = new Array<number>(series.length).fill(0);
  const cell = (v: number): string => csvNumber(Number.isNaN(v) ? null : v);
  let out = csvRow(header);
  for (let i = 0; i < all.length; i++) {
    const t = all[i]!;
    const row = [new Date(t).toISOString()];
    for (let k = 0; k < series.length; k++) {
      const s = series[k]!;
      let c = cursors[k]!;
      while (c < s.t.length && s.t[c]! < t) c++;
      // Of several points at one time, the last one counts (as a map keyed by time would keep).
      while (c + 1 < s.t.length && s.t[c + 1] === t) c++;
      cursors[k] = c;
      const hit = c < s.t.length && s.t[c] === t;
      row.push(hit ? cell(s.avg[c]!) : '');
      if (opts.minMax) row.push(hit ? cell(s.min[c]!) : '', hit ? cell(s.max[c]!) : '');
    }
    out += csvRow(row);
    if (out.length >= CSV_PIECE_CHARS) {
      yield out;
      out = '';
    }
  }
  if (out) yield out;
}

/** The sorted union (no duplicates) of a sorted, duplicate-free `a` and a sorted `b`. */
function mergeSorted(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length || j < b.length) {
    const x = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i++]! : b[j++]!;
    if (n === 0 || out[n - 1] !== x) out[n++] = x;
  }
  return n === out.length ? out : out.slice(0, n);
}

/** JSON document: range, and per series its unit, bucket width and points `{ t, time, min, avg, max }`. */
export function exportJson(answer: HistoryAnswer): string {
  let out = '';
  for (const c of exportJsonChunks(answer)) out += c;
  return out;
}

/** The text of exportJson in pieces (one per series), for sending as the socket drains. */
export function exportJsonChunks(answer: HistoryAnswer): Generator<string> {
  return exportJsonSeriesChunks(answer.from, answer.to, answer.series);
}

/** exportJson of series produced one at a time (each is only read when its piece is asked for). */
export function* exportJsonSeriesChunks(from: number, to: number, series: Iterable<HistorySeries>): Generator<string> {
  const head = JSON.stringify(
    { format: 'rigwatch-history', version: 1, from, to, fromTime: new Date(from).toISOString(), toTime: new Date(to).toISOString(), series: [] },
    null,
    1,
  );
  // The document as JSON.stringify(doc, null, 1) prints it, series spliced into the empty array.
  const open = head.lastIndexOf('[]');
  let first = true;
  for (const s of series) {
    const one = {
      name: s.name,
      unit: seriesUnit(s.name),
      stepMs: s.stepMs,
      points: s.points.map(([t, min, avg, max]) => ({ t, time: new Date(t).toISOString(), min, avg, max })),
    };
    // Indented as a second-level element of the document.
    const text = JSON.stringify(one, null, 1).replace(/\n/g, '\n  ');
    yield `${first ? head.slice(0, open) + '[\n' : ',\n'}  ${text}`;
    first = false;
  }
  yield first ? head : '\n ]' + head.slice(open + 2);
}
