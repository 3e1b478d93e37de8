// Pure helpers of the run page: scalar formatting, tag keys shared across runs, chart order, and the
// pairing of a scalar with its step for the by-step compare chart. No DOM: tested in Node.

import type { RunInfo, RunScalar } from '../protocol/details/runs';
import { fmtNumber, has, NA, type Maybe } from './format';
import type { ChartPoint } from './series-buffer';

/** A scalar's value as text: below 1 (losses, learning rates) in 3 significant digits, never rounded to 0. */
export function fmtScalar(v: Maybe): string {
  if (!has(v)) return NA;
  if (v !== 0 && Math.abs(v) < 1) return String(Number(v.toPrecision(3)));
  return fmtNumber(v);
}

/** The part of a scalar's series key after `run.<id>.`: the same tag in every run. */
export function tagKey(runId: string, seriesKey: string): string {
  const prefix = `run.${runId}.`;
  return seriesKey.startsWith(prefix) ? seriesKey.slice(prefix.length) : seriesKey;
}

/** The scalars in chart order: loss-like, then throughput and learning rate, then as logged. */
export function orderedScalars(r: RunInfo): RunScalar[] {
  const rank = (s: RunScalar): number =>
    s.key === r.loss?.key ? 0 : /loss|nll|perplexity/i.test(s.tag) ? 1 : s.key === r.throughput?.key ? 2 : /(^|[^a-z])(lr|learning.?rate)/i.test(s.tag) ? 3 : 4;
  return r.scalars
    .map((s, i) => ({ s, i }))
    .sort((a, b) => rank(a.s) - rank(b.s) || a.i - b.i)
    .map((x) => x.s);
}

/**
 * (step, value) points of one run from its two buffers: each value takes the step logged at or before
 * its time; a step held over several ticks keeps its last value (the series repeat the latest value
 * every tick). Pure, for tests.
 */
export function stepPoints(values: readonly ChartPoint[], steps: readonly ChartPoint[]): ChartPoint[] {
  const out: ChartPoint[] = [];
  let j = -1;
  for (const p of values) {
    while (j + 1 < steps.length && steps[j + 1].x <= p.x) j++;
    const s = j >= 0 ? steps[j].y : null;
    if (s === null || p.y === null) continue;
    const last = out[out.length - 1];
    if (last && last.x === s) last.y = p.y;
    else out.push({ x: s, y: p.y });
  }
  return out;
}
