// The alert engine: finds the series each rule watches, feeds every tick's values through the
// per-instance lifecycle (state-machine.ts), handles ack and mute, keeps a bounded history and
// composes discovery (watch.ts), persistence (persistence.ts) and what clients and /metrics see
// (exposition.ts).

import type { AlertEvent, AlertInstance, SeriesMap, SeriesValue, SourceStatus } from '../../protocol';
import type { AlertEngine } from '../contracts';
import type { Logger } from '../log';
import { RollingMedian, type BaselineState } from './baseline';
import { alertExpositionLines, alertView } from './exposition';
import { ALERT_STATE_VERSION, persistInstance, readAlertState, restoredFields, writeAlertState, type PersistedState } from './persistence';
import { parseAlertsConfig, type AlertRule } from './rules';
import { compileSelector } from './selector';
import { beyond, growingOver, newInstance, resolveInstance, shiftTimers, stepInstance } from './state-machine';
import type { Instance, RuleEntry, StepHooks, Transition } from './state-machine';
import { WatchList, type WatchItem } from './watch';

export { ALERT_STATE_VERSION } from './persistence';
/** After a restart gap longer than this, pending `for` timers start again (we did not watch meanwhile). */
export const RESTART_GAP_MS = 60_000;
/**
 * How often every series name of a tick is scanned for new matches, in ms. Series already matched
 * are evaluated on every tick; scanning all names (hundreds) every tick would cost more than the
 * whole evaluation, so a new series is picked up at once when the names version says names were added
 * (or the source list changed), and otherwise at the next scan.
 */
export const DISCOVERY_INTERVAL_MS = 30_000;
/** Longest time baseline samples alone wait before being saved, in ms of tick time. */
export const BASELINE_SAVE_INTERVAL_MS = 5 * 60_000;
/** Extra history entries tolerated before trimming back to historySize. */
const HISTORY_SLACK = 64;

/** Options of createAlertEngine. */
export interface AlertEngineOptions {
  /** `config.alerts` as read from the config file (validated here). */
  config: unknown;
  /** State + history file (under the data dir). */
  file: string;
  log: Logger;
  /** Config file path, for error messages. */
  configFile?: string;
  /**
   * A number that changes whenever the tick's series names gain a new one (the history store's
   * `namesVersion`): a change triggers the discovery scan on that tick, so a series appearing between
   * scans (an Xid counter) is evaluated at once. Without it, new names wait for the periodic scan.
   */
  namesVersion?: () => number;
}

/** Creates the engine: validates `config.alerts` (throws ConfigError) and loads persisted state. */
export async function createAlertEngine(opts: AlertEngineOptions): Promise<RuleAlertEngine> {
  const parsed = parseAlertsConfig(opts.config, opts.configFile);
  const engine = new RuleAlertEngine(parsed.rules, parsed.historySize, opts.file, opts.log, opts.namesVersion);
  await engine.load();
  return engine;
}

/** AlertEngine implementation driven by AlertRules. */
export class RuleAlertEngine implements AlertEngine {
  private readonly entries: RuleEntry[];
  private readonly byId = new Map<string, RuleEntry>();
  private readonly watch: WatchList;
  private lastNamesVersion: number | undefined;
  /** Ids of the configured sources (kind other than `collector`) as last seen, persisted across restarts. */
  private knownSources = new Set<string>();
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
  private curSeries: SeriesMap = {};
  /** Value of a series this tick, falling back to the virtual ones (ratio denominators). */
  private readonly lookup = (name: string): SeriesValue => {
    const v = this.curSeries[name];
    return v === undefined ? (this.virtualValues.get(name) ?? null) : v;
  };
  private now = 0;
  /** Where the state machine's transitions go during the current step (the caller's event list). */
  private sink: AlertEvent[] = [];
  private readonly hooks: StepHooks = {
    emit: (inst, transition, t, notify) => this.emit(inst, transition, t, this.sink, notify),
    isMuted: (inst, t) => this.isMuted(inst, t),
    clearedPending: (inst) => this.log.debug(`alert ${inst.id} was pending and no longer holds`),
  };

