// Alert rules: the resolved shape the engine evaluates, the defaults (SPEC §3), and the parser that
// merges `config.alerts` into them and rejects bad rules naming the rule and the field.

import { seriesUnit, SERIES_UNITS } from '../../protocol';
import { ConfigError } from '../config-error';
import { captureCount } from './selector';
import type { ValueUnit } from './format';

/** How a value is compared with the levels. */
export type Comparison = 'above' | 'below';

/** A rolling-median baseline: the compared value is `current / median(last window)`. */
export interface BaselineSpec {
  windowMs: number;
  /** Baseline samples needed before the rule evaluates at all. */
  minSamples: number;
}

/** A fully resolved rule (every default applied, levels in base units or × for baselines). */
export interface AlertRule {
  id: string;
  /** Series name or pattern; each matching series is its own instance. */
  selector: string;
  comparison: Comparison;
  warning: number | null;
  critical: number | null;
  /** How long the warning condition must hold before firing. */
  warningForMs: number;
  /** How long the critical condition must hold before firing/escalating at critical. */
  criticalForMs: number;
  /** Firing warning stays until the value is no longer beyond this level (hysteresis). */
  warningClear: number | null;
  /** Firing critical de-escalates once the value is no longer beyond this level. */
  criticalClear: number | null;
  /** Once nothing holds, keep firing this long before resolving. */
  keepFiringForMs: number;
  /** Denominator series template (`$1`… are the selector's captures); the value becomes a ratio. */
  ratioTo: string | null;
  baseline: BaselineSpec | null;
  /** Companion series template: the rule applies only while that series is null or absent. */
  whenMissing: string | null;
  /** Companion series template: the compared value is `value - companion` (levels are offsets from it). */
  relativeTo: string | null;
  /** When > 0, the value must also exceed where it was this long ago to start firing ("and growing"). */
  growingOverMs: number;
  /** Raw values below this never breach (e.g. tiny latencies for baselines). */
  minValue: number | null;
  /** Unit of the compared value, for messages; null derives it from the series name. */
  unit: ValueUnit | null;
  /** Message template (see format.ts renderMessage). */
  message: string;
  /** A firing instance whose value is missing or null this long resolves. */
  staleAfterMs: number;
  /** Compare the series' increase since the previous tick (counters of events), not its value. */
  increase: boolean;
  /** An acknowledged firing instance resolves once its condition no longer holds (skips keepFiringFor). */
  resolveOnAck: boolean;
}

/** Options of the engine besides rules. */
export interface AlertOptions {
  rules: AlertRule[];
  /** Most events kept in the persisted alert history. */
  historySize: number;
}

/** Default alert history bound, in events. */
export const DEFAULT_HISTORY_SIZE = 500;
/** Largest accepted history bound, in events. */
export const MAX_HISTORY_SIZE = 100_000;
/** Default staleness before a firing alert with no data resolves, in ms. */
export const DEFAULT_STALE_AFTER_MS = 5 * 60_000;

/** What a rule looks like in the config file (and in DEFAULT_RULE_CONFIGS). */
export interface RuleConfig {
  id: string;
  enabled?: boolean;
  selector?: string;
  comparison?: Comparison;
  warning?: number | string | null;
  critical?: number | string | null;
  for?: number | string;
  criticalFor?: number | string;
  clear?: number | string | null;
  criticalClear?: number | string | null;
  keepFiringFor?: number | string;
  ratioTo?: string | null;
  baseline?: { window?: number | string; minSamples?: number } | null;
  whenMissing?: string | null;
  relativeTo?: string | null;
  growingOver?: number | string;
  minValue?: number | null;
  unit?: ValueUnit | null;
  message?: string;
  staleAfter?: number | string;
  increase?: boolean;
  resolveOnAck?: boolean;
}

/** Message of the fixed-level temperature rule (and of gpu-temperature when configured with absolute levels). */
const ABSOLUTE_TEMPERATURE_MESSAGE = 'GPU $1 temperature {value} (above {threshold})';

/**
 * The default rules (SPEC §3 table), using the series names of docs/series.md. A healthy, busy ML box
 * is quiet: full utilisation, VRAM held by a training job or serving engine and power at the cap never
 * alert (docs/alerts.md shows those rules as examples to add). Every default has a clear level
 * (hysteresis) and a minimum duration, so a value wobbling around a level fires at most once.
 */
