// A fleet view through Prometheus: polls the hosts Prometheus scrapes that are Rigwatch collectors
// (`listFleet`) and presents each as its own read-only connection (kind `prometheus-host`) whose model
// carries that host's GPU utilisation/VRAM and firing alerts, so the Services and Alerts trees show
// them like any collector, and whose history requests are answered by PromQL range queries
// (`fleetHistory`, step fitted to the chart's point budget) so the dashboard can open a host's charts.
// The Prometheus connection itself (kind `prometheus`) carries the poll state and the host list.
// Free of the vscode module.

import type { ConnectionState } from '../../protocol/bridge';
import { matchesSelector } from '../../protocol/series';
import {
  PROTOCOL_VERSION,
  type AlertEvent,
  type AlertInstance,
  type ClientMessage,
  type HelloMessage,
  type HistoryReplyMessage,
  type HistoryRequest,
  type SampleMessage,
  type SeriesMap,
  type ServerMessage,
  type SourceStatus,
} from '../../protocol/messages';
import type { GpuDetails } from '../../protocol/details';
import { CollectorModel } from './collector-model';
import type { ClientRequest, Connection, ConnectionStateChange, RequestReply } from './connection';
import { Emitter } from './events';
import { fleetHistory, listFleet, PrometheusApi, type FleetHost } from './prometheus-api';

/** Kind of the Prometheus connection. */
export const PROMETHEUS_KIND = 'prometheus';
/** Kind of one host seen through Prometheus. */
export const PROMETHEUS_HOST_KIND = 'prometheus-host';
/** Default seconds between fleet polls (Prometheus scrapes every 15 s by default; polling faster shows nothing new). */
export const DEFAULT_FLEET_POLL_SECONDS = 15;
/** Default chart range when a history request names none, in ms (as the collector does). */
const DEFAULT_HISTORY_RANGE_MS = 3600_000;
/** Default and largest point budgets of a history request (as the collector's). */
const DEFAULT_POINTS = 600;
const MAX_POINTS = 5000;

