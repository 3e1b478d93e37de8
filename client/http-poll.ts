// HTTP polling translation: successive answers of `GET /api/current` (a hello with the latest sample)
// become the messages the socket would have sent — the first a hello, then status, alert events (polling
// sees states, not transitions) and each newer sample.

import { parseServerMessage } from '../protocol/guards';
import type { AlertEvent, AlertInstance, HelloMessage, ServerMessage } from '../protocol/messages';

/** Fastest and slowest polling cadence, in ms (the collector's interval, clamped). */
export const POLL_MIN_MS = 500;
/** Slowest polling cadence, in ms. */
export const POLL_MAX_MS = 10_000;

/** Polling cadence for a collector interval, in ms. */
export function pollDelay(intervalMs: number | undefined): number {
  return Math.min(POLL_MAX_MS, Math.max(POLL_MIN_MS, intervalMs ?? 1000));
}

/** Alert events that turn one list of active alerts into the next. */
export function alertChanges(before: AlertInstance[], after: AlertInstance[], t: number, seq: () => number): AlertEvent[] {
  const out: AlertEvent[] = [];
  const was = new Map(before.map((a) => [a.id, a]));
  for (const a of after) {
    const p = was.get(a.id);
    was.delete(a.id);
    if (!p || p.state !== a.state || p.severity !== a.severity || p.acknowledged !== a.acknowledged) {
      out.push({ seq: seq(), t, transition: a.state === 'pending' ? 'pending' : 'firing', alert: a, notify: false });
    }
  }
  for (const p of was.values()) {
    out.push({ seq: seq(), t, transition: 'resolved', alert: { ...p, state: 'resolved', resolvedAt: t }, notify: false });
  }
  return out;
}

/** Turns `/api/current` answers into ServerMessages; one instance per polling run. */
export class PollTranslator {
  private last: HelloMessage | undefined;
  private seq = 0;

  /** The collector's interval from the last answer, in ms. */
  get intervalMs(): number | undefined {
    return this.last?.intervalMs;
  }

  /** Messages for one answer; throws a readable error for a body that is not a collector's. */
  translate(body: unknown): ServerMessage[] {
    if (typeof body !== 'object' || body === null) throw new Error('GET /api/current did not return an object');
    const m = parseServerMessage(body);
    if (m.type !== 'hello') return [m];
    const prev = this.last;
    this.last = m;
    if (!prev) return [m];
    const out: ServerMessage[] = [{ type: 'status', sources: m.sources }];
    const events = alertChanges(prev.alerts, m.alerts, m.serverTime, () => ++this.seq);
    if (events.length) out.push({ type: 'alert', events });
    if (m.latest && (!prev.latest || m.latest.t > prev.latest.t)) out.push(m.latest);
    return out;
  }
}