/** What gpu-xid and gpu-xid-fatal share: any new event of a code fires, held 1 h unless acknowledged. */
const XID_EVENTS = {
  selector: 'gpu.*.xid_*_events_count',
  comparison: 'above',
  increase: true,
  keepFiringFor: '1h',
  resolveOnAck: true,
  unit: 'count',
  staleAfter: '1h',
  message: 'GPU $1 {xid:$2} (seen {value}×, last at {changed})',
} as const satisfies Partial<RuleConfig>;

export const DEFAULT_RULE_CONFIGS: readonly RuleConfig[] = [
  // Relative to the GPU's own slowdown threshold (NVML), in whole °C: warning from 5 °C below it
  // (`above -6`), critical at it (`above -1`), each clearing 3 °C lower.
  {
    id: 'gpu-temperature',
    selector: 'gpu.*.temperature_celsius',
    relativeTo: 'gpu.$1.temperature_slowdown_celsius',
    comparison: 'above',
    warning: -6,
    critical: -1,
    clear: -9,
    criticalClear: -4,
    for: '1m',
    criticalFor: '30s',
    unit: 'celsius',
    message: 'GPU $1 temperature {value} (above {threshold}; slowdown at {relativeTo})',
  },
  // Without an NVML slowdown threshold (nvidia-smi backend, old boards): fixed levels that data-centre
  // and consumer boards only reach when cooling fails.
  {
    id: 'gpu-temperature-fixed',
    selector: 'gpu.*.temperature_celsius',
    whenMissing: 'gpu.$1.temperature_slowdown_celsius',
    comparison: 'above',
    warning: 85,
    critical: 90,
    clear: 80,
    for: '1m',
    criticalFor: '30s',
    message: ABSOLUTE_TEMPERATURE_MESSAGE,
  },
  // Held VRAM is healthy (vLLM and the PyTorch caching allocator pre-allocate); full and still growing is not.
  {
    id: 'gpu-memory',
    selector: 'gpu.*.memory_used_ratio',
    comparison: 'above',
    warning: 0.99,
    critical: null,
    clear: 0.97,
    growingOver: '1m',
    for: '1m',
    message: 'GPU $1 VRAM {value} used and growing (above {threshold})',
  },
  // GPU health (docs/gpu.md). Event counters compare their increase: any new event fires, and the
  // alert holds for keepFiringFor (1 h) unless acknowledged. Repeats update one alert's count.
  // Informational Xids (the application's fault, or nothing to do) warn; fatal ones (NVIDIA's catalogue
  // says reset, reboot or RMA) are critical: the source gives them a companion `xid_<code>_fatal_threshold_count`
  // (0: any new event), which gpu-xid skips (whenMissing) and gpu-xid-fatal compares against (relativeTo);
  // codes without it are never compared by gpu-xid-fatal, so each code fires exactly one of the two.
  { ...XID_EVENTS, id: 'gpu-xid', whenMissing: 'gpu.$1.xid_$2_fatal_threshold_count', warning: 0, critical: null },
  { ...XID_EVENTS, id: 'gpu-xid-fatal', relativeTo: 'gpu.$1.xid_$2_fatal_threshold_count', warning: null, critical: 0 },
  {
    id: 'gpu-ecc-uncorrected',
    selector: 'gpu.*.ecc_volatile_uncorrected_count',
    comparison: 'above',
    warning: null,
    critical: 0,
    increase: true,
    keepFiringFor: '1h',
    resolveOnAck: true,
    unit: 'count',
    message: 'GPU $1 has new uncorrected ECC errors ({value} since the driver loaded): restart the affected work and reset the GPU',
  },
  // remap_health_state: 1 = remapping pending (needs a reset), 2 = a remapping failed (RMA).
  { id: 'gpu-row-remap', selector: 'gpu.*.remap_health_state', comparison: 'above', warning: 0.5, critical: 1.5, unit: 'state', message: 'GPU $1 {remap}' },
  {
    id: 'gpu-hw-slowdown',
    selector: 'gpu.*.hw_slowdown_ratio',
    comparison: 'above',
    warning: 0.5,
    critical: null,
    for: '2m',
    clear: 0.2,
    message: 'GPU $1 held in hardware/thermal slowdown {value} of the time for {for}: check cooling, power and the clock-event reasons',
  },
  // Waste (attribution issue): the source computes per-GPU values and names who ({subject}).
  {
    id: 'gpu-idle-holder',
    selector: 'gpu.*.idle_holder_memory_bytes',
    comparison: 'above',
    warning: 1024 ** 3 - 1,
    critical: null,
    for: '10m',
    clear: 512 * 1024 ** 2,
    message: 'GPU $1: {subject} holds {value} of VRAM at 0 % SM for {for}',
  },
  {
    id: 'gpu-orphaned-memory',
    selector: 'gpu.*.orphaned_memory_bytes',
    comparison: 'above',
    warning: 0,
    critical: null,
    for: '2m',
    clear: 0,
    message: 'GPU $1: {value} of VRAM held without a live process for {for} ({subject})',
  },
  {
    id: 'gpu-idle-allocated',
    selector: 'gpu.*.idle_processes_count',
    comparison: 'above',
    warning: 0,
    critical: null,
    for: '15m',
    clear: 0,
    unit: 'count',
    message: 'GPU $1 at 0 % for {for} with {value} process(es) on it: {subject}',
  },
  {
    id: 'model-latency',
    selector: 'models.*.request_latency_p95_seconds',
    comparison: 'above',
    warning: 2,
    critical: 5,
    clear: 1.5,
    for: '1m',
    baseline: { window: '1h', minSamples: 20 },
    minValue: 0.001,
    message: 'Model server $1 p95 latency vs its 1 h median {value} (above {threshold})',
  },
  {
    id: 'postgres-connections',
    selector: 'postgres.*.connections_used_ratio',
    comparison: 'above',
    warning: 0.8,
    critical: 0.95,
    clear: 0.75,
    for: '1m',
    message: 'PostgreSQL $1 share of max_connections in use {value} (above {threshold})',
  },
  // The ratio is per interval: a new connection's first reads dip it for a tick, so it must hold a minute.
  {
    id: 'postgres-cache-hit',
    selector: 'postgres.*.cache_hit_ratio',
    comparison: 'below',
    warning: 0.9,
    critical: 0.8,
    clear: 0.92,
    for: '1m',
    message: 'PostgreSQL $1 cache hit ratio {value} (below {threshold})',
  },
  {
    id: 'redis-memory',
    selector: 'redis.*.memory_used_bytes',
    ratioTo: 'redis.$1.maxmemory_bytes',
    comparison: 'above',
    warning: 0.8,
    critical: 0.95,
    clear: 0.75,
    for: '1m',
    message: 'Redis $1 share of maxmemory used {value} (above {threshold})',
  },
  // Without maxmemory there is no limit to compare with: warn past 1 GiB (SPEC §3).
  {
    id: 'redis-memory-unbounded',
    selector: 'redis.*.memory_used_bytes',
    whenMissing: 'redis.$1.maxmemory_bytes',
    comparison: 'above',
    warning: 1024 ** 3,
    critical: null,
    clear: 0.95 * 1024 ** 3,
    for: '1m',
    message: 'Redis $1 memory used {value}, no maxmemory set (above {threshold})',
  },
  // "Only with traffic" is approximated by the minute it must hold (an idle cache has no ratio).
  {
    id: 'redis-hit-ratio',
    selector: 'redis.*.hit_ratio',
    comparison: 'below',
    warning: 0.5,
    critical: 0.1,
    clear: 0.55,
    for: '1m',
    message: 'Redis $1 hit ratio {value} (below {threshold})',
  },
  {
    id: 'host-cpu',
    selector: 'host.cpu_busy_ratio',
    comparison: 'above',
    warning: 0.8,
    critical: 0.95,
    for: '5m',
    clear: 0.75,
    message: 'Host CPU busy {value} (above {threshold} for {for})',
  },
  {
    id: 'host-memory',
    selector: 'host.memory_used_ratio',
    comparison: 'above',
    warning: 0.85,
    critical: 0.95,
    clear: 0.8,
    for: '1m',
    message: 'Host RAM used {value} (above {threshold})',
  },
  {
    id: 'host-disk',
    selector: 'host.mount.*.used_ratio',
    comparison: 'above',
    warning: 0.8,
    critical: 0.9,
    clear: 0.78,
    for: '1m',
    message: 'Disk $1 used {value} (above {threshold})',
  },
  // "1 unhealthy or restarting" → warning; "2+ unhealthy" → critical. Counts compare strictly, so
  // `above 0` means "at least one".
  {
    id: 'containers-unhealthy',
    selector: 'docker.containers_unhealthy_count',
    comparison: 'above',
    warning: 0,
    critical: 1,
    unit: 'count',
    for: '30s',
    message: 'Unhealthy containers: {value}',
  },
  {
    id: 'containers-restarting',
    selector: 'docker.containers_restarting_count',
    comparison: 'above',
    warning: 0,
    critical: null,
    unit: 'count',
    for: '30s',
    message: 'Restarting containers: {value}',
  },
  // Training runs (collector/sources/runs, docs/runs.md). The source measures "no progress" itself
  // (GPUs idle or metrics not advancing), so stalls fire on its seconds-without-progress series.
  {
    id: 'run-stalled',
    selector: 'run.*.stalled_seconds',
    comparison: 'above',
    warning: 600,
    critical: null,
    clear: 60,
    unit: 'seconds',
    message: 'Run $1 made no progress for {value} (GPUs idle or metrics not advancing)',
  },
  {
    id: 'run-loss-nonfinite',
    selector: 'run.*.loss_nonfinite_state',
    comparison: 'above',
    warning: null,
    critical: 0.5,
    unit: 'state',
    message: 'Run $1: loss is NaN or infinite',
  },
  // The source writes the words ({subject}): name, short command, exit status, elapsed, last step and loss.
  { id: 'run-ended', selector: 'run.*.ended_state', comparison: 'above', warning: 0.5, critical: null, unit: 'state', message: 'Run {subject}' },
  {
    id: 'run-throughput-drop',
    selector: 'run.*.throughput_per_second',
    comparison: 'below',
    warning: 0.5,
    critical: null,
    clear: 0.6,
    for: '5m',
    baseline: { window: '1h', minSamples: 20 },
    message: 'Run $1 throughput at {value} its 1 h median (below {threshold} for {for})',
  },
  // Virtual series computed by the engine from the SourceStatus list: 1 while a source is `down`.
  {
    id: 'source-down',
    selector: 'collector.**.down_state',
    comparison: 'above',
    warning: 0.5,
    critical: null,
    for: '30s',
    unit: 'state',
    message: 'Source $1 is down: {reason}',
  },
  // Virtual series for the collector's own parts (csv, history) from their `collector`-kind status,
  // or recorded as a series (`collector.csv.error_state`): 1 while writes fail.
  {
    id: 'collector-write-error',
    selector: 'collector.*.error_state',
    comparison: 'above',
    warning: 0.5,
    critical: null,
    unit: 'state',
    message: 'Collector $1: {reason}',
  },
];

