// The alert engine: evaluates every rule on each tick, runs the per-instance lifecycle
// (inactive → pending → firing ⇄ escalated/de-escalated → resolved) with `for`, hysteresis and
// keep-firing-for, handles ack and mute, keeps a bounded history and persists all of it.

import { mkdir, readFile, rename } from 'node:fs/promises';
import { writePrivateFile } from '../private-file';
import { dirname } from 'node:path';
import {
  formatCompared,
  formatValue,
  type AlertEvent,
  type AlertInstance,
  type AlertSeverity,
  type SeriesMap,
  type SeriesValue,
  type SourceStatus,
} from '../../protocol';
import type { AlertEngine } from '../contracts';
import type { Logger } from '../log';
import { RollingMedian, type BaselineState } from './baseline';
import { formatDuration, renderMessage } from './format';
import { parseAlertsConfig, type AlertRule } from './rules';
import { compileSelector, expandCaptures, type CompiledSelector } from './selector';
import { escapeLabelValue as esc } from '../../protocol/prometheus';

/** Version of the persisted state file layout. */
export const ALERT_STATE_VERSION = 1;
/** After a restart gap longer than this, pending `for` timers start again (we did not watch meanwhile). */
export const RESTART_GAP_MS = 60_000;
/**
 * How often every series name of a tick is scanned for new matches, in ms. Series already matched
 * are evaluated on every tick; scanning all names (hundreds) every tick would cost more than the
 * whole evaluation, so a newly appearing series is picked up at the next scan (or at once when the
 * source list changes, which is when most new series appear).
 */
export const DISCOVERY_INTERVAL_MS = 30_000;
/** Cap on remembered series names (names come and go, e.g. containers); beyond it the memo restarts. */
const CLASSIFIED_MAX = 50_000;
/** Longest time baseline samples alone wait before being saved, in ms of tick time. */
export const BASELINE_SAVE_INTERVAL_MS = 5 * 60_000;
/** Extra history entries tolerated before trimming back to historySize. */
const HISTORY_SLACK = 64;

/** What transition an event records. */
type Transition = AlertEvent['transition'];

/** Options of createAlertEngine. */
export interface AlertEngineOptions {
  /** `config.alerts` as read from the config file (validated here). */
  config: unknown;
  /** State + history file (under the data dir). */
  file: string;
  log: Logger;
  /** Config file path, for error messages. */
  configFile?: string;
}

interface RuleEntry {
  rule: AlertRule;
  index: number;
  sel: CompiledSelector;
}

/** One (rule, series) pair evaluated on every tick. */
interface WatchItem {
  name: string;
  id: string;
  entry: RuleEntry;
  captures: string[];
  /** Denominator series name for ratio rules. */
  denominator: string | null;
  /** Companion series that must be null/absent for the rule to apply. */
  requireMissing: string | null;
  /** Companion series the value is compared relative to (`value - companion`). */
  offset: string | null;
  /** Recent [t, value] samples while beyond a level, for `growingOver` rules. */
  trail: number[] | null;
  baseline: RollingMedian | null;
  /** Linked instance while one exists (it is created on the first breach). */
  inst: Instance | undefined;
  /** Discovery scan that last saw the name (items gone from the map are dropped at a scan). */
  seenScan: number;
  /** `increase` rules: the previous raw value (undefined before the first). */
  prev?: number;
}