/** Options of a Prometheus connection. */
export interface PrometheusConnectionOptions {
  /** Prometheus base URL, e.g. http://prometheus:9090 (a path prefix is kept). */
  url: string;
  /** Bearer token for Prometheus (if it sits behind an authenticating proxy). Never logged. */
  token?: string;
  /** Seconds between polls. */
  pollSeconds?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** Checks a user-entered Prometheus URL; returns it normalised (no trailing slash) or throws a readable error. */
export function parsePrometheusUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new Error(`"${raw}" is not a URL (expected e.g. http://prometheus.lab:9090)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`"${u.protocol}" is not supported for Prometheus (use http:// or https://)`);
  if (u.username || u.password) throw new Error('put credentials in the bearer token, not in the URL');
  return (u.origin + u.pathname).replace(/\/+$/, '');
}

/** The id of the Prometheus connection for a URL. */
export function prometheusConnectionId(url: string): string {
  return `prometheus:${url}`;
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The Prometheus connection: polls the fleet and owns one host connection per Rigwatch collector. */
export class PrometheusConnection implements Connection {
  readonly id: string;
  readonly name: string;
  readonly kind = PROMETHEUS_KIND;
  /** Stays without a hello: the fleet is in `fleet` and in the host connections. */
  readonly model = new CollectorModel();
  /** The hosts as of the last successful poll. */
  fleet: FleetHost[] = [];
  readonly api: PrometheusApi;
  private readonly pollMs: number;
  private readonly hostConns = new Map<string, PrometheusHostConnection>();
  private readonly stateEmitter = new Emitter<ConnectionStateChange>();
  private readonly receiveEmitter = new Emitter<ServerMessage>();
  private readonly hostsEmitter = new Emitter<PrometheusHostConnection[]>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private everLive = false;
  private disposed = false;
  private _state: ConnectionState = 'connecting';
  private _reason: string | undefined;
  private readonly log: NonNullable<PrometheusConnectionOptions['log']>;

  /** Fires on every state change. */
  readonly onDidChangeState = this.stateEmitter.event;
  /** Never fires: Prometheus pushes nothing; host connections carry the data. */
  readonly onDidReceive = this.receiveEmitter.event;
  /** Fires when hosts appear or disappear, with the current list. */
  readonly onDidChangeHosts = this.hostsEmitter.event;

  constructor(opts: PrometheusConnectionOptions) {
    const url = parsePrometheusUrl(opts.url);
    this.id = prometheusConnectionId(url);
    this.name = `Prometheus ${new URL(url).host}`;
    this.api = new PrometheusApi(url, opts.token);
    this.pollMs = Math.max(1, opts.pollSeconds ?? DEFAULT_FLEET_POLL_SECONDS) * 1000;
    this.log = opts.log ?? (() => {});
    this._reason = `querying ${url}…`;
    void this.pollNow();
  }

  /** Current state. */
  get state(): ConnectionState {
    return this._state;
  }

  /** Why, for anything but live. */
  get reason(): string | undefined {
    return this._reason;
  }

  /** One connection per Rigwatch collector Prometheus scrapes. */
  hosts(): PrometheusHostConnection[] {
    return [...this.hostConns.values()];
  }

  /** Polls now (and then every poll interval); resolves when this poll is done. */
  pollNow(): Promise<void> {
    if (this.disposed) return Promise.resolve();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.polling ??= this.poll().finally(() => {
      this.polling = undefined;
      if (!this.disposed) this.timer = setTimeout(() => void this.pollNow(), this.pollMs);
    });
    return this.polling;
  }

  /** Polls again at once. */
  reconnect(): void {
    void this.pollNow();
  }

  /** The Prometheus connection answers no requests itself; its host connections do. */
  request(msg: ClientRequest): Promise<RequestReply> {
    return Promise.reject(new Error(`"${msg.type}" needs a host: pick one of the hosts under ${this.name}`));
  }

  /** Answers with an error result (see `request`). */
  send(msg: ClientMessage): void {
    this.receiveEmitter.fire({ type: 'result', id: msg.id, ok: false, error: `"${msg.type}" needs a host: pick one of the hosts under ${this.name}` });
  }

  /** A host's history from Prometheus, in the collector's reply shape. Patterns are expanded against the host's known series. */
  async history(instance: string, q: Omit<HistoryRequest, 'type'>, known: string[]): Promise<HistoryReplyMessage> {
    const to = q.to ?? Date.now();
    const from = q.since ?? q.from ?? to - DEFAULT_HISTORY_RANGE_MS;
    const points = Math.min(MAX_POINTS, Math.max(1, q.points ?? (q.since !== undefined ? Math.ceil((to - from) / this.pollMs) : DEFAULT_POINTS)));
    const names = new Set<string>();
    for (const sel of q.series) {
      if (sel.includes('*')) {
        for (const k of known) if (matchesSelector(k, sel)) names.add(k);
      } else if (sel) {
        names.add(sel);
      }
    }
    const series = names.size ? await fleetHistory(this.api, instance, [...names], from, to, points) : [];
    // `since` asks for samples strictly after it.
    if (q.since !== undefined) for (const s of series) s.points = s.points.filter((p) => p[0] > q.since!);
    return { type: 'history', id: q.id, from, to, series };
  }

  /** Stops polling and drops the host connections. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const h of this.hostConns.values()) h.dispose();
    this.hostConns.clear();
    this.setState('disconnected', undefined);
    this.stateEmitter.dispose();
    this.receiveEmitter.dispose();
    this.hostsEmitter.dispose();
  }

  private async poll(): Promise<void> {
    let fleet: FleetHost[];
    let up: Map<string, number>;
    let since: Map<string, number>;
    try {
      const [f, u, s] = await Promise.all([listFleet(this.api), this.api.query('up'), this.api.query('rigwatch_alerts_for_state')]);
      fleet = f;
      up = new Map(u.map((x) => [x.labels.instance ?? '', x.value]));
      since = new Map(s.map((x) => [`${x.labels.instance ?? ''}\u0000${x.labels.alertname ?? ''}\u0000${x.labels.series ?? ''}`, x.value * 1000]));
    } catch (e) {
      if (this.disposed) return;
      const reason = `${errorText(e)}; retrying in ${Math.round(this.pollMs / 1000)} s`;
      this.log('warn', `${this.name}: ${reason}`);
      this.setState(this.everLive ? 'reconnecting' : 'failed', reason);
      for (const h of this.hostConns.values()) h.markUnknown(`Prometheus is unreachable: ${reason}`);
      return;
    }
    if (this.disposed) return;
    this.fleet = fleet;
    this.everLive = true;
    const now = Date.now();
    let changed = false;
    const seen = new Set<string>();
    const dupNames = new Set(fleet.map((h) => h.hostname).filter((n, i, a) => a.indexOf(n) !== i));
    for (const h of fleet) {
      seen.add(h.instance);
      let conn = this.hostConns.get(h.instance);
      if (!conn) {
        const name = `${h.hostname}${dupNames.has(h.hostname) ? ` (${h.instance})` : ''} · Prometheus`;
        conn = new PrometheusHostConnection(this, h.instance, name, this.pollMs);
        this.hostConns.set(h.instance, conn);
        changed = true;
      }
      conn.update(h, now, (alertname, series) => since.get(`${h.instance}\u0000${alertname}\u0000${series}`));
    }
    for (const [instance, conn] of this.hostConns) {
      if (seen.has(instance)) continue;
      // A collector Prometheus cannot scrape drops out of rigwatch_build_info; keep it, failed, while `up` still names it.
      if (up.get(instance) === 0) {
        conn.markDown(`Prometheus cannot scrape ${instance} (up = 0)`);
        continue;
      }
      conn.dispose();
      this.hostConns.delete(instance);
      changed = true;
    }
    this.setState('live', undefined);
    if (changed) this.hostsEmitter.fire(this.hosts());
  }

  private setState(state: ConnectionState, reason: string | undefined): void {
    if (state === this._state && reason === this._reason) return;
    this._state = state;
    this._reason = reason;
    this.stateEmitter.fire({ state, reason });
  }
}

/** One Rigwatch collector as Prometheus sees it: GPU util/VRAM, firing alerts, and charts from range queries. */
export class PrometheusHostConnection implements Connection {
  readonly id: string;
  readonly kind = PROMETHEUS_HOST_KIND;
  readonly model = new CollectorModel();
  private readonly stateEmitter = new Emitter<ConnectionStateChange>();
  private readonly receiveEmitter = new Emitter<ServerMessage>();
  private _state: ConnectionState = 'connecting';
  private _reason: string | undefined;
  private seq = 0;
  private disposed = false;

  /** Fires on every state change. */
  readonly onDidChangeState = this.stateEmitter.event;
  /** Fires for the synthesised hello/sample/status/alert messages and for replies to `send`. */
  readonly onDidReceive = this.receiveEmitter.event;

  constructor(
    private readonly parent: PrometheusConnection,
    /** Prometheus `instance` label of the collector. */
    readonly instance: string,
    readonly name: string,
    private readonly intervalMs: number,
  ) {
    this.id = `${parent.id}#${instance}`;
  }

  /** Current state. */
  get state(): ConnectionState {
    return this._state;
  }

  /** Why, for anything but live. */
  get reason(): string | undefined {
    return this._reason;
  }

  /** Folds one poll's view of the host into the model and tells listeners what changed. */
  update(h: FleetHost, now: number, activeSince: (alertname: string, series: string) => number | undefined): void {
    if (this.disposed) return;
    const series: SeriesMap = {};
    for (const g of h.gpus) {
      series[`gpu.${g.index}.utilization_ratio`] = g.utilization;
      series[`gpu.${g.index}.memory_used_bytes`] = g.memoryUsed;
      series[`gpu.${g.index}.memory_total_bytes`] = g.memoryTotal;
    }
    // The dashboard lays out GPU rows from the GPU details' device list; Prometheus has indices only.
    const gpuDetails: GpuDetails = {
      kind: 'gpu',
      backend: 'nvml',
      driverVersion: null,
      cudaVersion: null,
      devices: h.gpus.map((g) => ({
        index: Number(g.index),
        name: '',
        uuid: '',
        pciBusId: '',
        computeCapability: null,
        migMode: null,
        throttleReasons: [],
        pstate: null,
        notes: ['via Prometheus: utilisation and VRAM only'],
      })),
      processes: [],
    };
    const sample: SampleMessage = { type: 'sample', t: now, series, details: h.gpus.length ? { gpu: gpuDetails } : {} };
    const gpuSource: SourceStatus = h.gpus.length
      ? { id: 'gpu', kind: 'gpu', state: 'ready', description: `${h.gpus.length} GPU${h.gpus.length > 1 ? 's' : ''} via Prometheus`, lastSuccess: now }
      : { id: 'gpu', kind: 'gpu', state: 'unavailable', reason: 'Prometheus has no GPU series for this collector' };
    const alerts: AlertInstance[] = h.firingAlerts.map((a) => {
      const since = activeSince(a.alertname, a.series) ?? now;
      const value = series[a.series];
      return {
        id: `${a.alertname}:${a.series}`,
        ruleId: a.alertname,
        series: a.series,
        state: 'firing',
        severity: a.severity === 'critical' ? 'critical' : 'warning',
        value: typeof value === 'number' ? value : null,
        // Prometheus carries the instance, not the rule's level.
        threshold: Number.NaN,
        message: `${a.alertname} on ${a.series} (${h.hostname}, via Prometheus)`,
        activeSince: since,
        firingSince: since,
        acknowledged: false,
      };
    });
    if (!this.model.hello) {
      const hello: HelloMessage = {
        type: 'hello',
        protocol: PROTOCOL_VERSION,
        host: { hostname: h.hostname, platform: 'prometheus', arch: h.instance, collectorVersion: h.version, pid: 0, startedAt: 0 },
        intervalMs: this.intervalMs,
        serverTime: now,
        sources: [gpuSource],
        alerts,
        logging: { enabled: false, error: 'CSV logging is not available through Prometheus' },
        latest: sample,
      };
      this.deliver(hello);
    } else {
      const before = this.model.sources[0];
      if (before?.state !== gpuSource.state || before.description !== gpuSource.description) this.deliver({ type: 'status', sources: [gpuSource] });
      this.deliver(sample);
      const events: AlertEvent[] = [];
      const firing = new Set(alerts.map((a) => a.id));
      for (const a of alerts)
        if (this.model.alerts.get(a.id)?.state !== 'firing') events.push({ seq: ++this.seq, t: now, transition: 'firing', alert: a, notify: false });
      for (const a of this.model.alertList()) {
        if (a.state === 'firing' && !firing.has(a.id))
          events.push({ seq: ++this.seq, t: now, transition: 'resolved', alert: { ...a, state: 'resolved', resolvedAt: now }, notify: false });
      }
      if (events.length) this.deliver({ type: 'alert', events });
    }
    this.setState(h.up ? 'live' : 'failed', h.up ? undefined : `Prometheus cannot scrape ${h.instance} (up = 0)`);
  }

  /** The target is down in Prometheus. */
  markDown(reason: string): void {
    this.setState('failed', reason);
  }

  /** Prometheus itself is unreachable: what we show may be stale. */
  markUnknown(reason: string): void {
    this.setState('reconnecting', reason);
  }

  /** History through PromQL range queries; everything else is not available through Prometheus. */
  async request(msg: ClientRequest): Promise<RequestReply> {
    return this.answer({ ...msg, id: `p${++this.seq}` } as ClientMessage);
  }

  /** Answers through `onDidReceive` (the panel's relay path). */
  send(msg: ClientMessage): void {
    void this.answer(msg).then(
      (reply) => this.deliver(reply),
      (e: unknown) => this.deliver({ type: 'result', id: msg.id, ok: false, error: errorText(e) }),
    );
  }

  /** Polls Prometheus again. */
  reconnect(): void {
    this.parent.reconnect();
  }

  /** Drops listeners (the parent owns polling). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.setState('disconnected', undefined);
    this.stateEmitter.dispose();
    this.receiveEmitter.dispose();
  }

  private async answer(msg: ClientMessage): Promise<RequestReply> {
    if (msg.type === 'history') {
      const known = Object.keys(this.model.latest?.series ?? {});
      return this.parent.history(this.instance, msg, known);
    }
    return {
      type: 'result',
      id: msg.id,
      ok: false,
      error: `"${msg.type}" is not available through Prometheus; connect to the collector on ${this.instance} directly`,
    };
  }

  private deliver(msg: ServerMessage): void {
    if (this.disposed) return;
    this.model.apply(msg);
    this.receiveEmitter.fire(msg);
  }

  private setState(state: ConnectionState, reason: string | undefined): void {
    if (this.disposed || (state === this._state && reason === this._reason)) return;
    this._state = state;
    this._reason = reason;
    this.stateEmitter.fire({ state, reason });
  }
}
