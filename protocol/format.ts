// The one unit-aware formatter for every client and the collector's messages: status bar, trees,
// tooltips, notifications, dashboard, reports and alert text all print values through it, so a number
// reads the same everywhere. Conventions: one "no data" spelling (NO_DATA); a space between a number
// and its unit (`93 %`, `71.3 GiB`, `63 °C`); binary prefixes for bytes (KiB/MiB/GiB); about three
// significant digits; trailing zeros trimmed. Pure: imports nothing from Node, DOM or vscode.

import { SERIES_UNITS, seriesUnit, type SeriesUnit } from './series';

/** How a missing value is spelled everywhere. */
export const NO_DATA = 'n/a';

/** A unit a value can be shown in: a series unit, or `multiple` (× a baseline). */
export type DisplayUnit = SeriesUnit | 'multiple';

/** A value that may be missing. */
export type MaybeNumber = number | null | undefined;

/** Bytes in one GiB. */
export const BYTES_PER_GIB = 1024 ** 3;

const BYTE_PREFIXES = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;
const DECIMAL_PREFIXES = ['', 'k', 'M', 'G', 'T'] as const;
// Series units plus `multiple` (baseline rules compare a value with its median).
const UNIT_NAMES: ReadonlySet<string> = new Set<string>([...SERIES_UNITS, 'multiple']);

/** True when `v` is a real, finite number. */
export function hasValue(v: MaybeNumber): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** The display unit of a unit name or a series name (`gpu.0.memory_used_bytes` → `bytes`); null when unknown. */
export function displayUnit(seriesOrUnit: string | null | undefined): DisplayUnit | null {
  if (!seriesOrUnit) return null;
  if (UNIT_NAMES.has(seriesOrUnit)) return seriesOrUnit as DisplayUnit;
  return seriesUnit(seriesOrUnit);
}

/** Options of formatValue. */
export interface FormatOptions {
  /** Decimals added to the default precision (used to tell apart values that would print equal). */
  extraDigits?: number;
}

/**
 * Formats `value` for the unit of `seriesOrUnit` (a series name or a unit): `93 %`, `71.3 GiB`,
 * `63 °C`, `250 W`, `1.41 GHz`, `12 ms`, `1.2k/s`, `12.5 MiB/s`, `2.4×`; NO_DATA when missing.
 */
export function formatValue(seriesOrUnit: string | null | undefined, value: MaybeNumber, opts: FormatOptions = {}): string {
  if (!hasValue(value)) return NO_DATA;
  const x = opts.extraDigits ?? 0;
  switch (displayUnit(seriesOrUnit)) {
    case 'ratio':
      return formatPercent(value, x);
    case 'bytes':
      return formatBytes(value, { extraDigits: x });
    case 'bytes_per_second':
      return `${formatBytes(value, { extraDigits: x })}/s`;
    case 'celsius':
      return `${fixed(value, x)} °C`;
    case 'watts':
      return `${fixed(value, (Math.abs(value) >= 100 ? 0 : 1) + x)} W`;
    case 'hertz':
      return formatHertz(value, x);
    case 'seconds':
      return formatSeconds(value, x);
    case 'per_second':
      return `${formatDecimal(value, x)}/s`;
    case 'multiple':
      return `${sig(value, x)}×`;
    case 'joules':
      return formatJoules(value, x);
    case 'count':
    case 'total':
      return formatDecimal(value, x);
    default:
      return sig(value, x);
  }
}

/**
 * A compared value and its threshold, in the rule's unit, never printing equal when they differ
 * (`90.4 %` vs `90 %`, not `90 %` vs `90 %`): the value gains decimals until the two read apart.
 */
export function formatCompared(unit: string | null | undefined, value: MaybeNumber, threshold: MaybeNumber): [value: string, threshold: string] {
  const t = formatValue(unit, threshold);
  let v = formatValue(unit, value);
  if (hasValue(value) && hasValue(threshold) && value !== threshold) {
    for (let extra = 1; v === t && extra <= 4; extra++) v = formatValue(unit, value, { extraDigits: extra });
  }
  return [v, t];
}

/**
 * A ratio 0..1 as a percentage: whole percent (`93 %`), with a decimal only where rounding would
 * claim 0 % or 100 % of something that is not (`99.6 %`, `0.4 %`).
 */
export function formatPercent(ratio: MaybeNumber, extraDigits = 0): string {
  if (!hasValue(ratio)) return NO_DATA;
  const p = ratio * 100;
  let d = extraDigits;
  if (d === 0 && p !== 0 && p !== 100 && (Math.round(p) === 0 || Math.round(p) === 100)) d = 1;
  if (d === 1 && p !== 0 && p !== 100 && (Number(p.toFixed(1)) === 0 || Number(p.toFixed(1)) === 100)) d = 2;
  return `${fixed(p, d)} %`;
}

