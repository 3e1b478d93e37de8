// The per-instance alert lifecycle: inactive → pending → firing ⇄ escalated/de-escalated → resolved,
// with `for` durations, hysteresis (clear levels), keep-firing-for and staleness. Pure state changes:
// what a transition means for clients (events, history, logs) is the engine's, through `StepHooks`.

import type { AlertEvent, AlertSeverity, SeriesValue } from '../../protocol';
import type { AlertRule } from './rules';
import type { CompiledSelector } from './selector';

/** What transition an event records. */
export type Transition = AlertEvent['transition'];

/** A rule as the engine holds it: the rule, its position and its compiled selector. */
export interface RuleEntry {
  rule: AlertRule;
  index: number;
  sel: CompiledSelector;
}

/** One (rule, series) alert instance and its lifecycle timers. */
export interface Instance {
  id: string;
  entry: RuleEntry;
  series: string;
  captures: string[];
  state: 'inactive' | 'pending' | 'firing';
  severity: AlertSeverity;
  value: SeriesValue;
  /** The worst value since the instance became active (shown as "was …" once resolved). */
  peak?: number;
  /** Companion value added back for display when the rule compares relative to a series. */
  offsetBase?: number;
  /** The last reason given while active (source-down), kept for the resolved message. */
  reason?: string;
  /** Why it is being resolved other than by its value (e.g. `source removed`), shown in the resolved text. */
  resolvedReason?: string;
  warnSince?: number;
  critSince?: number;
  activeSince?: number;
  firingSince?: number;
  clearingSince?: number;
  nullSince?: number;
  acknowledged: boolean;
  mutedUntil?: number;
  /** Effective mute state last reported to clients (to emit `unmuted` when a mute expires). */
  mutedReported: boolean;
  /** When the shown value last changed (wall-clock ms). */
  changedAt?: number;
  lastTick: number;
  /** Set when removed from the instance map, so watch items drop their link. */
  deleted?: boolean;
}

/** What the state machine needs from its owner: publishing a transition and the mute state. */
export interface StepHooks {
  /** Records a transition of `inst` (called before `resolved` clears the instance's state). */
  emit(inst: Instance, transition: Transition, t: number, notify: boolean): void;
  /** Whether the instance is muted (by itself or its rule) at `t`. */
  isMuted(inst: Instance, t: number): boolean;
  /** Called once a pending instance cleared without firing (a debug line). */
  clearedPending(inst: Instance): void;
}

/** A fresh inactive instance of `entry` for `series`. */
export function newInstance(entry: RuleEntry, series: string, captures: string[]): Instance {
  return {
    id: `${entry.rule.id}:${series}`,
    entry,
    series,
    captures,
    state: 'inactive',
    severity: 'warning',
    value: null,
    acknowledged: false,
    mutedReported: false,
    lastTick: 0,
  };
}

/** Whether `v` is beyond `level` in the rule's direction. */
export function beyond(r: AlertRule, v: number, level: number): boolean {
  return r.comparison === 'above' ? v > level : v < level;
}

/**
 * For `growingOver` rules: records the sample while it is beyond the rule's lowest level and says
 * whether the value is above where it was about one window ago (held-but-flat never counts).
 */
export function growingOver(trail: number[], rule: AlertRule, t: number, v: number): boolean {
  const lowest = rule.warning ?? (rule.critical as number);
  if (!beyond(rule, v, lowest)) {
    trail.length = 0;
    return false;
  }
  trail.push(t, v);
  const window = rule.growingOverMs;
  // Keep one sample at or before the window's start as the reference.
  let drop = 0;
  while (drop + 2 < trail.length && (trail[drop + 2] as number) <= t - window) drop += 2;
  if (drop) trail.splice(0, drop);
  const t0 = trail[0] as number;
  const v0 = trail[1] as number;
  return t - t0 >= window && (rule.comparison === 'above' ? v > v0 : v < v0);
}

/**
 * Advances one instance by one sample: `v` is the compared value (null: unknown), `allowed` whether the
 * rule applies now, `growing` the growth gate, `shown` the value to display.
 */