interface Instance {
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

/** An instance as written to the state file: the rule by id, without run-time links. */
type PersistedInstance = Omit<Instance, 'entry' | 'captures' | 'lastTick' | 'deleted' | 'offsetBase' | 'reason'> & { ruleId: string };

interface PersistedState {
  version: number;
  savedAt: number;
  seq: number;
  instances: PersistedInstance[];
  ruleMutes: Record<string, number>;
  history: AlertEvent[];
  baselines: Record<string, BaselineState>;
}

/** Creates the engine: validates `config.alerts` (throws ConfigError) and loads persisted state. */
export async function createAlertEngine(opts: AlertEngineOptions): Promise<RuleAlertEngine> {
  const parsed = parseAlertsConfig(opts.config, opts.configFile);
  const engine = new RuleAlertEngine(parsed.rules, parsed.historySize, opts.file, opts.log);
  await engine.load();
  return engine;
}

/** AlertEngine implementation driven by AlertRules. */
export class RuleAlertEngine implements AlertEngine {
  private readonly entries: RuleEntry[];
  private readonly byId = new Map<string, RuleEntry>();
  /** Names already matched against the rules (true when at least one rule matched). */
  private readonly classified = new Map<string, boolean>();
  private watch: WatchItem[] = [];
  private virtualWatch: WatchItem[] = [];
  private scanCount = 0;
  private lastScanAt = -Infinity;
  private readonly instances = new Map<string, Instance>();
  private readonly baselines = new Map<string, RollingMedian>();
  private readonly ruleMutes = new Map<string, number>();
  private history: AlertEvent[] = [];
  private seq = 0;
  private tick = 0;
  private dirty = false;
  private baselineDirty = false;
  private lastWriteAt = -Infinity;
  private loadedAt: number | null = null;
  private writing: Promise<void> = Promise.resolve();
  private readonly reasons = new Map<string, string>();
  private notes: ReadonlyMap<string, string> | undefined;
  /** Last known `{subject}` per series, kept while its instance is active. */
  private readonly subjects = new Map<string, string>();
  private readonly virtualValues = new Map<string, number>();
  private readonly virtualNames = new Map<string, string>();
  private readonly prevSourceKeys: string[] = [];
  private readonly prevSourceStates: string[] = [];
  private readonly watchByName = new Map<string, WatchItem[]>();
  private curSeries: SeriesMap = {};
  /** Value of a series this tick, falling back to the virtual ones (ratio denominators). */
  private readonly lookup = (name: string): SeriesValue => {
    const v = this.curSeries[name];
    return v === undefined ? (this.virtualValues.get(name) ?? null) : v;
  };
  private now = 0;

  constructor(
    rules: AlertRule[],
    private readonly historySize: number,
    private readonly file: string,
    private readonly log: Logger,
  ) {
    this.entries = rules.map((rule, index) => ({ rule, index, sel: compileSelector(rule.selector) }));
    for (const e of this.entries) this.byId.set(e.rule.id, e);
  }

  /** The rules in effect (defaults merged with config). */
  rules(): AlertRule[] {
    return this.entries.map((e) => ({ ...e.rule }));
  }

  /** The last `limit` events (oldest first), from the persisted history. */
  alertHistory(limit = this.historySize): AlertEvent[] {
    const n = Math.min(limit, this.historySize, this.history.length);
    return this.history.slice(this.history.length - n);
  }

