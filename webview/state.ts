// The dashboard's single source of truth: what the collector told us (hello, sources, alerts, the
// latest values and details), the UI choices (range, view), and the chart buffers. Components read it
// and subscribe; only this file talks to the bridge.

import type { ConnectionState } from '../protocol/bridge';
import type { SourceDetails } from '../protocol/details';
import {
  assertNever,
  type AlertInstance,
  type HistoryReplyMessage,
  type HostInfo,
  type LoggingStatus,
  type SampleMessage,
  type SeriesValue,
  type ServerMessage,
  type SourceStatus,
} from '../protocol/messages';
import type { Bridge } from './bridge';
import { isRunId } from './run-route';
import { SeriesBuffer } from './series-buffer';

/** Time ranges offered by the selector. */
export const RANGES = [
  { id: 'live', label: 'Live', ms: 2 * 60_000 },
  { id: '5m', label: '5m', ms: 5 * 60_000 },
  { id: '15m', label: '15m', ms: 15 * 60_000 },
  { id: '1h', label: '1h', ms: 3_600_000 },
  { id: '6h', label: '6h', ms: 6 * 3_600_000 },
  { id: '24h', label: '24h', ms: 24 * 3_600_000 },
  { id: '7d', label: '7d', ms: 7 * 24 * 3_600_000 },
] as const;

/** A time range id. */
export type RangeId = (typeof RANGES)[number]['id'];

/** UI choices that survive a reload. */
export interface UiState {
  range: RangeId;
  mode: 'basic' | 'advanced';
  gpuView: 'single' | 'compare';
  /** Selected GPU index in single view. */
  gpu: number;
  /** The run whose page is shown (`RunInfo.id`); absent: the dashboard. */
  run?: string;
}

const DEFAULT_UI: UiState = { range: 'live', mode: 'advanced', gpuView: 'single', gpu: 0 };
/** Point budget bounds per series and request (the collector accepts at most 5000). */
const MIN_POINTS = 60;
const MAX_POINTS = 2000;
/** Longest wait for a frame before change listeners run anyway (hidden pages get no frames), in ms. */
const CHANGE_FALLBACK_MS = 250;
/** Values not refreshed for this many intervals are treated as missing. */
const STALE_INTERVALS = 5;

/** Coerces persisted UI state into a valid UiState (it may come from an older version). */
export function parseUiState(raw: unknown): UiState {
  const ui = { ...DEFAULT_UI };
  if (typeof raw !== 'object' || raw === null) return ui;
  const o = raw as Record<string, unknown>;
  if (RANGES.some((r) => r.id === o.range)) ui.range = o.range as RangeId;
  if (o.mode === 'basic' || o.mode === 'advanced') ui.mode = o.mode;
  if (o.gpuView === 'single' || o.gpuView === 'compare') ui.gpuView = o.gpuView;
  if (typeof o.gpu === 'number' && Number.isInteger(o.gpu) && o.gpu >= 0) ui.gpu = o.gpu;
  if (typeof o.run === 'string' && isRunId(o.run)) ui.run = o.run;
  return ui;
}

interface Pending {
  kind: 'range' | 'add' | 'backfill';
  since?: number;
}

interface Watched {
  buf: SeriesBuffer;
  refs: number;
}

/** Listener for chart data: `reset` when buffers were replaced (range change, history answer). */
export type DataListener = (reset: boolean) => void;

/** Dashboard state and the collector conversation. */
export class DashboardStore {
  /** `canStartLocal`: the user stopped the local collector shown here; startLocal() starts it again. */
  connection: { state: ConnectionState; reason?: string; name?: string; canStartLocal?: boolean } = { state: 'connecting' };
  host: HostInfo | undefined;
  intervalMs = 1000;
  sources = new Map<string, SourceStatus>();
  alerts = new Map<string, AlertInstance>();
  logging: LoggingStatus | undefined;
  /** Latest value per series (merged over ticks; stale values expire). */
  values = new Map<string, SeriesValue>();
  details = new Map<string, SourceDetails>();
  lastSampleT = 0;
  /** Last protocol error the collector reported. */
  serverError: string | undefined;
  /** True while a range's history is being fetched. */
  loadingHistory = false;
  /** Count of history answers applied (tests and benchmarks watch it). */
  historyReplies = 0;
  ui: UiState;