export function stepInstance(inst: Instance, v: SeriesValue, allowed: boolean, t: number, hooks: StepHooks, growing = true, shown: SeriesValue = v): void {
  const r = inst.entry.rule;
  if (v === null) {
    // Unknown is not "fine": a firing alert holds until the data has been missing for staleAfter.
    inst.warnSince = inst.critSince = undefined;
    if (inst.state === 'pending') resolveInstance(inst, t, hooks);
    else if (inst.state === 'firing') {
      inst.nullSince ??= t;
      if (t - inst.nullSince >= r.staleAfterMs) resolveInstance(inst, t, hooks);
    }
    return;
  }
  inst.nullSince = undefined;
  if (shown !== inst.value) inst.changedAt = t;
  inst.value = shown;
  // A growth condition gates entering (and escalating); holding a firing alert needs only the levels.
  const enter = allowed && (growing || inst.state === 'firing');
  const bw = enter && r.warning !== null && beyond(r, v, r.warning);
  const bc = enter && r.critical !== null && beyond(r, v, r.critical);
  if (inst.state !== 'inactive' || bw || bc) inst.peak = inst.peak === undefined || beyond(r, v, inst.peak) ? v : inst.peak;
  inst.warnSince = bw ? (inst.warnSince ?? t) : undefined;
  inst.critSince = bc ? (inst.critSince ?? t) : undefined;
  const critMet = bc && t - (inst.critSince as number) >= r.criticalForMs;
  const warnMet = bw && t - (inst.warnSince as number) >= r.warningForMs;

  if (inst.state === 'firing') {
    let sev: AlertSeverity | null = null;
    if (critMet || (inst.severity === 'critical' && allowed && r.criticalClear !== null && beyond(r, v, r.criticalClear))) sev = 'critical';
    else if (warnMet || (allowed && r.warningClear !== null && beyond(r, v, r.warningClear))) sev = 'warning';
    if (sev) {
      inst.clearingSince = undefined;
      if (sev !== inst.severity) {
        const up = sev === 'critical';
        inst.severity = sev;
        // An acknowledgement covers the severity that was seen; a worse one needs a new look.
        if (up) inst.acknowledged = false;
        hooks.emit(inst, up ? 'escalated' : 'deescalated', t, up && !hooks.isMuted(inst, t));
      }
      return;
    }
    if (r.keepFiringForMs > 0 && !(r.resolveOnAck && inst.acknowledged)) {
      inst.clearingSince ??= t;
      if (t - inst.clearingSince < r.keepFiringForMs) return;
    }
    resolveInstance(inst, t, hooks);
    return;
  }

  const target: AlertSeverity | null = critMet ? 'critical' : warnMet ? 'warning' : null;
  if (target) {
    inst.state = 'firing';
    inst.severity = target;
    inst.activeSince ??= t;
    inst.firingSince = t;
    inst.clearingSince = undefined;
    hooks.emit(inst, 'firing', t, !hooks.isMuted(inst, t));
  } else if (bw || bc) {
    inst.severity = bc ? 'critical' : 'warning';
    if (inst.state === 'inactive') {
      inst.state = 'pending';
      inst.activeSince = t;
      hooks.emit(inst, 'pending', t, false);
    }
  } else if (inst.state === 'pending') {
    resolveInstance(inst, t, hooks);
  }
}

/** Resolves an active instance: emits `resolved` (never a notification), then clears its timers. */
export function resolveInstance(inst: Instance, t: number, hooks: StepHooks): void {
  const wasFiring = inst.state === 'firing';
  hooks.emit(inst, 'resolved', t, false);
  inst.state = 'inactive';
  inst.warnSince = inst.critSince = inst.clearingSince = inst.nullSince = undefined;
  inst.activeSince = inst.firingSince = inst.peak = undefined;
  inst.acknowledged = false;
  inst.mutedReported = false;
  inst.resolvedReason = undefined;
  if (!wasFiring) hooks.clearedPending(inst);
}

/** Moves the pending/clearing/stale timers of every instance by `deltaMs`. */
export function shiftTimers(instances: Iterable<Instance>, deltaMs: number): void {
  for (const i of instances) {
    if (i.warnSince !== undefined) i.warnSince += deltaMs;
    if (i.critSince !== undefined) i.critSince += deltaMs;
    if (i.clearingSince !== undefined) i.clearingSince += deltaMs;
    if (i.nullSince !== undefined) i.nullSince += deltaMs;
  }
}