  evaluate(t: number, series: SeriesMap, sources: SourceStatus[], notes?: ReadonlyMap<string, string>): AlertEvent[] {
    this.tick++;
    // The wall clock stepped back (tick times come from it): move the running timers with it so a
    // `for` keeps the time it already counted instead of waiting out the step.
    if (this.tick > 1 && t < this.now) shiftTimers(this.instances.values(), t - this.now);
    // Subjects are kept per firing instance (below): the text names what held when the value breached.
    this.notes = notes;
    this.now = t;
    const events: AlertEvent[] = [];
    if (this.loadedAt !== null) {
      if (t - this.loadedAt > RESTART_GAP_MS) {
        for (const inst of this.instances.values()) {
          inst.warnSince = inst.warnSince === undefined ? undefined : t;
          inst.critSince = inst.critSince === undefined ? undefined : t;
        }
      }
      this.loadedAt = null;
    }

    // Virtual series from the source list: `collector.<sourceId>.down_state` (1 while a source is
    // down) and, for the collector's own parts (kind `collector`, e.g. csv, history, listed only while
    // failing), `collector.<part>.error_state`. Names seen before stay 0 once their status is gone.
    const virtual = this.virtualValues;
    for (const name of virtual.keys()) virtual.set(name, 0);
    if (this.reasons.size) this.reasons.clear();
    let changed = sources.length !== this.prevSourceKeys.length;
    for (let i = 0; i < sources.length; i++) {
      const s = sources[i] as SourceStatus;
      const key = s.kind === 'collector' ? `!${s.id}` : s.id;
      let name = this.virtualNames.get(key);
      if (name === undefined) {
        name = s.kind === 'collector' ? `collector.${s.id}.error_state` : `collector.${s.id}.down_state`;
        this.virtualNames.set(key, name);
        this.addWatch(name, true);
      }
      virtual.set(name, s.state === 'down' ? 1 : 0);
      if (s.reason) this.reasons.set(name, s.reason);
      if (this.prevSourceKeys[i] !== key || this.prevSourceStates[i] !== s.state) {
        changed = true;
        this.prevSourceKeys[i] = key;
        this.prevSourceStates[i] = s.state;
      }
    }
    this.prevSourceKeys.length = this.prevSourceStates.length = sources.length;
    this.curSeries = series;
    const lookup = this.lookup;

    // Sources changing state is when most new series appear: scan for them then, and periodically.
    if (this.tick === 1 || changed || t - this.lastScanAt >= DISCOVERY_INTERVAL_MS) this.discover(series, t);

    const watch = this.watch;
    for (let i = 0; i < watch.length; i++) {
      const w = watch[i] as WatchItem;
      const v = series[w.name];
      this.evalItem(w, v === undefined ? null : v, t, lookup, events);
    }
    for (const w of this.virtualWatch) {
      if (series[w.name] !== undefined) continue; // recorded as a real series too: evaluated above
      this.evalItem(w, virtual.get(w.name) ?? null, t, lookup, events);
    }

    // Instances not reached through a watch item (restored from disk, series never seen again).
    for (const inst of this.instances.values()) {
      if (inst.state !== 'inactive' && inst.lastTick !== this.tick) this.step(inst, null, true, t, events);
      if (inst.state === 'inactive') {
        if (inst.mutedUntil !== undefined && inst.mutedUntil <= t) inst.mutedUntil = undefined;
        if (inst.mutedUntil === undefined) {
          inst.deleted = true;
          this.instances.delete(inst.id);
        }
        continue;
      }
      if (inst.mutedReported && !this.isMuted(inst, t)) {
        // A snooze ran out while the alert is still active: remind, unless someone acknowledged it.
        this.emit(inst, 'unmuted', t, events, inst.state === 'firing' && !inst.acknowledged);
      }
    }
    for (const [id, until] of this.ruleMutes) if (until <= t) this.ruleMutes.delete(id);
    return events;
  }

  active(): AlertInstance[] {
    const out: AlertInstance[] = [];
    for (const inst of this.instances.values()) if (inst.state !== 'inactive') out.push(this.view(inst, this.now));
    return out.sort((a, b) => a.activeSince - b.activeSince);
  }

  acknowledge(alertId: string, t: number): AlertEvent[] {
    const inst = this.instances.get(alertId);
    if (!inst || inst.state === 'inactive') {
      throw new Error(`no pending or firing alert "${alertId}"${this.activeIdsHint()}`);
    }
    if (inst.acknowledged) return [];
    inst.acknowledged = true;
    const events: AlertEvent[] = [];
    this.emit(inst, 'acknowledged', t, events, false);
    return events;
  }

