// The history request as an HTTP query (`GET /api/history?series=…&from=…`), for clients answering a
// history or export request over HTTP instead of the socket.

/** The fields of a history or export request that travel in the query string. */
export interface HistoryQueryFields {
  series: string[];
  from?: number;
  to?: number;
  points?: number;
  since?: number;
}

/** `series=a,b&from=…&to=…&points=…&since=…` (absent fields left out). */
export function historyQuery(o: HistoryQueryFields): string {
  const p = new URLSearchParams({ series: o.series.join(',') });
  for (const k of ['from', 'to', 'points', 'since'] as const) if (o[k] !== undefined) p.set(k, String(o[k]));
  return p.toString();
}

/** Prefix of the ids of backfill requests, so replies can be told from a view's own history requests. */
export const BACKFILL_ID_PREFIX = 'backfill';
