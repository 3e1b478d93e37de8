// HTTP polling, the fallback when a WebSocket cannot be held (a proxy that drops upgrades): polls
// `GET /api/current` (a hello with the latest sample) once per sample interval and turns the answers
// into the same ServerMessages the socket would have sent; history requests go to `GET /api/history`.

import { parseServerMessage } from '../protocol/guards';
import type { AlertEvent, AlertInstance, ClientMessage, HelloMessage, HistorySeries, ServerMessage } from '../protocol/messages';

/** Slowest and fastest polling cadence, in ms. */
const MIN_POLL_MS = 500;
const MAX_POLL_MS = 10_000;

/** Polls the collector over HTTP and reports ServerMessages. */
export class HttpPoller {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private last: HelloMessage | undefined;
  private seq = 0;
  private stopped = false;

  constructor(
    private readonly base: string,
    private readonly token: string | null,
    private readonly deliver: (m: ServerMessage) => void,
    private readonly failed: (reason: string) => void,
  ) {}

  /** Starts polling (the first answer is delivered as a hello). */
  start(): void {
    void this.poll();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private headers(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    let interval = 2000;
    try {
      const res = await fetch(`${this.base}/api/current`, { headers: this.headers(), cache: 'no-store' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const m = parseServerMessage(await res.json());
      if (m.type !== 'hello') throw new Error(`expected a hello from /api/current, got ${m.type}`);
      interval = m.intervalMs;
      if (!this.stopped) this.apply(m);
    } catch (e) {
      if (!this.stopped) this.failed(`polling failed: ${(e as Error).message}`);
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.poll(), Math.min(MAX_POLL_MS, Math.max(MIN_POLL_MS, interval)));
  }

  private apply(h: HelloMessage): void {
    const prev = this.last;
    this.last = h;
    if (!prev) {
      this.deliver(h);
      return;
    }
    this.deliver({ type: 'status', sources: h.sources });
    const events = alertChanges(prev.alerts, h.alerts, h.serverTime, () => ++this.seq);
    if (events.length) this.deliver({ type: 'alert', events });
    if (h.latest && (!prev.latest || h.latest.t > prev.latest.t)) this.deliver(h.latest);
  }

  /** Answers what HTTP can: history. Returns false for requests that need the socket. */
  send(m: ClientMessage): boolean {
    if (m.type !== 'history') return false;
    const q = new URLSearchParams();
    q.set('series', m.series.join(','));
    for (const k of ['from', 'to', 'points', 'since'] as const) if (m[k] !== undefined) q.set(k, String(m[k]));
    void fetch(`${this.base}/api/history?${q}`, { headers: this.headers(), cache: 'no-store' })
      .then(async (res) => {
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const a = (await res.json()) as { from: number; to: number; series: HistorySeries[] };
        if (!this.stopped) this.deliver(parseServerMessage({ type: 'history', id: m.id, from: a.from, to: a.to, series: a.series }));
      })
      .catch((e: Error) => {
        if (!this.stopped) this.deliver({ type: 'result', id: m.id, ok: false, error: `history over HTTP failed: ${e.message}` });
      });
    return true;
  }
}

/** Alert events that turn one list of active alerts into the next (polling sees states, not events). */
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