  mute(target: string, durationMs: number, t: number): AlertEvent[] {
    if (!Number.isFinite(durationMs) || durationMs < 0) throw new Error(`mute duration must be a non-negative number of ms, got ${durationMs}`);
    const until = durationMs > 0 ? t + durationMs : undefined;
    let affected: Instance[];
    const rule = this.byId.get(target);
    if (rule) {
      if (until === undefined) this.ruleMutes.delete(target);
      else this.ruleMutes.set(target, until);
      affected = [...this.instances.values()].filter((i) => i.entry === rule && i.state !== 'inactive');
    } else {
      const colon = target.indexOf(':');
      const entry = colon > 0 ? this.byId.get(target.slice(0, colon)) : undefined;
      const seriesName = colon > 0 ? target.slice(colon + 1) : '';
      const captures = entry ? entry.sel.match(seriesName) : null;
      if (!entry || !captures) {
        throw new Error(
          `cannot mute "${target}": not a rule id (${this.entries.map((e) => e.rule.id).join(', ')}) nor an alert id "<rule>:<series>" whose series matches the rule`,
        );
      }
      let inst = this.instances.get(target);
      if (!inst) {
        const created = this.newInstance(entry, seriesName, captures);
        this.instances.set(created.id, created);
        for (const w of this.watch) if (w.id === created.id) w.inst = created;
        for (const w of this.virtualWatch) if (w.id === created.id) w.inst = created;
        inst = created;
      }
      inst.mutedUntil = until;
      affected = inst.state === 'inactive' ? [] : [inst];
    }
    this.dirty = true;
    const events: AlertEvent[] = [];
    for (const inst of affected) this.emit(inst, this.isMuted(inst, t) ? 'muted' : 'unmuted', t, events, false);
    return events;
  }

  prometheusLines(): string[] {
    const lines = ['# HELP rigwatch_alerts Rigwatch alert instances that are pending or firing (one series per instance).', '# TYPE rigwatch_alerts gauge'];
    const act = this.active();
    for (const a of act) {
      lines.push(`rigwatch_alerts{alertname="${esc(a.ruleId)}",alertstate="${a.state}",severity="${a.severity}",series="${esc(a.series)}"} 1`);
    }
    lines.push('# HELP rigwatch_alerts_for_state Epoch seconds at which each active alert instance became active.', '# TYPE rigwatch_alerts_for_state gauge');
    for (const a of act) {
      lines.push(`rigwatch_alerts_for_state{alertname="${esc(a.ruleId)}",severity="${a.severity}",series="${esc(a.series)}"} ${a.activeSince / 1000}`);
    }
    return lines;
  }

  /** Writes state + history atomically when anything changed since the last write. Rejects on I/O failure. */
  flush(): Promise<void> {
    const run = async (): Promise<void> => {
      // Baselines change every few seconds; they alone are saved at most every BASELINE_SAVE_INTERVAL_MS.
      const baselinesDue = this.baselineDirty && this.now - this.lastWriteAt >= BASELINE_SAVE_INTERVAL_MS;
      if (!this.dirty && !baselinesDue) return;
      this.dirty = false;
      this.baselineDirty = false;
      this.lastWriteAt = this.now;
      const text = JSON.stringify(this.serialise());
      try {
        await mkdir(dirname(this.file), { recursive: true });
        const tmp = `${this.file}.tmp`;
        await writePrivateFile(tmp, text);
        await rename(tmp, this.file);
      } catch (e) {
        this.dirty = true;
        throw new Error(`cannot save alert state to ${this.file}: ${(e as Error).message}`);
      }
    };
    const p = this.writing.then(run, run);
    this.writing = p.catch(() => undefined);
    return p;
  }