const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const RULE_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const KNOWN_FIELDS = new Set([
  'id',
  'enabled',
  'selector',
  'comparison',
  'warning',
  'critical',
  'for',
  'criticalFor',
  'clear',
  'criticalClear',
  'keepFiringFor',
  'ratioTo',
  'baseline',
  'whenMissing',
  'relativeTo',
  'growingOver',
  'minValue',
  'unit',
  'message',
  'staleAfter',
  'increase',
  'resolveOnAck',
]);
const UNITS: readonly string[] = [...SERIES_UNITS, 'multiple'];

/**
 * Parses `config.alerts` (undefined → defaults; `false` → no rules) into engine options.
 * Throws ConfigError naming the rule and field, e.g. `alerts.rules[gpu-temperature].warning`.
 */
export function parseAlertsConfig(raw: unknown, file?: string): AlertOptions {
  if (raw === false) return { rules: [], historySize: DEFAULT_HISTORY_SIZE };
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('alerts', raw, 'an object or false', file);
  const cfg = raw as Record<string, unknown>;
  for (const k of Object.keys(cfg)) {
    if (!['rules', 'disable', 'historySize'].includes(k))
      throw new ConfigError(`alerts.${k}`, cfg[k], 'no such key (known: rules, disable, historySize)', file);
  }
  let historySize = DEFAULT_HISTORY_SIZE;
  if (cfg.historySize !== undefined) {
    const h = cfg.historySize;
    if (typeof h !== 'number' || !Number.isInteger(h) || h < 1 || h > MAX_HISTORY_SIZE) {
      throw new ConfigError('alerts.historySize', h, `an integer from 1 to ${MAX_HISTORY_SIZE}`, file);
    }
    historySize = h;
  }

  const merged = new Map<string, RuleConfig>();
  for (const d of DEFAULT_RULE_CONFIGS) merged.set(d.id, { ...d });

  if (cfg.rules !== undefined) {
    if (!Array.isArray(cfg.rules)) throw new ConfigError('alerts.rules', cfg.rules, 'an array of rules', file);
    const seen = new Set<string>();
    cfg.rules.forEach((r: unknown, i: number) => {
      if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new ConfigError(`alerts.rules[${i}]`, r, 'a rule object', file);
      const o = r as Record<string, unknown>;
      if (typeof o.id !== 'string' || !RULE_ID_RE.test(o.id)) {
        throw new ConfigError(`alerts.rules[${i}].id`, o.id, 'a rule id (letters, digits, _ . -)', file);
      }
      const id = o.id;
      if (seen.has(id)) throw new ConfigError(`alerts.rules[${id}].id`, id, 'a rule id used only once in alerts.rules', file);
      seen.add(id);
      for (const k of Object.keys(o)) {
        if (!KNOWN_FIELDS.has(k)) throw new ConfigError(`alerts.rules[${id}].${k}`, o[k], `no such field (known: ${[...KNOWN_FIELDS].join(', ')})`, file);
      }
      const base = merged.get(id);
      if (!base) {
        for (const req of ['selector', 'comparison'] as const) {
          if (o[req] === undefined)
            throw new ConfigError(
              `alerts.rules[${id}].${req}`,
              undefined,
              `${req === 'selector' ? 'a series name or pattern' : '"above" or "below"'} (required for a new rule)`,
              file,
            );
        }
      }
      const next: RuleConfig = { ...(base ?? { id }), ...(o as unknown as RuleConfig) };
      const levels = ['warning', 'critical', 'clear', 'criticalClear'].some((k) => o[k] !== undefined);
      if (base?.relativeTo && levels && o.relativeTo === undefined) {
        // Levels without relativeTo are absolute (e.g. `warning: 80` means 80 °C, as it did before
        // defaults became relative): drop the companion, and the fixed-level fallback it would duplicate.
        next.relativeTo = null;
        if (o.criticalClear === undefined) next.criticalClear = null;
        if (o.message === undefined && id === 'gpu-temperature') next.message = ABSOLUTE_TEMPERATURE_MESSAGE;
        const fallback = merged.get('gpu-temperature-fixed');
        if (id === 'gpu-temperature' && fallback && !seen.has('gpu-temperature-fixed')) merged.set('gpu-temperature-fixed', { ...fallback, enabled: false });
      }
      if (base && o.clear === undefined && o.warning !== undefined) {
        // A moved warning level keeps the default's hysteresis width instead of an inconsistent clear.
        const band = typeof base.warning === 'number' && typeof base.clear === 'number' ? base.warning - base.clear : null;
        const w = looseLevel(o.warning);
        next.clear = band !== null && w !== null ? w - band : null;
      }
      merged.set(id, next);
    });
  }

  if (cfg.disable !== undefined) {
    if (!Array.isArray(cfg.disable)) throw new ConfigError('alerts.disable', cfg.disable, 'an array of rule ids', file);
    cfg.disable.forEach((id: unknown, i: number) => {
      if (typeof id !== 'string' || !merged.has(id)) {
        throw new ConfigError(`alerts.disable[${i}]`, id, `the id of a rule (${[...merged.keys()].join(', ')})`, file);
      }
      merged.set(id, { ...(merged.get(id) as RuleConfig), enabled: false });
    });
  }

  const rules: AlertRule[] = [];
  for (const rc of merged.values()) {
    const rule = resolveRule(rc, file);
    if (rule) rules.push(rule);
  }
  return { rules, historySize };
}