  constructor(
    rules: AlertRule[],
    private readonly historySize: number,
    private readonly file: string,
    private readonly log: Logger,
    private readonly namesVersion?: () => number,
  ) {
    this.entries = rules.map((rule, index) => ({ rule, index, sel: compileSelector(rule.selector) }));
    for (const e of this.entries) this.byId.set(e.rule.id, e);
    this.watch = new WatchList(this.entries, {
      baselineFor: (id, windowMs) => {
        const b = this.baselines.get(id) ?? new RollingMedian(windowMs);
        this.baselines.set(id, b);
        return b;
      },
      instanceFor: (id) => this.instances.get(id),
    });
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
        this.watch.add(name, true, this.tick);
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
    if (changed) this.resolveRemovedSources(sources, t, events);
    if (this.namesVersion) {
      const nv = this.namesVersion();
      if (nv !== this.lastNamesVersion) {
        changed = true;
        this.lastNamesVersion = nv;
      }
    }
    this.curSeries = series;
    const lookup = this.lookup;

    // New names (per the names version), or sources changing state: scan for them then, and periodically.
    if (this.tick === 1 || changed || t - this.watch.lastScanAt >= DISCOVERY_INTERVAL_MS) this.watch.discover(series, t, this.tick);

    const watch = this.watch.items;
    for (let i = 0; i < watch.length; i++) {
      const w = watch[i] as WatchItem;
      const v = series[w.name];
      this.evalItem(w, v === undefined ? null : v, t, lookup, events);
    }
    for (const w of this.watch.virtualItems) {
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
        const created = newInstance(entry, seriesName, captures);
        this.instances.set(created.id, created);
        this.watch.link(created);
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
    return alertExpositionLines(this.active());
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
      try {
        await writeAlertState(this.file, this.serialise());
      } catch (e) {
        this.dirty = true;
        throw e;
      }
    };
    const p = this.writing.then(run, run);
    this.writing = p.catch(() => undefined);
    return p;
  }

  /** Loads persisted state; a missing file is a fresh start, an unreadable one is logged and ignored. */
  async load(): Promise<void> {
    const st = await readAlertState(this.file, this.log);
    if (st === null) return;
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
      const inst: Instance = { ...newInstance(entry, p.series, captures), ...restoredFields(p), entry, captures, lastTick: 0 };
      this.instances.set(inst.id, inst);
    }
    if (dropped) this.log.info(`dropped ${dropped} persisted alert(s) whose rule was removed or changed`);
    for (const [id, b] of Object.entries(st.baselines ?? {})) {
      const entry = this.byId.get(id.slice(0, id.indexOf(':')));
      if (entry?.rule.baseline) this.baselines.set(id, new RollingMedian(entry.rule.baseline.windowMs, b));
    }
    if (Array.isArray(st.sources)) this.knownSources = new Set(st.sources.filter((id): id is string => typeof id === 'string'));
    this.loadedAt = typeof st.savedAt === 'number' ? st.savedAt : 0;
  }

  // ---------- evaluation ----------

  /**
   * Resolves, with "source removed", every active alert whose series belongs to a source that was
   * configured before (this run or when the state was saved) and no longer is. Runs when the source
   * list changes; an empty list (no sources reported) says nothing about the config.
   */
  private resolveRemovedSources(sources: SourceStatus[], t: number, events: AlertEvent[]): void {
    const current = new Set<string>();
    for (const s of sources) if (s.kind !== 'collector') current.add(s.id);
    if (current.size === 0) return;
    const removed: string[] = [];
    for (const id of this.knownSources) if (!current.has(id)) removed.push(id);
    if (removed.length || current.size !== this.knownSources.size) this.dirty = true;
    this.knownSources = current;
    if (!removed.length) return;
    for (const inst of this.instances.values()) {
      if (inst.state === 'inactive' || !removed.some((id) => belongsTo(inst.series, id))) continue;
      inst.resolvedReason = 'source removed';
      this.resolve(inst, t, events);
    }
    this.log.info(`source(s) removed from the configuration: ${removed.join(', ')}; their alerts are resolved`);
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
    const growing = w.trail === null || (v !== null && growingOver(w.trail, rule, t, v));
    let inst = w.inst;
    if (inst !== undefined && inst.deleted) inst = w.inst = undefined;
    if (inst === undefined) {
      // Most series never breach: no instance object until one does.
      if (v === null || !allowed || !growing) return;
      if (!(rule.warning !== null && beyond(rule, v, rule.warning)) && !(rule.critical !== null && beyond(rule, v, rule.critical))) return;
      inst = this.instances.get(w.id);
      if (inst === undefined) {
        inst = newInstance(w.entry, w.name, w.captures);
        this.instances.set(w.id, inst);
      }
      w.inst = inst;
    }
    inst.lastTick = this.tick;
    if (base !== null) inst.offsetBase = base;
    this.step(inst, v, allowed, t, events, growing, rule.increase ? raw : v);
  }

  private step(inst: Instance, v: SeriesValue, allowed: boolean, t: number, events: AlertEvent[], growing = true, shown: SeriesValue = v): void {
    this.sink = events;
    stepInstance(inst, v, allowed, t, this.hooks, growing, shown);
  }

  private resolve(inst: Instance, t: number, events: AlertEvent[]): void {
    this.sink = events;
    resolveInstance(inst, t, this.hooks);
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
    const reason = this.reasons.get(inst.series);
    if (reason !== undefined) inst.reason = reason;
    return alertView(inst, t, { reason: inst.reason, subject: this.subjectOf(inst.series), mutedUntil: this.mutedUntil(inst) }, resolvedAt);
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
    const instances = [...this.instances.values()].map(persistInstance);
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
      sources: [...this.knownSources],
    };
  }
}

/** Whether `series` is one of source `id`'s own series or the collector's series about it. */
function belongsTo(series: string, id: string): boolean {
  return series.startsWith(`${id}.`) || series.startsWith(`collector.${id}.`);
}