  private valueAt = new Map<string, number>();
  private clockOffsetMs = 0;
  private buffers = new Map<string, Watched>();
  private toFetch = new Set<string>();
  private fetchQueued = false;
  private pending = new Map<string, Pending>();
  private nextId = 1;
  private budget = 600;
  private widthReported = false;
  private readonly changeListeners = new Set<() => void>();
  private readonly dataListeners = new Set<DataListener>();
  private changeQueued = false;

  constructor(private readonly bridge: Bridge) {
    this.ui = parseUiState(bridge.loadUiState());
  }

  /** Starts the bridge. */
  start(): void {
    this.bridge.start({
      message: (m) => this.receive(m),
      openRun: (id) => this.openRun(id),
      connection: (state, reason, name, canStartLocal) => {
        this.connection = { state, reason, name: name ?? this.connection.name, ...(canStartLocal ? { canStartLocal } : {}) };
        this.changed();
      },
    });
  }

  /** Stops the bridge and drops listeners. */
  dispose(): void {
    this.bridge.dispose();
    this.changeListeners.clear();
    this.dataListeners.clear();
  }

  /** Asks the host to start the stopped local collector (the dashboard's Start button). */
  startLocal(): boolean {
    if (!this.connection.canStartLocal || !this.bridge.startLocal) return false;
    this.bridge.startLocal();
    this.connection = { ...this.connection, state: 'connecting', reason: 'starting the local collector', canStartLocal: false };
    this.changed();
    return true;
  }

  /** Where the bridge runs. */
  get mode(): 'vscode' | 'browser' {
    return this.bridge.mode;
  }

  // ---------- subscriptions ----------

  /** Calls `fn` (at most once per frame) whenever anything shown on cards changes. */
  onChange(fn: () => void): () => void {
    this.changeListeners.add(fn);
    return () => this.changeListeners.delete(fn);
  }

  /** Calls `fn` when chart buffers change. */
  onData(fn: DataListener): () => void {
    this.dataListeners.add(fn);
    return () => this.dataListeners.delete(fn);
  }

  private changed(): void {
    if (this.changeQueued) return;
    this.changeQueued = true;
    // Once per frame however many messages arrive (10 Hz sources, reconnect bursts); the timer covers
    // hidden pages, where animation frames stop.
    const run = (): void => {
      if (!this.changeQueued) return;
      this.changeQueued = false;
      cancelAnimationFrame(raf);
      clearTimeout(timer);
      for (const fn of this.changeListeners) fn();
    };
    const raf = requestAnimationFrame(run);
    const timer = setTimeout(run, CHANGE_FALLBACK_MS);
  }

  private dataChanged(reset: boolean): void {
    for (const fn of this.dataListeners) fn(reset);
  }

  // ---------- reading ----------

  /** Latest value of a series, null when missing or stale. */
  value(name: string): SeriesValue {
    return this.values.get(name) ?? null;
  }

  /** Details of every source of `kind`, keyed by source id. */
  detailsOf<K extends SourceDetails['kind']>(kind: K): [string, Extract<SourceDetails, { kind: K }>][] {
    const out: [string, Extract<SourceDetails, { kind: K }>][] = [];
    for (const [id, d] of this.details) if (d.kind === kind) out.push([id, d as Extract<SourceDetails, { kind: K }>]);
    return out;
  }

  /** Sources of `kind`. */
  sourcesOf(kind: string): SourceStatus[] {
    return [...this.sources.values()].filter((s) => s.kind === kind);
  }

  /** Firing alerts (pending ones are not yet news), critical first, then oldest first. */
  activeAlerts(): AlertInstance[] {
    return [...this.alerts.values()]
      .filter((a) => a.state === 'firing')
      .sort((a, b) => (a.severity === b.severity ? a.activeSince - b.activeSince : a.severity === 'critical' ? -1 : 1));
  }