  /** Loads persisted state; a missing file is a fresh start, an unreadable one is logged and ignored. */
  async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn(`cannot read alert state ${this.file}: ${(e as Error).message}; starting fresh`);
      return;
    }
    let st: PersistedState;
    try {
      st = JSON.parse(text) as PersistedState;
      if (st.version !== ALERT_STATE_VERSION || !Array.isArray(st.instances) || !Array.isArray(st.history))
        throw new Error(`unsupported layout (version ${String(st.version)})`);
    } catch (e) {
      this.log.warn(`alert state ${this.file} is unreadable (${(e as Error).message}); starting fresh`);
      return;
    }
    this.seq = typeof st.seq === 'number' ? st.seq : 0;
    this.history = st.history.slice(-this.historySize);
    for (const [id, until] of Object.entries(st.ruleMutes ?? {})) if (this.byId.has(id) && typeof until === 'number') this.ruleMutes.set(id, until);
    let dropped = 0;
    for (const p of st.instances) {
      const entry = this.byId.get(p.ruleId);
      const captures = entry ? entry.sel.match(p.series) : null;
      if (!entry || !captures) {
        dropped++;
        continue;
      }
      const inst: Instance = { ...this.newInstance(entry, p.series, captures), ...pickInstance(p), entry, captures, lastTick: 0 };
      this.instances.set(inst.id, inst);
    }
    if (dropped) this.log.info(`dropped ${dropped} persisted alert(s) whose rule was removed or changed`);
    for (const [id, b] of Object.entries(st.baselines ?? {})) {
      const entry = this.byId.get(id.slice(0, id.indexOf(':')));
      if (entry?.rule.baseline) this.baselines.set(id, new RollingMedian(entry.rule.baseline.windowMs, b));
    }
    this.loadedAt = typeof st.savedAt === 'number' ? st.savedAt : 0;
  }

  // ---------- evaluation ----------

  /** Scans every name of this tick for rules it matches; drops watch items whose series is gone. */
  private discover(series: SeriesMap, t: number): void {
    this.scanCount++;
    this.lastScanAt = t;
    if (this.classified.size > CLASSIFIED_MAX) {
      // Rebuild from this tick's names; items kept alive by an instance are re-added when seen.
      this.classified.clear();
      this.watchByName.clear();
      for (const w of this.watch) {
        const list = this.watchByName.get(w.name);
        if (list) list.push(w);
        else this.watchByName.set(w.name, [w]);
        this.classified.set(w.name, true);
      }
    }
    const scan = this.scanCount;
    for (const name in series) {
      const known = this.classified.get(name);
      if (known === undefined) this.classified.set(name, this.addWatch(name, false));
      else if (known) this.markSeen(name, scan);
    }
    this.watch = this.watch.filter((w) => {
      const keep = w.seenScan === scan || (w.inst !== undefined && !w.inst.deleted);
      // Forget the name too, so it is matched afresh if the series comes back.
      if (!keep) {
        this.classified.delete(w.name);
        this.watchByName.delete(w.name);
      }
      return keep;
    });
  }

  private markSeen(name: string, scan: number): void {
    const items = this.watchByName.get(name);
    if (items) for (const w of items) w.seenScan = scan;
  }

  /** Adds watch items for every rule matching `name`; returns whether any matched. */
  private addWatch(name: string, virtual: boolean): boolean {
    let any = false;
    for (const entry of this.entries) {
      const captures = entry.sel.match(name);
      if (!captures) continue;
      any = true;
      const id = `${entry.rule.id}:${name}`;
      let baseline: RollingMedian | null = null;
      if (entry.rule.baseline) {
        baseline = this.baselines.get(id) ?? new RollingMedian(entry.rule.baseline.windowMs);
        this.baselines.set(id, baseline);
      }
      const item: WatchItem = {
        name,
        id,
        entry,
        captures,
        baseline,
        inst: this.instances.get(id),
        seenScan: this.scanCount,
        // A counter present from the first tick is a baseline; one appearing later counts from 0.
        prev: entry.rule.increase && this.tick > 1 ? 0 : undefined,
        denominator: entry.rule.ratioTo ? expandCaptures(entry.rule.ratioTo, captures) : null,
        requireMissing: entry.rule.whenMissing ? expandCaptures(entry.rule.whenMissing, captures) : null,
        offset: entry.rule.relativeTo ? expandCaptures(entry.rule.relativeTo, captures) : null,
        trail: entry.rule.growingOverMs > 0 ? [] : null,
      };
      (virtual ? this.virtualWatch : this.watch).push(item);
      if (!virtual) {
        const list = this.watchByName.get(name);
        if (list) list.push(item);
        else this.watchByName.set(name, [item]);
      }
    }
    return any;
  }

  private evalItem(w: WatchItem, raw: SeriesValue, t: number, lookup: (n: string) => SeriesValue, events: AlertEvent[]): void {
    const rule = w.entry.rule;
    let v: SeriesValue = raw;
    if (rule.increase) {
      // Events as counters: compare what was added since the last tick (a drop means a reset).
      const prev = w.prev;
      if (raw !== null) w.prev = raw;
      v = raw === null ? null : prev === undefined ? 0 : raw >= prev ? raw - prev : raw;
    }
    if (w.denominator !== null && v !== null) {
      const den = lookup(w.denominator);
      v = den === null || den === 0 ? null : v / den;
    }
    if (w.baseline !== null && raw !== null && rule.baseline) {
      // Compare with the median of earlier samples, so a spike does not raise its own baseline.
      const bl = w.baseline;
      const median = bl.median();
      const enough = bl.count >= rule.baseline.minSamples;
      if (bl.add(t, raw)) this.baselineDirty = true;
      v = enough && median !== null && median > 0 ? raw / median : null;
    }
    let base: number | null = null;
    if (w.offset !== null && v !== null) {
      // Compared relative to a companion (a GPU's own slowdown temperature): no companion, no verdict.
      base = lookup(w.offset);
      v = base === null ? null : v - base;
    }
    const allowed = !(rule.minValue !== null && raw !== null && raw < rule.minValue) && !(w.requireMissing !== null && lookup(w.requireMissing) !== null);
    const growing = w.trail === null || (v !== null && this.growing(w.trail, rule, t, v));
    let inst = w.inst;
    if (inst !== undefined && inst.deleted) inst = w.inst = undefined;
    if (inst === undefined) {
      // Most series never breach: no instance object until one does.
      if (v === null || !allowed || !growing) return;
      if (!(rule.warning !== null && beyond(rule, v, rule.warning)) && !(rule.critical !== null && beyond(rule, v, rule.critical))) return;
      inst = this.instances.get(w.id);
      if (inst === undefined) {
        inst = this.newInstance(w.entry, w.name, w.captures);
        this.instances.set(w.id, inst);
      }
      w.inst = inst;
    }
    inst.lastTick = this.tick;
    if (base !== null) inst.offsetBase = base;
    this.step(inst, v, allowed, t, events, growing, rule.increase ? raw : v);
  }

  /**
   * For `growingOver` rules: records the sample while it is beyond the rule's lowest level and says
   * whether the value is above where it was about one window ago (held-but-flat never counts).
   */
  private growing(trail: number[], rule: AlertRule, t: number, v: number): boolean {
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

  private step(inst: Instance, v: SeriesValue, allowed: boolean, t: number, events: AlertEvent[], growing = true, shown: SeriesValue = v): void {
    const r = inst.entry.rule;
    if (v === null) {
      // Unknown is not "fine": a firing alert holds until the data has been missing for staleAfter.
      inst.warnSince = inst.critSince = undefined;
      if (inst.state === 'pending') this.resolve(inst, t, events);
      else if (inst.state === 'firing') {
        inst.nullSince ??= t;
        if (t - inst.nullSince >= r.staleAfterMs) this.resolve(inst, t, events);
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
          this.emit(inst, up ? 'escalated' : 'deescalated', t, events, up && !this.isMuted(inst, t));
        }
        return;
      }
      if (r.keepFiringForMs > 0 && !(r.resolveOnAck && inst.acknowledged)) {
        inst.clearingSince ??= t;
        if (t - inst.clearingSince < r.keepFiringForMs) return;
      }
      this.resolve(inst, t, events);
      return;
    }

    const target: AlertSeverity | null = critMet ? 'critical' : warnMet ? 'warning' : null;
    if (target) {
      inst.state = 'firing';
      inst.severity = target;
      inst.activeSince ??= t;
      inst.firingSince = t;
      inst.clearingSince = undefined;
      this.emit(inst, 'firing', t, events, !this.isMuted(inst, t));
    } else if (bw || bc) {
      inst.severity = bc ? 'critical' : 'warning';
      if (inst.state === 'inactive') {
        inst.state = 'pending';
        inst.activeSince = t;
        this.emit(inst, 'pending', t, events, false);
      }
    } else if (inst.state === 'pending') {
      this.resolve(inst, t, events);
    }
  }

  private resolve(inst: Instance, t: number, events: AlertEvent[]): void {
    const wasFiring = inst.state === 'firing';
    this.emit(inst, 'resolved', t, events, false);
    inst.state = 'inactive';
    inst.warnSince = inst.critSince = inst.clearingSince = inst.nullSince = undefined;
    inst.activeSince = inst.firingSince = inst.peak = undefined;
    inst.acknowledged = false;
    inst.mutedReported = false;
    if (!wasFiring) this.log.debug(`alert ${inst.id} was pending and no longer holds`);
  }

  private emit(inst: Instance, transition: Transition, t: number, events: AlertEvent[], notify: boolean): void {
    const alert = this.view(inst, t, transition === 'resolved' ? t : undefined);
    const ev: AlertEvent = { seq: ++this.seq, t, transition, alert, notify };
    inst.mutedReported = transition === 'resolved' ? false : this.isMuted(inst, t);
    events.push(ev);
    // A pending alert that cleared never fired: clients drop it; the history does not list it.
    const noise = transition === 'pending' || (transition === 'resolved' && inst.state !== 'firing');
    if (!noise) this.history.push(ev);
    // Trimmed in batches: a splice per event would be O(history) on every transition.
    if (this.history.length > this.historySize + HISTORY_SLACK) this.history.splice(0, this.history.length - this.historySize);
    this.dirty = true;
    if (transition === 'firing' || transition === 'escalated' || (transition === 'resolved' && inst.state === 'firing')) {
      this.log.info(`alert ${transition}: ${alert.message}`);
    }
  }

  private view(inst: Instance, t: number, resolvedAt?: number): AlertInstance {
    const r = inst.entry.rule;
    const level = (inst.severity === 'critical' ? r.critical : r.warning) ?? ((r.warning ?? r.critical) as number);
    // Relative rules show absolute values: the temperature and the GPU's own limit, not their difference.
    const shift = r.relativeTo !== null ? (inst.offsetBase ?? 0) : 0;
    const threshold = level + shift;
    const shown = inst.value === null ? null : inst.value + shift;
    const compared = formatCompared(r.unit, shown, threshold);
    const thresholdText = compared[1];
    let value = compared[0];
    let template = r.message;
    if (resolvedAt !== undefined) {
      // Past tense: what it reached, what it is now; the "(above …)" clause no longer holds.
      const peak = inst.peak === undefined ? null : inst.peak + shift;
      value =
        peak !== null && peak !== shown
          ? `was ${formatCompared(r.unit, peak, threshold)[0]}, now ${formatValue(r.unit, shown)}`
          : `now ${formatValue(r.unit, shown)}`;
      template = template.includes('{value}') ? template.replace(/\s*\((above|below|slowdown|at|near)\b[^)]*\)\s*$/, '') : `${template} — resolved`;
    }
    const reason = this.reasons.get(inst.series);
    if (reason !== undefined) inst.reason = reason;
    const message = renderMessage(template, {
      rule: r.id,
      series: inst.series,
      severity: inst.severity,
      value,
      threshold: thresholdText,
      op: r.comparison,
      for: formatDuration(inst.severity === 'critical' ? r.criticalForMs : r.warningForMs),
      reason: inst.reason ?? this.reasons.get(inst.series) ?? 'no reason given',
      subject: this.subjectOf(inst.series),
      relativeTo: formatValue(r.unit, r.relativeTo !== null ? inst.offsetBase : null),
      captures: inst.captures,
      raw: inst.value,
      changedAt: inst.changedAt,
    });
    const a: AlertInstance = {
      id: inst.id,
      ruleId: r.id,
      series: inst.series,
      state: resolvedAt !== undefined ? 'resolved' : inst.state === 'firing' ? 'firing' : 'pending',
      severity: inst.severity,
      value: shown,
      threshold,
      unit: r.unit ?? undefined,
      message,
      activeSince: inst.activeSince ?? t,
      acknowledged: inst.acknowledged,
    };
    if (inst.firingSince !== undefined) a.firingSince = inst.firingSince;
    if (resolvedAt !== undefined) a.resolvedAt = resolvedAt;
    const mu = this.mutedUntil(inst);
    if (mu !== undefined && mu > t) a.mutedUntil = mu;
    return a;
  }

  private subjectOf(series: string): string {
    const now = this.notes?.get(series);
    if (now !== undefined) {
      this.subjects.set(series, now);
      if (this.subjects.size > 4096) this.subjects.delete(this.subjects.keys().next().value as string);
      return now;
    }
    return this.subjects.get(series) ?? 'n/a';
  }

  private newInstance(entry: RuleEntry, series: string, captures: string[]): Instance {
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

  private mutedUntil(inst: Instance): number | undefined {
    const r = this.ruleMutes.get(inst.entry.rule.id);
    const i = inst.mutedUntil;
    if (r === undefined) return i;
    if (i === undefined) return r;
    return Math.max(r, i);
  }

  private isMuted(inst: Instance, t: number): boolean {
    const mu = this.mutedUntil(inst);
    return mu !== undefined && mu > t;
  }

  private activeIdsHint(): string {
    const ids = [...this.instances.values()].filter((i) => i.state !== 'inactive').map((i) => i.id);
    return ids.length ? ` (active: ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''})` : ' (no alert is active)';
  }

  private serialise(): PersistedState {
    const instances: PersistedInstance[] = [];
    for (const i of this.instances.values()) {
      instances.push({
        id: i.id,
        ruleId: i.entry.rule.id,
        series: i.series,
        state: i.state,
        severity: i.severity,
        value: i.value,
        peak: i.peak,
        warnSince: i.warnSince,
        critSince: i.critSince,
        activeSince: i.activeSince,
        firingSince: i.firingSince,
        clearingSince: i.clearingSince,
        nullSince: i.nullSince,
        acknowledged: i.acknowledged,
        mutedUntil: i.mutedUntil,
        changedAt: i.changedAt,
        mutedReported: i.mutedReported,
      });
    }
    const baselines: Record<string, BaselineState> = {};
    for (const [id, b] of this.baselines) baselines[id] = b.toJSON();
    return {
      version: ALERT_STATE_VERSION,
      savedAt: this.now,
      seq: this.seq,
      instances,
      ruleMutes: Object.fromEntries(this.ruleMutes),
      history: this.alertHistory(),
      baselines,
    };
  }
}