/** Validates one merged rule config; null when it is disabled. */
export function resolveRule(rc: RuleConfig, file?: string): AlertRule | null {
  const key = (f: string): string => `alerts.rules[${rc.id}].${f}`;
  const fail = (f: string, v: unknown, expected: string): never => {
    throw new ConfigError(key(f), v, expected, file);
  };
  if (rc.enabled !== undefined && typeof rc.enabled !== 'boolean') fail('enabled', rc.enabled, 'true or false');
  if (rc.enabled === false) return null;

  const selector = rc.selector;
  if (typeof selector !== 'string' || selector.length === 0 || /\s/.test(selector))
    fail('selector', selector, 'a series name or pattern such as "gpu.*.temperature_celsius"');
  const sel = selector as string;
  const comparison = rc.comparison;
  if (comparison !== 'above' && comparison !== 'below') fail('comparison', comparison, '"above" or "below"');
  const cmp = comparison as Comparison;

  const warning = level(rc.warning, 'warning', fail);
  const critical = level(rc.critical, 'critical', fail);
  if (warning === null && critical === null) fail('warning', rc.warning, 'a number (a rule needs a warning or a critical level)');
  const beyond = (a: number, b: number): boolean => (cmp === 'above' ? a > b : a < b);
  if (warning !== null && critical !== null && beyond(warning, critical)) {
    fail('critical', rc.critical, `a number ${cmp === 'above' ? 'at or above' : 'at or below'} warning (${warning}) for an "${cmp}" rule`);
  }

  const warningForMs = duration(rc.for, 'for', fail) ?? 0;
  const criticalForMs = duration(rc.criticalFor, 'criticalFor', fail) ?? warningForMs;
  const keepFiringForMs = duration(rc.keepFiringFor, 'keepFiringFor', fail) ?? 0;
  const staleAfterMs = duration(rc.staleAfter, 'staleAfter', fail) ?? DEFAULT_STALE_AFTER_MS;

  const lowest = warning ?? (critical as number);
  const clear = level(rc.clear, 'clear', fail);
  if (clear !== null && beyond(clear, lowest)) {
    fail(
      'clear',
      rc.clear,
      `a number ${cmp === 'above' ? 'at or below' : 'at or above'} ${warning !== null ? 'warning' : 'critical'} (${lowest}) for an "${cmp}" rule`,
    );
  }
  let criticalClear = level(rc.criticalClear, 'criticalClear', fail);
  if (critical === null && criticalClear !== null) fail('criticalClear', rc.criticalClear, 'nothing (the rule has no critical level)');
  if (critical !== null && criticalClear !== null && beyond(criticalClear, critical)) {
    fail('criticalClear', rc.criticalClear, `a number ${cmp === 'above' ? 'at or below' : 'at or above'} critical (${critical})`);
  }
  let warningClear: number | null = null;
  if (warning !== null) warningClear = clear ?? warning;
  if (critical !== null && criticalClear === null) {
    // The warning band's hysteresis width applies to de-escalation from critical too.
    if (warning !== null && clear !== null) criticalClear = critical - (warning - clear);
    else criticalClear = clear ?? critical;
  }

  const template = (field: 'ratioTo' | 'whenMissing' | 'relativeTo', v: unknown): string | null => {
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string' || v.length === 0) fail(field, v, 'a series name template such as "gpu.$1.power_limit_watts"');
    const n = captureCount(sel);
    const refs = [...(v as string).matchAll(/\$([1-9])/g)].map((m) => Number(m[1]));
    if (refs.some((r) => r > n)) fail(field, v, `a template using only $1…$${n} (the selector has ${n} wildcard${n === 1 ? '' : 's'})`);
    if ((v as string).includes('*')) fail(field, v, "one series name (use $1… for the selector's wildcards, not *)");
    return v as string;
  };
  const ratioTo = template('ratioTo', rc.ratioTo);
  const whenMissing = template('whenMissing', rc.whenMissing);
  const relativeTo = template('relativeTo', rc.relativeTo);
  if (relativeTo !== null && ratioTo !== null) fail('relativeTo', rc.relativeTo, 'nothing when ratioTo is set (a rule compares with one or the other)');
  const growingOverMs = duration(rc.growingOver, 'growingOver', fail) ?? 0;

  let baseline: BaselineSpec | null = null;
  if (rc.baseline !== undefined && rc.baseline !== null) {
    const b = rc.baseline as unknown;
    if (typeof b !== 'object' || b === null || Array.isArray(b)) fail('baseline', b, 'an object { window, minSamples }');
    const bo = b as Record<string, unknown>;
    for (const k of Object.keys(bo)) if (k !== 'window' && k !== 'minSamples') fail(`baseline.${k}`, bo[k], 'no such field (known: window, minSamples)');
    const windowMs = duration(bo.window, 'baseline.window', fail) ?? 3_600_000;
    if (windowMs < 1000) fail('baseline.window', bo.window, 'a duration of at least 1s');
    const ms = bo.minSamples ?? 20;
    if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 1 || ms > 1000) fail('baseline.minSamples', ms, 'an integer from 1 to 1000');
    if (ratioTo !== null) fail('baseline', b, 'nothing when ratioTo is set (a rule compares with one or the other)');
    baseline = { windowMs, minSamples: ms as number };
  }

  let minValue: number | null = null;
  if (rc.minValue !== undefined && rc.minValue !== null) {
    if (typeof rc.minValue !== 'number' || !Number.isFinite(rc.minValue)) fail('minValue', rc.minValue, 'a number');
    minValue = rc.minValue;
  }
  let unit: ValueUnit | null = null;
  if (rc.unit !== undefined && rc.unit !== null) {
    if (typeof rc.unit !== 'string' || !UNITS.includes(rc.unit)) fail('unit', rc.unit, `one of ${UNITS.join(', ')}`);
    unit = rc.unit;
  }
  if (unit === null) unit = ratioTo !== null ? 'ratio' : baseline !== null ? 'multiple' : seriesUnit(sel.replace(/\*/g, 'x'));
  let message = rc.message;
  if (message === undefined) message = '{rule}: {series} is {value} ({op} {threshold})';
  if (typeof message !== 'string' || message.length > 500) fail('message', message, 'a string of at most 500 characters');

  for (const f of ['increase', 'resolveOnAck'] as const) if (rc[f] !== undefined && typeof rc[f] !== 'boolean') fail(f, rc[f], 'true or false');
  if (rc.increase === true && (ratioTo !== null || baseline !== null)) fail('increase', rc.increase, 'false when ratioTo or baseline is set');

  return {
    increase: rc.increase === true,
    resolveOnAck: rc.resolveOnAck === true,
    id: rc.id,
    selector: sel,
    comparison: cmp,
    warning,
    critical,
    warningForMs,
    criticalForMs,
    warningClear,
    criticalClear,
    keepFiringForMs,
    ratioTo,
    baseline,
    whenMissing,
    relativeTo,
    growingOverMs,
    minValue,
    unit,
    message: message as string,
    staleAfterMs,
  };
}

/** Parses a duration: seconds as a number, or a string such as `500ms`, `30s`, `2m`, `1h`, `1d`. */
export function parseDuration(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.round(v * 1000) : null;
  if (typeof v !== 'string') return null;
  const m = DURATION_RE.exec(v.trim());
  if (!m) return null;
  return Math.round(Number(m[1]) * DURATION_MS[m[2] as string]);
}

function duration(v: unknown, field: string, fail: (f: string, v: unknown, e: string) => never): number | null {
  if (v === undefined) return null;
  const ms = parseDuration(v);
  if (ms === null) fail(field, v, 'a duration: seconds as a number, or a string like "30s", "2m", "1h"');
  return ms;
}

/** A level as a number when it is one (or a percentage string), else null; validation comes later. */
function looseLevel(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?\s*%$/.test(v.trim())) return Number(v.trim().replace(/\s*%$/, '')) / 100;
  return null;
}

function level(v: unknown, field: string, fail: (f: string, v: unknown, e: string) => never): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  // "90%" is accepted for ratio levels and means 0.9.
  if (typeof v === 'string' && /^-?\d+(\.\d+)?\s*%$/.test(v.trim())) return Number(v.trim().replace(/\s*%$/, '')) / 100;
  return fail(field, v, 'a number');
}