  /** The collector's "now": its clock when known, never behind the newest sample. */
  now(): number {
    return Math.max(Date.now() + this.clockOffsetMs, this.lastSampleT);
  }

  /** Width of the selected range in ms. */
  get windowMs(): number {
    return RANGES.find((r) => r.id === this.ui.range)?.ms ?? RANGES[0].ms;
  }

  /** Bucket width for live appends in the selected range. */
  get stepMs(): number {
    return Math.max(this.intervalMs, Math.floor(this.windowMs / this.budget));
  }

  private gapFor(stepMs: number): number {
    return Math.max(3 * this.intervalMs, 2.5 * stepMs);
  }

  /** History requests not answered yet. */
  get pendingRequests(): number {
    return this.pending.size;
  }

  /** The points budget per series used for history requests. */
  get pointsBudget(): number {
    return this.budget;
  }

  // ---------- UI ----------

  /** Updates UI choices and persists them. */
  setUi(patch: Partial<UiState>): void {
    const rangeChanged = patch.range !== undefined && patch.range !== this.ui.range;
    this.ui = { ...this.ui, ...patch };
    this.bridge.saveUiState(this.ui);
    if (rangeChanged) {
      const gap = this.gapFor(this.stepMs);
      const minT = this.now() - this.windowMs;
      for (const w of this.buffers.values()) {
        w.buf.configure(this.stepMs, gap);
        w.buf.trim(minT, this.maxPoints());
      }
      this.request('range', [...this.buffers.keys()]);
      this.dataChanged(true);
    }
    this.changed();
  }

  /** Shows a run's page (`RunInfo.id`), or the dashboard for null. */
  openRun(id: string | null): void {
    if (id !== null && !isRunId(id)) return;
    const { run: _old, ...rest } = this.ui;
    this.ui = id === null ? rest : { ...rest, run: id };
    this.bridge.saveUiState(this.ui);
    this.changed();
  }

  /** Charts report their drawing width so history is fetched at about one point per pixel. */
  reportWidth(px: number): void {
    const b = Math.max(MIN_POINTS, Math.min(MAX_POINTS, Math.round(px)));
    // The widest chart decides: narrower ones get a little more than a point per pixel (decimation copes).
    this.budget = this.widthReported ? Math.max(this.budget, b) : b;
    this.widthReported = true;
  }

  private maxPoints(): number {
    return this.budget * 3 + 50;
  }

  /** Acknowledges an alert instance. */
  ack(alertId: string): boolean {
    return this.bridge.send({ type: 'ack', id: `r${this.nextId++}`, alertId });
  }

  /** Mutes notifications for an alert instance or rule. */
  mute(target: string, durationMs: number): boolean {
    return this.bridge.send({ type: 'mute', id: `r${this.nextId++}`, target, durationMs });
  }

  // ---------- chart buffers ----------

  /** Registers interest in series; returns their buffers and an unwatch function. */
  watch(names: string[]): { buffers: SeriesBuffer[]; unwatch: () => void } {
    const buffers = names.map((n) => {
      let w = this.buffers.get(n);
      if (!w) {
        w = { buf: new SeriesBuffer(this.stepMs, this.gapFor(this.stepMs)), refs: 0 };
        this.buffers.set(n, w);
        this.toFetch.add(n);
      }
      w.refs++;
      return w.buf;
    });
    if (this.toFetch.size && !this.fetchQueued) {
      this.fetchQueued = true;
      // One request for every chart created in this render pass (they register over several microtasks).
      setTimeout(() => {
        this.fetchQueued = false;
        const names2 = [...this.toFetch].filter((n) => this.buffers.has(n));
        this.toFetch.clear();
        if (this.host) this.request('add', names2);
      }, 0);
    }
    let done = false;
    return {
      buffers,
      unwatch: () => {
        if (done) return;
        done = true;
        for (const n of names) {
          const w = this.buffers.get(n);
          if (w && --w.refs <= 0) this.buffers.delete(n);
        }
      },
    };
  }