function beyond(r: AlertRule, v: number, level: number): boolean {
  return r.comparison === 'above' ? v > level : v < level;
}

function pickInstance(p: PersistedInstance): Partial<Instance> {
  const out: Partial<Instance> = {
    state: p.state === 'pending' || p.state === 'firing' ? p.state : 'inactive',
    severity: p.severity === 'critical' ? 'critical' : 'warning',
    value: typeof p.value === 'number' ? p.value : null,
    acknowledged: p.acknowledged === true,
    mutedReported: p.mutedReported === true,
  };
  for (const k of ['warnSince', 'critSince', 'activeSince', 'firingSince', 'clearingSince', 'nullSince', 'mutedUntil', 'peak', 'changedAt'] as const) {
    if (typeof p[k] === 'number') out[k] = p[k];
  }
  return out;
}

/** Moves the pending/clearing/stale timers of every instance by `deltaMs`. */
function shiftTimers(instances: Iterable<Instance>, deltaMs: number): void {
  for (const i of instances) {
    if (i.warnSince !== undefined) i.warnSince += deltaMs;
    if (i.critSince !== undefined) i.critSince += deltaMs;
    if (i.clearingSince !== undefined) i.clearingSince += deltaMs;
    if (i.nullSince !== undefined) i.nullSince += deltaMs;
  }
}
