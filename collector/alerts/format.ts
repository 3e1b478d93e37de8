// Alert message templates. Values are printed by the one formatter in protocol/format.ts, in the
// rule's own unit (a ratio rule prints %, never the series' watts).

import { formatDurationMs, type DisplayUnit } from '../../protocol';
import { describeXid } from '../../protocol/details/gpu-xid';

/** The unit an alert's compared value is expressed in (`multiple` = × a baseline). */
export type ValueUnit = DisplayUnit;

/** Values for the placeholders of a message template. */
export interface MessageVars {
  rule: string;
  series: string;
  severity: string;
  value: string;
  threshold: string;
  op: string;
  for: string;
  reason: string;
  /** The companion value of a relative rule (`relativeTo`), formatted. */
  relativeTo: string;
  /** What the value is about, from the source (`{subject}`), e.g. `pid 42 python train.py (alice, container trainer)`. */
  subject?: string;
  captures: readonly string[];
  /** The compared series' raw value (for lookups such as `{remap}`). */
  raw?: number | null;
  /** When the value last changed, wall-clock ms (`{changed}`). */
  changedAt?: number;
}

/**
 * Text lookups usable in messages as `{name}` or `{name:arg}` (arg after `$n` substitution): `{xid:$2}`
 * describes an Xid from NVIDIA's catalogue; `{remap}` reads a row-remapping state value.
 */
const LOOKUPS: Record<string, (arg: string, vars: MessageVars) => string> = {
  xid: (arg) => describeXid(arg),
  remap: (_arg, vars) =>
    vars.raw === 2
      ? 'row remapping failed: contact NVIDIA support / RMA the GPU'
      : vars.raw === 1
        ? 'has a row remapping pending: the GPU needs a reset (no new work until then)'
        : 'row remapping is fine',
};

/**
 * Renders a message template: `{value}`, `{threshold}`, `{series}`, `{rule}`, `{severity}`,
 * `{op}` (above/below), `{for}`, `{reason}` (source-down only), `{relativeTo}` (the companion's value), `{subject}` (what a value is about, from the source) and `$1`…`$9` (selector captures).
 */
export function renderMessage(template: string, vars: MessageVars): string {
  return template
    .replace(/\{(value|threshold|series|rule|severity|op|for|reason|relativeTo|subject)\}/g, (_, k: keyof MessageVars) => String(vars[k] ?? 'n/a'))
    .replace(/\{changed\}/g, () => (vars.changedAt === undefined ? 'n/a' : new Date(vars.changedAt).toISOString().slice(11, 19) + ' UTC'))
    .replace(/\$([1-9])/g, (_, d: string) => vars.captures[Number(d) - 1] ?? '')
    .replace(/\{([a-z]+)(?::([^}]*))?\}/g, (whole, name: string, arg: string | undefined) => {
      const f = LOOKUPS[name];
      return f ? f(arg ?? '', vars) : whole;
    });
}

/** Formats a duration in ms as `30 s`, `2 min`, `1 h`. */
export const formatDuration = formatDurationMs;