  private request(kind: Pending['kind'], names: string[]): void {
    if (names.length === 0) return;
    const id = `h${this.nextId++}`;
    const to = this.now();
    const since = kind === 'backfill' ? this.lastSampleT : undefined;
    const sent = this.bridge.send(
      since !== undefined
        ? { type: 'history', id, series: names, since, points: this.budget }
        : { type: 'history', id, series: names, from: to - this.windowMs, to, points: this.budget },
    );
    if (!sent) return;
    // A range change supersedes older range answers still in flight.
    if (kind === 'range') {
      for (const [pid, p] of this.pending) if (p.kind === 'range') this.pending.delete(pid);
      this.loadingHistory = true;
    }
    this.pending.set(id, { kind, since });
  }

  // ---------- messages ----------

  private receive(m: ServerMessage): void {
    switch (m.type) {
      case 'hello': {
        const reconnect = this.lastSampleT > 0;
        this.host = m.host;
        this.intervalMs = m.intervalMs > 0 ? m.intervalMs : 1000;
        this.clockOffsetMs = m.serverTime - Date.now();
        this.sources = new Map(m.sources.map((s) => [s.id, s]));
        this.alerts = new Map(m.alerts.filter((a) => a.state !== 'resolved').map((a) => [a.id, a]));
        this.logging = m.logging;
        this.serverError = undefined;
        this.pending.clear();
        this.toFetch.clear();
        const names = [...this.buffers.keys()];
        // A reconnect backfills the gap with raw samples; a first connect loads the selected range.
        if (reconnect && this.now() - this.lastSampleT < this.windowMs) this.request('backfill', names);
        else this.request('range', names);
        if (m.latest) this.applySample(m.latest);
        this.changed();
        break;
      }
      case 'sample':
        this.applySample(m);
        break;
      case 'status':
        for (const s of m.sources) this.sources.set(s.id, s);
        this.changed();
        break;
      case 'alert':
        for (const e of m.events) {
          if (e.alert.state === 'resolved') this.alerts.delete(e.alert.id);
          else this.alerts.set(e.alert.id, e.alert);
        }
        this.changed();
        break;
      case 'history':
        this.applyHistory(m);
        break;
      case 'logging':
        this.logging = m.logging;
        this.changed();
        break;
      case 'result':
        if (!m.ok && m.error) {
          this.serverError = m.error;
          this.changed();
        }
        break;
      case 'error':
        this.serverError = m.message;
        this.changed();
        break;
      default:
        assertNever(m);
    }
  }

  private applySample(m: SampleMessage): void {
    if (m.t < this.lastSampleT) return;
    this.lastSampleT = m.t;
    for (const k in m.series) {
      this.values.set(k, m.series[k]);
      this.valueAt.set(k, m.t);
    }
    const staleBefore = m.t - STALE_INTERVALS * this.intervalMs;
    for (const [k, t] of this.valueAt) {
      if (t < staleBefore) {
        this.valueAt.delete(k);
        this.values.delete(k);
      }
    }
    for (const id in m.details) this.details.set(id, m.details[id]);
    const minT = this.now() - this.windowMs;
    const maxPts = this.maxPoints();
    for (const [name, w] of this.buffers) {
      const v = m.series[name];
      // Absent means the source missed this tick (or has not started): no point; a long silence
      // becomes a gap in the buffer. An explicit null is "not available now": a gap right away.
      if (v !== undefined) w.buf.append(m.t, v);
      w.buf.trim(minT, maxPts);
    }
    this.dataChanged(false);
    this.changed();
  }

  private applyHistory(m: HistoryReplyMessage): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    const minT = this.now() - this.windowMs;
    for (const s of m.series) {
      const w = this.buffers.get(s.name);
      if (!w) continue;
      if (p.kind === 'backfill') w.buf.backfill(p.since ?? 0, s.points);
      else {
        const step = s.stepMs > 0 ? Math.max(s.stepMs, 1) : this.stepMs;
        w.buf.reset(step, this.gapFor(step), s.points);
      }
      w.buf.trim(minT, this.maxPoints());
    }
    if (p.kind === 'range') this.loadingHistory = false;
    this.historyReplies++;
    this.dataChanged(true);
    this.changed();
  }
}