/** Options of formatBytes. */
export interface BytesOptions {
  /** Print in this prefix (e.g. `GiB`) instead of the value's own. */
  prefix?: (typeof BYTE_PREFIXES)[number];
  extraDigits?: number;
}

/** Bytes with binary prefixes: `512 MiB`, `71.3 GiB`, `1.5 TiB`. */
export function formatBytes(bytes: MaybeNumber, opts: BytesOptions = {}): string {
  if (!hasValue(bytes)) return NO_DATA;
  const i = opts.prefix ? BYTE_PREFIXES.indexOf(opts.prefix) : bytePrefixIndex(bytes);
  const v = bytes / 1024 ** i;
  return `${i === 0 ? fixed(v, opts.extraDigits ?? 0) : sig(v, opts.extraDigits ?? 0)} ${BYTE_PREFIXES[i]}`;
}

/**
 * A used/total pair in one prefix, chosen by the total: `71.3/79.6 GiB`; `compact` drops decimals
 * of 10 and more (`71/80 GiB`) for the status bar. Used never reads equal to total unless it is.
 */
export function formatUsedTotal(used: MaybeNumber, total: MaybeNumber, compact = false): string {
  const ref = hasValue(total) ? total : used;
  if (!hasValue(ref)) return `${NO_DATA}/${NO_DATA}`;
  const i = bytePrefixIndex(ref);
  const scale = 1024 ** i;
  const show = (v: MaybeNumber, x: number): string => {
    if (!hasValue(v)) return NO_DATA;
    const s = v / scale;
    return compact ? fixed(s, (Math.abs(s) >= 10 ? 0 : 1) + x) : sig(s, x);
  };
  let u = show(used, 0);
  const t = show(total, 0);
  if (hasValue(used) && hasValue(total) && used !== total) {
    for (let x = 1; u === t && x <= 3; x++) u = show(used, x);
  }
  return `${u}/${t} ${BYTE_PREFIXES[i]}`;
}

/** Clock frequency: `1.41 GHz`, `877 MHz`. */
export function formatHertz(hz: MaybeNumber, extraDigits = 0): string {
  if (!hasValue(hz)) return NO_DATA;
  const a = Math.abs(hz);
  if (a >= 1e9) return `${fixed(hz / 1e9, 2 + extraDigits)} GHz`;
  if (a >= 1e6) return `${fixed(hz / 1e6, extraDigits)} MHz`;
  if (a >= 1e3) return `${sig(hz / 1e3, extraDigits)} kHz`;
  return `${fixed(hz, extraDigits)} Hz`;
}

/** Seconds, as a latency or a duration: `850 µs`, `12.5 ms`, `1.5 s`, `3 min 20 s`, `2 h 5 min`, `3 d 4 h`. */
export function formatSeconds(s: MaybeNumber, extraDigits = 0): string {
  if (!hasValue(s)) return NO_DATA;
  const a = Math.abs(s);
  if (a === 0) return '0 s';
  if (a < 1e-3) return `${sig(s * 1e6, extraDigits)} µs`;
  if (a < 1) return `${sig(s * 1e3, extraDigits)} ms`;
  if (a < 60) return `${sig(s, extraDigits)} s`;
  const sign = s < 0 ? '-' : '';
  const r = Math.round(a);
  if (r < 3600) return `${sign}${Math.floor(r / 60)} min ${r % 60} s`;
  if (r < 86400) return `${sign}${Math.floor(r / 3600)} h ${Math.floor((r % 3600) / 60)} min`;
  return `${sign}${Math.floor(r / 86400)} d ${Math.floor((r % 86400) / 3600)} h`;
}

/** A duration in ms as the shortest exact phrase: `30 s`, `2 min`, `1 h`, `1.5 s`. */
export function formatDurationMs(ms: number): string {
  if (ms <= 0) return '0 s';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms >= 60_000) return formatSeconds(ms / 1000);
  return `${sig(ms / 1000, 0)} s`;
}

