// Display formatting: base units from the wire (bytes, ratio, celsius, watts, hertz, seconds) to text.
// Every formatter takes `number | null | undefined` and renders a missing value as "n/a", never as 0.

/** What a missing value looks like everywhere in the dashboard. */
export const NA = 'n/a';

/** A value that may be missing. */
export type Maybe = number | null | undefined;

/** True when `v` is a real, finite number. */
export function has(v: Maybe): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Bytes with binary prefixes: `10.2 GiB`. */
export function fmtBytes(v: Maybe, digits = 1): string {
  if (!has(v)) return NA;
  let x = Math.abs(v);
  let i = 0;
  while (x >= 1024 && i < BYTE_UNITS.length - 1) {
    x /= 1024;
    i++;
  }
  const s = i === 0 ? String(Math.round(x)) : x.toFixed(x >= 100 ? 0 : digits);
  return `${v < 0 ? '-' : ''}${s} ${BYTE_UNITS[i]}`;
}

/** Bytes per second: `12.5 MiB/s`. */
export function fmtRate(v: Maybe): string {
  return has(v) ? `${fmtBytes(v)}/s` : NA;
}

/** A ratio 0..1 as a percentage: `42 %`. */
export function fmtPercent(v: Maybe, digits = 0): string {
  return has(v) ? `${(v * 100).toFixed(digits)} %` : NA;
}

/** Degrees Celsius: `67 °C`. */
export function fmtCelsius(v: Maybe): string {
  return has(v) ? `${Math.round(v)} °C` : NA;
}

/** Watts: `250 W`. */
export function fmtWatts(v: Maybe): string {
  return has(v) ? `${v >= 100 ? Math.round(v) : v.toFixed(1)} W` : NA;
}

/** Clock frequency: `1.41 GHz` / `877 MHz`. */
export function fmtHertz(v: Maybe): string {
  if (!has(v)) return NA;
  if (v >= 1e9) return `${(v / 1e9).toFixed(2)} GHz`;
  if (v >= 1e6) return `${Math.round(v / 1e6)} MHz`;
  return `${Math.round(v)} Hz`;
}

/** A duration given in seconds: `850 µs`, `12 ms`, `1.5 s`, `3 m 20 s`, `2 h 5 m`, `3 d 4 h`. */
export function fmtSeconds(v: Maybe): string {
  if (!has(v)) return NA;
  const a = Math.abs(v);
  if (a < 1e-3) return `${Math.round(v * 1e6)} µs`;
  if (a < 1) return `${v * 1e3 >= 100 ? Math.round(v * 1e3) : (v * 1e3).toFixed(1)} ms`;
  if (a < 60) return `${v.toFixed(a < 10 ? 2 : 1)} s`;
  const s = Math.round(a);
  if (s < 3600) return `${Math.floor(s / 60)} m ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} m`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

/** A plain count or rate with an optional suffix: `1.2k /s`. */
export function fmtNumber(v: Maybe, suffix = ''): string {
  if (!has(v)) return NA;
  const a = Math.abs(v);
  let s: string;
  if (a >= 1e9) s = `${(v / 1e9).toFixed(1)}G`;
  else if (a >= 1e6) s = `${(v / 1e6).toFixed(1)}M`;
  else if (a >= 1e4) s = `${(v / 1e3).toFixed(1)}k`;
  else if (Number.isInteger(v)) s = String(v);
  else s = v.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : 2);
  return suffix ? `${s} ${suffix}` : s;
}

/** A rate of events: `12.5 /s`. */
export function fmtPerSecond(v: Maybe): string {
  return fmtNumber(v, '/s');
}

/** A plain count. */
export function fmtCount(v: Maybe): string {
  return fmtNumber(v);
}

/** The formatter for a series, chosen by its unit suffix. */
export function formatterFor(series: string): (v: Maybe) => string {
  if (series.endsWith('_bytes_per_second')) return fmtRate;
  if (series.endsWith('_per_second')) return fmtPerSecond;
  if (series.endsWith('_bytes')) return fmtBytes;
  if (series.endsWith('_ratio')) return fmtPercent;
  if (series.endsWith('_celsius')) return fmtCelsius;
  if (series.endsWith('_watts')) return fmtWatts;
  if (series.endsWith('_hertz')) return fmtHertz;
  if (series.endsWith('_seconds')) return fmtSeconds;
  return fmtCount;
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
  1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000,
  3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000, 172_800_000,
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
