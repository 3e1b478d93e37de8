// What a client knows about one collector, built only from ServerMessages: hello, latest sample,
// source statuses, alert instances (active and recently resolved) and logging state. Pure.

import type { AlertInstance, HelloMessage, LoggingStatus, SampleMessage, ServerMessage, SourceStatus } from '../../protocol/messages';

/** How long a resolved alert stays in the "recent" list, in ms. */
export const RESOLVED_KEEP_MS = 60 * 60_000;
/** At most this many resolved alerts are kept. */
export const RESOLVED_KEEP_COUNT = 50;

/** Which part of the model a message changed. */
export type ModelChange = 'hello' | 'sample' | 'status' | 'alerts' | 'logging' | 'none';

/** The state of one collector as seen by a client. */
export class CollectorModel {
  hello: HelloMessage | undefined;
  latest: SampleMessage | undefined;
  sources: SourceStatus[] = [];
  logging: LoggingStatus | undefined;
  /** Alert instances by id: pending/firing ones, plus resolved ones for a while. */
  readonly alerts = new Map<string, AlertInstance>();

  /** Epoch ms of the newest sample seen (the `since` for a backfill after reconnecting). */
  get lastSampleTime(): number | undefined {
    return this.latest?.t;
  }

  /** Folds one message into the model and says what changed. */
  apply(msg: ServerMessage, now = Date.now()): ModelChange {
    switch (msg.type) {
      case 'hello': {
        this.hello = msg;
        this.sources = msg.sources;
        this.logging = msg.logging;
        // hello carries the currently active alerts; anything we had as active that is absent resolved while we were away.
        const active = new Set(msg.alerts.map((a) => a.id));
        for (const [id, a] of this.alerts) {
          if (a.state === 'resolved' || active.has(id)) continue;
          // A pending alert that went away never fired: it is not "resolved", just gone.
          if (a.state === 'pending') this.alerts.delete(id);
          else this.alerts.set(id, { ...a, state: 'resolved', resolvedAt: msg.serverTime });
        }
        for (const a of msg.alerts) this.alerts.set(a.id, a);
        if (msg.latest && (!this.latest || msg.latest.t >= this.latest.t)) this.latest = msg.latest;
        this.prune(now);
        return 'hello';
      }
      case 'sample':
        if (this.latest && msg.t < this.latest.t) return 'none';
        this.latest = msg;
        return 'sample';
      case 'status': {
        const byId = new Map(this.sources.map((s) => [s.id, s]));
        for (const s of msg.sources) byId.set(s.id, s);
        this.sources = [...byId.values()];
        return 'status';
      }
      case 'alert':
        for (const e of msg.events) {
          // Pending, then cleared without firing: not news, not listed.
          if (e.transition === 'resolved' && e.alert.firingSince === undefined) this.alerts.delete(e.alert.id);
          else this.alerts.set(e.alert.id, e.alert);
        }
        this.prune(now);
        return 'alerts';
      case 'logging':
        this.logging = msg.logging;
        return 'logging';
      case 'history':
      case 'result':
      case 'error':
        return 'none';
    }
  }

  /** Every alert instance, unsorted. */
  alertList(): AlertInstance[] {
    return [...this.alerts.values()];
  }

  /** A hello describing the current state, for a late consumer (a webview opened after connecting). */
  currentHello(): HelloMessage | undefined {
    if (!this.hello) return undefined;
    return {
      ...this.hello,
      sources: this.sources,
      alerts: this.alertList().filter((a) => a.state !== 'resolved'),
      logging: this.logging ?? this.hello.logging,
      latest: this.latest,
    };
  }

  private prune(now: number): void {
    const resolved = this.alertList()
      .filter((a) => a.state === 'resolved')
      .sort((a, b) => (b.resolvedAt ?? 0) - (a.resolvedAt ?? 0));
    resolved.forEach((a, i) => {
      if (i >= RESOLVED_KEEP_COUNT || now - (a.resolvedAt ?? now) > RESOLVED_KEEP_MS) this.alerts.delete(a.id);
    });
  }
}