/** How long ago `t` was relative to `now`: `12 s ago`, `4 min ago`, `2 h 5 min ago`. */
export function formatAgo(t: number, now: number): string {
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${formatSeconds(s)} ago`;
}

/** A count or event rate with decimal prefixes past 10 000: `42`, `3.5`, `12.3k`, `4.1M`. */
export function formatDecimal(v: MaybeNumber, extraDigits = 0): string {
  if (!hasValue(v)) return NO_DATA;
  const a = Math.abs(v);
  if (a < 1e4) return Number.isInteger(v) ? String(v) : sig(v, extraDigits);
  let i = 0;
  let x = v;
  while (Math.abs(x) >= 1000 && i < DECIMAL_PREFIXES.length - 1) {
    x /= 1000;
    i++;
  }
  return `${sig(x, extraDigits)}${DECIMAL_PREFIXES[i]}`;
}

function bytePrefixIndex(bytes: number): number {
  let i = 0;
  let x = Math.abs(bytes);
  // 1000 MiB and more reads as GiB (`0.98 GiB`), so a value never prints four digits before its unit.
  while (x >= 1000 && i < BYTE_PREFIXES.length - 1) {
    x /= 1024;
    i++;
  }
  return i;
}

/** About three significant digits, at most two decimals, trailing zeros trimmed. */
function sig(v: number, extra: number): string {
  const a = Math.abs(v);
  const d = a >= 100 ? 0 : a >= 10 ? 1 : 2;
  return fixed(v, d + extra);
}

/** `v` to `digits` decimals with trailing zeros trimmed (and no `-0`). */
function fixed(v: number, digits: number): string {
  const n = Number(v.toFixed(Math.min(20, Math.max(0, digits))));
  return String(n === 0 ? 0 : n);
}

// ---------- axis ticks ----------

/** Ticks for a value axis: positions in base units, their labels in one prefix, the axis range. */
export interface AxisTicks {
  min: number;
  max: number;
  /** Step between ticks, in base units. */
  step: number;
  ticks: number[];
  labels: string[];
  /** The unit every label is printed in (`GiB`, `%`, `ms`, `MiB/s`, `°C`, ``). */
  unitLabel: string;
}

/** Options of niceTicks. */
export interface TickOptions {
  /** Most ticks wanted (default 5). */
  maxTicks?: number;
  /** The largest value the quantity can physically take (VRAM total, 100 %): the axis ends there. */
  physicalMax?: number | null;
  /** Lower end of the axis when known (default 0 for non-negative data). */
  min?: number;
}

/**
 * "Nice" ticks for a value axis in `seriesOrUnit`: 1-2-5 steps in the axis's own unit and prefix
 * (`0/20/40/60 GiB`, not `18.6/37.3 GiB`), whole steps for counts, one prefix for the whole axis,
 * and the axis maximum at the physical maximum when one is given.
 */
export function niceTicks(seriesOrUnit: string | null | undefined, dataMin: number, dataMax: number, opts: TickOptions = {}): AxisTicks {
  const unit = displayUnit(seriesOrUnit);
  const maxTicks = Math.max(2, opts.maxTicks ?? 5);
  let lo = opts.min ?? (hasValue(dataMin) && dataMin < 0 ? dataMin : 0);
  let hi = hasValue(opts.physicalMax) ? opts.physicalMax : hasValue(dataMax) ? Math.max(dataMax, lo) : lo;
  const { scale, label, integer } = axisScale(unit, Math.max(Math.abs(hi), Math.abs(lo)));
  let slo = lo / scale;
  let shi = hi / scale;
  if (shi - slo <= 0) shi = slo + (integer ? 1 : Math.abs(slo) > 0 ? Math.abs(slo) : 1);
  let step = nice125((shi - slo) / (maxTicks - 1));
  if (integer) step = Math.max(1, step);
  slo = Math.floor(slo / step + 1e-9) * step;
  const fixedTop = hasValue(opts.physicalMax);
  if (!fixedTop) shi = Math.ceil(shi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let k = 0; ; k++) {
    const v = slo + k * step;
    if (v > shi + step * 1e-9) break;
    ticks.push(roundTo(v, step));
  }
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const glued = /^[kMGT]?(\/s)?$/.test(label) || label === '×';
  const labels = ticks.map((v) => `${fixed(v, decimals)}${glued ? label : ' ' + label}`);
  lo = slo * scale;
  hi = shi * scale;
  return { min: lo, max: hi, step: step * scale, ticks: ticks.map((v) => v * scale), labels, unitLabel: label };
}

/** The smallest 1, 2 or 5 × 10^k at or above `raw`. */
export function nice125(raw: number): number {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  const m = f <= 1 + 1e-9 ? 1 : f <= 2 + 1e-9 ? 2 : f <= 5 + 1e-9 ? 5 : 10;
  return m * p;
}

function roundTo(v: number, step: number): number {
  const d = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return Number(v.toFixed(Math.min(20, d)));
}

/**
 * How the formatter spells a unit's base, unscaled value (what CSV files hold): `B`, `B/s`, `s`, `°C`,
 * `W`, `Hz`, `J`, `/s`, `×`; `ratio` for a 0–1 ratio (displayed as `%`); '' for counts, states and info.
 */
export function baseUnitSymbol(seriesOrUnit: string | null | undefined): string {
  const unit = displayUnit(seriesOrUnit);
  if (unit === 'ratio') return 'ratio';
  // The axis unit of a value of 1 is the unprefixed one.
  const a = axisScale(unit, 1);
  return a.scale === 1 ? a.label : '';
}

/** The factor that turns base units into the axis unit, its label, and whether steps are whole. */
function axisScale(unit: DisplayUnit | null, top: number): { scale: number; label: string; integer: boolean } {
  switch (unit) {
    case 'ratio':
      return { scale: 0.01, label: '%', integer: false };
    case 'bytes':
    case 'bytes_per_second': {
      const i = bytePrefixIndex(top);
      return { scale: 1024 ** i, label: `${BYTE_PREFIXES[i]}${unit === 'bytes_per_second' ? '/s' : ''}`, integer: i === 0 };
    }
    case 'seconds':
      if (top < 1e-3) return { scale: 1e-6, label: 'µs', integer: false };
      if (top < 1) return { scale: 1e-3, label: 'ms', integer: false };
      return { scale: 1, label: 's', integer: false };
    case 'hertz':
      if (top >= 1e9) return { scale: 1e9, label: 'GHz', integer: false };
      if (top >= 1e6) return { scale: 1e6, label: 'MHz', integer: false };
      return { scale: 1, label: 'Hz', integer: true };
    case 'celsius':
      return { scale: 1, label: '°C', integer: true };
    case 'watts':
      return { scale: 1, label: 'W', integer: false };
    case 'multiple':
      return { scale: 1, label: '×', integer: false };
    case 'joules':
      if (top >= JOULES_PER_KWH) return { scale: JOULES_PER_KWH, label: 'kWh', integer: false };
      if (top >= JOULES_PER_WH) return { scale: JOULES_PER_WH, label: 'Wh', integer: false };
      return { scale: 1, label: 'J', integer: false };
    case 'per_second':
    case 'count':
    case 'total': {
      let i = 0;
      let x = top;
      while (x >= 1e4 && i < DECIMAL_PREFIXES.length - 1) {
        x /= 1000;
        i++;
      }
      const p = DECIMAL_PREFIXES[i] as string;
      const integer = unit !== 'per_second' && i === 0;
      return { scale: 1000 ** i, label: unit === 'per_second' ? `${p}/s` : p, integer };
    }
    default:
      return { scale: 1, label: '', integer: false };
  }
}

/** Units whose axis prefix is printed apart from the number (`2.9 Wh`, `12 GiB`), so one prefix can be shared. */
const SPACED_PREFIX_UNITS: ReadonlySet<DisplayUnit> = new Set<DisplayUnit>(['joules', 'bytes', 'bytes_per_second', 'seconds', 'hertz', 'watts']);

/**
 * Several values of one unit side by side (a list, a total beside its parts) in one prefix, chosen by the
 * largest of them — never `2 Wh` next to `1549 J`. Only for units whose axis scale is a prefix (energy,
 * bytes, byte rates, seconds, hertz, watts); other units and missing values print as formatValue prints them.
 */
export function formatInOneUnit(seriesOrUnit: string | null | undefined, values: readonly MaybeNumber[]): string[] {
  const unit = displayUnit(seriesOrUnit);
  const present = values.filter(hasValue);
  if (unit === null || !SPACED_PREFIX_UNITS.has(unit) || present.length === 0) return values.map((v) => formatValue(seriesOrUnit, v));
  const top = Math.max(...present.map((v) => Math.abs(v)));
  const { scale, label } = axisScale(unit, top);
  return values.map((v) => (hasValue(v) ? `${sig(v / scale, 0)}${label ? ` ${label}` : ''}` : formatValue(seriesOrUnit, v)));
}

/** Disk use as `df` computes it: used / (used + available); blocks reserved for root count as neither. */
export function dfUsedRatio(usedBytes: MaybeNumber, availBytes: MaybeNumber): number | null {
  if (!hasValue(usedBytes) || !hasValue(availBytes) || usedBytes + availBytes <= 0) return null;
  return usedBytes / (usedBytes + availBytes);
}

/** Joules in one watt-hour. */
const JOULES_PER_WH = 3600;
/** Joules in one kilowatt-hour. */
const JOULES_PER_KWH = 3.6e6;

/** Energy in the unit people pay for: kWh from 1 kWh, Wh from 1 Wh, joules below. */
function formatJoules(value: number, extraDigits: number): string {
  const a = Math.abs(value);
  if (a >= JOULES_PER_KWH) return `${sig(value / JOULES_PER_KWH, extraDigits)} kWh`;
  if (a >= JOULES_PER_WH) return `${sig(value / JOULES_PER_WH, extraDigits)} Wh`;
  return `${sig(value, extraDigits)} J`;
}
