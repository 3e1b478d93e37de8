// Dashboard formatting. Values and units come from the one formatter in protocol/format.ts (the same
// text as the status bar, tree, notifications and alert messages); this file only adapts its names
// for the components and keeps the time-axis helpers. A missing value is NO_DATA, never 0.

import {
  formatBytes,
  formatDecimal,
  formatHertz,
  formatPercent,
  formatSeconds,
  formatUsedTotal,
  formatValue,
  hasValue,
  NO_DATA,
  type MaybeNumber,
} from '../protocol';

/** What a missing value looks like everywhere. */
export const NA = NO_DATA;

/** A value that may be missing. */
export type Maybe = MaybeNumber;

/** True when `v` is a real, finite number. */
export const has = hasValue;

/** Bytes with binary prefixes: `10.2 GiB`. */
export function fmtBytes(v: Maybe): string {
  return formatBytes(v);
}

/** Bytes per second: `12.5 MiB/s`. */
export function fmtRate(v: Maybe): string {
  return formatValue('bytes_per_second', v);
}

/** A ratio 0..1 as a percentage: `42 %`. */
export function fmtPercent(v: Maybe): string {
  return formatPercent(v);
}

/** Degrees Celsius: `67 °C`. */
export function fmtCelsius(v: Maybe): string {
  return formatValue('celsius', v);
}

/** Watts: `250 W`. */
export function fmtWatts(v: Maybe): string {
  return formatValue('watts', v);
}

/** Clock frequency: `1.41 GHz` / `877 MHz`. */
export function fmtHertz(v: Maybe): string {
  return formatHertz(v);
}

/** Seconds as a latency or duration: `850 µs`, `12 ms`, `1.5 s`, `3 min 20 s`. */
export function fmtSeconds(v: Maybe): string {
  return formatSeconds(v);
}

/** A count or rate with an optional suffix glued on: `1.2k/s`, `12 tok/s`. */
export function fmtNumber(v: Maybe, suffix = ''): string {
  if (!has(v)) return NA;
  const s = formatDecimal(v);
  return suffix ? `${s}${suffix.startsWith('/') ? '' : ' '}${suffix}` : s;
}

/** A rate of events: `12.5/s`. */
export function fmtPerSecond(v: Maybe): string {
  return formatValue('per_second', v);
}

/** A plain count. */
export function fmtCount(v: Maybe): string {
  return formatValue('count', v);
}

/** "used/total" in one prefix: `71.3/79.6 GiB`. */
export function fmtUsedTotal(used: Maybe, total: Maybe): string {
  return formatUsedTotal(used, total);
}

/** The formatter for a series, chosen by its unit suffix. */
export function formatterFor(series: string): (v: Maybe) => string {
  return (v) => formatValue(series, v);
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** A time-axis tick label; the precision follows the visible span. */
export function fmtTick(t: number, spanMs: number): string {
  const d = new Date(t);
  const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  if (spanMs <= 20 * 60_000) return `${hm}:${pad2(d.getSeconds())}`;
  if (spanMs <= 36 * 3_600_000) return hm;
  return `${DAYS[d.getDay()]} ${hm}`;
}

/** A clock time with seconds, for "updated at" texts. */
export function fmtClock(t: number): string {
  const d = new Date(t);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** "3 m ago" style relative time. */
export function fmtAgo(t: number, now: number): string {
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s} s ago`;
  return `${fmtSeconds(s)} ago`;
}

// Tick steps a human reads well on a time axis, in ms.
const TICK_STEPS_MS = [
  1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000,
  86_400_000, 172_800_000,
];

/** Tick positions aligned to whole seconds/minutes/hours in local time, at most `maxTicks` of them. */
export function timeTicks(min: number, max: number, maxTicks: number): number[] {
  const span = max - min;
  if (!(span > 0) || maxTicks < 1) return [];
  const step = TICK_STEPS_MS.find((s) => span / s <= maxTicks) ?? TICK_STEPS_MS[TICK_STEPS_MS.length - 1];
  // Align to local time: shift by the timezone offset so hour/day ticks fall on local boundaries.
  const tz = new Date(min).getTimezoneOffset() * 60_000;
  const out: number[] = [];
  for (let t = Math.ceil((min - tz) / step) * step + tz; t <= max; t += step) out.push(t);
  return out;
}
