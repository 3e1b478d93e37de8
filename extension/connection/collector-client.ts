// One client per collector: a WebSocket (ws package) with protocol guards, a watchdog for dead peers,
// jittered exponential backoff, backfill of the gap (`since`) after a reconnect, and an HTTP polling
// fallback when the socket cannot be held but HTTP works. Free of the vscode module.

import WebSocket from 'ws';
import type { ConnectionState } from '../../protocol/bridge';
import { decodeServerMessage, parseServerMessage } from '../../protocol/guards';
import type {
  ClientMessage,
  HistoryReplyMessage,
  ResultMessage,
  SampleMessage,
  ServerMessage,
} from '../../protocol/messages';
import { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';
import { CompactStream, withCompact } from './compact-stream';
import { CollectorModel } from './collector-model';
import type { ClientRequest, Connection, ConnectionStateChange, RequestReply } from './connection';
import { Emitter } from './events';

/** Largest message accepted from a collector, in bytes (a hello with a big snapshot stays well below). */
export const MAX_SERVER_MESSAGE_BYTES = 32 * 1024 * 1024;
/** Time allowed for the WebSocket handshake, in ms. */
const HANDSHAKE_TIMEOUT_MS = 5_000;
/** Time allowed for a request's reply, in ms. */
const REQUEST_TIMEOUT_MS = 20_000;
/** Minimum silence before the peer is considered dead, in ms (samples normally arrive every interval). */
const MIN_WATCHDOG_MS = 10_000;
/** Consecutive socket failures (while HTTP answers) before switching to HTTP polling. */
const POLL_AFTER_FAILURES = 3;

/** Where and how to reach a collector. */
export interface CollectorClientOptions {
  id: string;
  name: string;
  kind: string;
  /** Base URL, `http(s)://host:port` (a trailing path or `#token=` fragment is ignored). */
  url: string;
  token?: string;
  backoff?: BackoffOptions;
  /** Ask for the compact sample stream (protocol/compact.ts), for thin links such as an SSH tunnel. */
  compact?: boolean;
  /** Log sink for diagnostics (never receives the token). */
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** Error raised for a failed request. */
export class RequestError extends Error {}

interface Pending {
  resolve(r: RequestReply): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

/** Parses a user-entered collector URL; throws a readable error when it is not usable. */
export function parseCollectorUrl(raw: string): { base: URL; token?: string } {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new Error(`"${raw}" is not a URL (expected e.g. http://127.0.0.1:9123)`);
  }
  if (u.protocol === 'ws:') u.protocol = 'http:';
  else if (u.protocol === 'wss:') u.protocol = 'https:';
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`"${u.protocol}" is not supported in a collector URL (use http:// or https://)`);
  const m = /(?:^#|&)token=([^&]+)/.exec(u.hash);
  const token = m ? decodeURIComponent(m[1]) : undefined;
  const base = new URL(u.origin);
  return { base, token };
}

function describeSocketError(err: Error & { code?: string }, where: string): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return `connection refused at ${where} (is the collector running?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host not found: ${where}`;
    case 'ETIMEDOUT':
      return `timed out connecting to ${where}`;
    case 'ECONNRESET':
      return `connection reset by ${where}`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where} is unreachable`;
    default:
      return `${err.message.replace(/token=[^&\s]+/g, 'token=…')} (${where})`;
  }
}

/** A WebSocket client of one collector. */
export class CollectorClient implements Connection {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly model = new CollectorModel();
  private readonly base: URL;
  private readonly token: string | undefined;
  private readonly backoff: Backoff;
  private readonly compact: boolean;
  private readonly stateEmitter = new Emitter<ConnectionStateChange>();
  private readonly receiveEmitter = new Emitter<ServerMessage>();
  private readonly pending = new Map<string, Pending>();
  private ws: WebSocket | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private nextId = 0;
  private everLive = false;
  private socketFailures = 0;
  private fatal = false;
  private disposed = false;
  private _state: ConnectionState = 'connecting';
  private _reason: string | undefined;
  private lastFailure: string | undefined;
  private readonly log: NonNullable<CollectorClientOptions['log']>;

  /** Fires on every state change. */
  readonly onDidChangeState = this.stateEmitter.event;
  /** Fires for every decoded server message. */
  readonly onDidReceive = this.receiveEmitter.event;

  constructor(opts: CollectorClientOptions) {
    this.id = opts.id;
    this.name = opts.name;
    this.kind = opts.kind;
    const parsed = parseCollectorUrl(opts.url);
    this.base = parsed.base;
    this.token = opts.token ?? parsed.token;
    this.backoff = new Backoff(opts.backoff ?? DEFAULT_BACKOFF);
    this.compact = opts.compact ?? false;
    this.log = opts.log ?? (() => {});
    this.open();
  }

  /** Current state. */
  get state(): ConnectionState {
    return this._state;
  }

  /** Reason for the current state. */
  get reason(): string | undefined {
    return this._reason;
  }

  /** The collector's base URL (no token). */
  get url(): string {
    return this.base.origin;
  }

  /** Reconnects now, forgetting any fatal error and backoff. */
  reconnect(): void {
    if (this.disposed) return;
    this.fatal = false;
    this.backoff.reset();
    this.socketFailures = 0;
    this.closeSocket();
    this.clearTimer('retryTimer');
    this.setState(this.everLive ? 'reconnecting' : 'connecting', undefined);
    this.open();
  }

  /** Sends a request and waits for its reply; uses HTTP when the socket is not live. */
  request(msg: ClientRequest): Promise<RequestReply> {
    if (this.disposed) return Promise.reject(new RequestError(`${this.name} is disconnected`));
    const id = `x${++this.nextId}`;
    const full = { ...msg, id } as ClientMessage;
    if (this.ws?.readyState === WebSocket.OPEN && this._state === 'live') {
      return new Promise<RequestReply>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new RequestError(`${this.name} did not answer "${msg.type}" within ${REQUEST_TIMEOUT_MS / 1000} s`));
        }, REQUEST_TIMEOUT_MS);
        this.pending.set(id, { resolve, reject, timer });
        this.ws!.send(JSON.stringify(full));
      });
    }
    return this.requestOverHttp(full);
  }

  /** Sends a message whose reply is delivered through `onDidReceive`. */
  send(msg: ClientMessage): void {
    if (this.ws?.readyState === WebSocket.OPEN && this._state === 'live') {
      this.ws.send(JSON.stringify(msg));
      return;
    }
    // Not live: answer over HTTP and deliver the reply as if it came from the socket.
    this.requestOverHttp(msg).then(
      (reply) => this.receiveEmitter.fire(reply),
      (err: Error) => this.receiveEmitter.fire({ type: 'result', id: msg.id, ok: false, error: err.message }),
    );
  }

  /** GET (or POST with a JSON body) on the collector's HTTP API, with the token. */
  async http(path: string, init?: { method?: string; body?: unknown; timeoutMs?: number }): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (init?.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(new URL(path, this.base), {
      method: init?.method ?? (init?.body !== undefined ? 'POST' : 'GET'),
      headers,
      body: init?.body !== undefined ? JSON.stringify(init.body) : undefined,
      signal: AbortSignal.timeout(init?.timeoutMs ?? REQUEST_TIMEOUT_MS),
    });
    return res;
  }

  /** Closes the socket and every timer; pending requests fail. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.closeSocket();
    this.clearTimer('retryTimer');
    this.clearTimer('pollTimer');
    this.failPending(`${this.name} was disconnected`);
    this.setState('disconnected', undefined);
    this.stateEmitter.dispose();
    this.receiveEmitter.dispose();
  }

  // ---- socket lifecycle ----

  private wsUrl(): string {
    const u = new URL('/ws', this.base);
    u.protocol = this.base.protocol === 'https:' ? 'wss:' : 'ws:';
    return (this.compact ? withCompact(u) : u).toString();
  }

  private open(): void {
    if (this.disposed || this.fatal) return;
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const ws = new WebSocket(this.wsUrl(), {
      headers,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      maxPayload: MAX_SERVER_MESSAGE_BYTES,
      perMessageDeflate: false,
    });
    this.ws = ws;
    // Compact mode: one decoder per socket (its key dictionary starts with each hello).
    const stream = this.compact ? new CompactStream() : undefined;
    let failed = false;
    const where = this.base.host;
    ws.on('unexpected-response', (_req, res) => {
      failed = true;
      const code = res.statusCode ?? 0;
      res.resume();
      if (code === 401 || code === 403) {
        this.fatal = true;
        this.onFailure(ws, this.token ? `the collector at ${where} rejected the token (HTTP ${code})` : `the collector at ${where} requires a token (HTTP ${code}); run "Rigwatch: Connect to Collector…" to set it`);
      } else if (code === 404) {
        this.fatal = true;
        this.onFailure(ws, `no Rigwatch collector at ${this.base.origin} (HTTP 404 for /ws)`);
      } else {
        this.onFailure(ws, `the collector at ${where} refused the WebSocket (HTTP ${code})`);
      }
      ws.terminate();
    });
    let opened = false;
    ws.on('error', (err: Error & { code?: string }) => {
      if (failed) return;
      failed = true;
      if (!opened && err.code !== 'ECONNREFUSED' && err.code !== 'ENOTFOUND' && err.code !== 'EAI_AGAIN') {
        // The server is there but the handshake broke (a refusal can arrive as a reset): ask over HTTP why.
        void this.diagnose(ws, describeSocketError(err, where));
        return;
      }
      this.onFailure(ws, describeSocketError(err, where));
    });
    ws.on('open', () => {
      opened = true;
      this.armWatchdog();
    });
    ws.on('message', (data, isBinary) => {
      if (ws !== this.ws) return;
      this.armWatchdog();
      if (isBinary) return this.log('warn', `${this.name}: ignored a binary message`);
      let msg: ServerMessage | undefined;
      try {
        msg = stream ? stream.decode(data.toString()) : decodeServerMessage(data.toString());
        if (!msg) return;
      } catch (err) {
        // A malformed message is reported and skipped; the connection keeps serving.
        this.log('warn', `${this.name}: ${(err as Error).message}`);
        return;
      }
      this.handle(msg);
    });
    ws.on('close', (code, reasonBuf) => {
      if (ws !== this.ws || failed) return;
      const reason = reasonBuf.toString();
      const wasLive = this._state === 'live';
      this.onFailure(ws, reason ? `connection closed by the collector: ${reason} (code ${code})` : wasLive ? `connection to ${where} lost` : `the collector at ${where} closed the connection (code ${code})`);
    });
  }

  private handle(msg: ServerMessage): void {
    const reconnected = msg.type === 'hello' && this.everLive;
    const since = this.model.lastSampleTime;
    if (msg.type === 'hello') {
      this.socketFailures = 0;
      this.backoff.reset();
      this.clearTimer('pollTimer');
    }
    if ((msg.type === 'result' || msg.type === 'history') && this.pending.has(msg.id)) {
      const p = this.pending.get(msg.id)!;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      p.resolve(msg);
      if (!msg.id.startsWith('backfill')) return;
    }
    this.model.apply(msg);
    if (msg.type === 'hello') {
      this.everLive = true;
      this.setState('live', undefined);
      if (reconnected && since !== undefined) this.backfill(since);
    }
    this.receiveEmitter.fire(msg);
  }

  /** Asks for the raw samples missed while away; the reply is delivered to listeners like any message. */
  private backfill(since: number): void {
    const id = `backfill${++this.nextId}`;
    this.log('info', `${this.name}: reconnected; backfilling samples after ${new Date(since).toISOString()}`);
    this.ws?.send(JSON.stringify({ type: 'history', id, series: ['*'], since } satisfies ClientMessage));
  }

  private onFailure(ws: WebSocket, reason: string): void {
    if (ws !== this.ws || this.disposed) return;
    this.ws = undefined;
    this.clearTimer('watchdog');
    this.failPending(reason);
    this.socketFailures++;
    this.lastFailure = reason;
    if (this.fatal) {
      this.log('error', `${this.name}: ${reason}`);
      this.clearTimer('pollTimer');
      this.setState('failed', reason);
      return;
    }
    const delay = this.backoff.next();
    const retry = `retrying in ${Math.max(1, Math.round(delay / 1000))} s`;
    this.log('warn', `${this.name}: ${reason}; ${retry}`);
    if (this._state !== 'polling') this.setState(this.everLive ? 'reconnecting' : 'failed', `${reason}; ${retry}`);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.open();
    }, delay);
    if (this.socketFailures >= POLL_AFTER_FAILURES && !this.pollTimer) void this.maybePoll();
  }

  /** Explains a broken handshake with one HTTP request: a 401/403 there means the token is wrong. */
  private async diagnose(ws: WebSocket, fallback: string): Promise<void> {
    let reason = fallback;
    try {
      const res = await this.http('/api/current', { timeoutMs: 3_000 });
      await res.body?.cancel().catch(() => {});
      if (res.status === 401 || res.status === 403) {
        this.fatal = true;
        reason = this.token ? `the collector at ${this.base.host} rejected the token (HTTP ${res.status})` : `the collector at ${this.base.host} requires a token (HTTP ${res.status}); run "Rigwatch: Connect to Collector…" to set it`;
      } else if (res.status === 404) {
        this.fatal = true;
        reason = `no Rigwatch collector at ${this.base.origin} (HTTP 404 for /api/current)`;
      }
    } catch {
      /* keep the socket's own reason */
    }
    this.onFailure(ws, reason);
  }

  // ---- HTTP polling fallback ----

  private async maybePoll(): Promise<void> {
    try {
      const res = await this.http('/healthz', { timeoutMs: 3_000 });
      res.body?.cancel().catch(() => {});
      if (!res.ok || this.disposed || this._state === 'live') return;
    } catch {
      return; // HTTP is down too: nothing to poll; the socket retries continue.
    }
    this.log('warn', `${this.name}: WebSocket keeps failing (${this.lastFailure ?? 'unknown'}) but HTTP answers; polling /api/current`);
    this.setState('polling', `WebSocket unavailable (${this.lastFailure ?? 'unknown'}); polling over HTTP`);
    const tick = async (): Promise<void> => {
      if (this.disposed || this._state !== 'polling') return;
      try {
        await this.pollOnce();
      } catch (err) {
        this.log('warn', `${this.name}: polling failed: ${(err as Error).message}`);
      }
      if (this._state === 'polling' && !this.disposed) this.pollTimer = setTimeout(() => void tick(), this.model.hello?.intervalMs ?? 1000);
    };
    await tick();
  }

  private async pollOnce(): Promise<void> {
    const res = await this.http('/api/current', { timeoutMs: 5_000 });
    if (!res.ok) throw new Error(`GET /api/current answered HTTP ${res.status}`);
    const body: unknown = await res.json();
    for (const msg of currentToMessages(body)) {
      this.model.apply(msg);
      this.receiveEmitter.fire(msg);
    }
  }

  private async requestOverHttp(msg: ClientMessage): Promise<RequestReply> {
    const fail = (error: string): ResultMessage => ({ type: 'result', id: msg.id, ok: false, error });
    const json = async (res: Response): Promise<unknown> => {
      const text = await res.text();
      if (!res.ok) {
        let err = text;
        try {
          const o = JSON.parse(text) as { error?: unknown };
          if (typeof o.error === 'string') err = o.error;
        } catch {
          /* plain text error */
        }
        throw new RequestError(`HTTP ${res.status}: ${err.slice(0, 300)}`);
      }
      return text ? JSON.parse(text) : {};
    };
    const q = (o: { series: string[]; from?: number; to?: number; points?: number; since?: number }): string => {
      const p = new URLSearchParams({ series: o.series.join(',') });
      for (const k of ['from', 'to', 'points', 'since'] as const) if (o[k] !== undefined) p.set(k, String(o[k]));
      return p.toString();
    };
    switch (msg.type) {
      case 'history': {
        const body = (await json(await this.http(`/api/history?${q(msg)}`))) as Record<string, unknown>;
        const reply = parseServerMessage({ from: 0, to: 0, series: [], ...body, type: 'history', id: msg.id });
        return reply as HistoryReplyMessage;
      }
      case 'export': {
        const res = await this.http(`/api/export.${msg.format}?${q(msg)}`);
        if (!res.ok) return fail(`HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
        return { type: 'result', id: msg.id, ok: true, data: await res.text() };
      }
      case 'logging':
        return { type: 'result', id: msg.id, ok: true, data: await json(await this.http('/api/logging', { body: { enabled: msg.enabled } })) };
      case 'ack':
        return { type: 'result', id: msg.id, ok: true, data: await json(await this.http(`/api/alerts/${encodeURIComponent(msg.alertId)}/ack`, { method: 'POST', body: {} })) };
      case 'mute':
        return { type: 'result', id: msg.id, ok: true, data: await json(await this.http('/api/alerts/mute', { body: { target: msg.target, durationMs: msg.durationMs } })) };
      case 'action': {
        if (msg.source === 'gpu' && msg.action === 'report') {
          const res = await this.http(`/api/gpu/${encodeURIComponent(msg.args.index ?? '0')}/report`);
          if (!res.ok) return fail(`HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
          return { type: 'result', id: msg.id, ok: true, data: await res.text() };
        }
        return fail(`${this.name} is not connected; "${msg.action}" needs a live connection`);
      }
      case 'alerts': {
        const body = (await json(await this.http(`/api/alerts?limit=${msg.limit ?? 100}`))) as { history?: unknown };
        return { type: 'result', id: msg.id, ok: true, data: body.history ?? [] };
      }
    }
  }

  // ---- helpers ----

  private armWatchdog(): void {
    this.clearTimer('watchdog');
    const ms = Math.max(MIN_WATCHDOG_MS, 3 * (this.model.hello?.intervalMs ?? 1000));
    this.watchdog = setTimeout(() => {
      const ws = this.ws;
      if (!ws) return;
      this.log('warn', `${this.name}: no message for ${ms / 1000} s; reconnecting`);
      this.onFailure(ws, `no data from the collector for ${ms / 1000} s`);
      ws.terminate();
    }, ms);
  }

  private closeSocket(): void {
    const ws = this.ws;
    this.ws = undefined;
    this.clearTimer('watchdog');
    if (ws) {
      ws.removeAllListeners();
      ws.on('error', () => {});
      ws.terminate();
    }
  }

  private failPending(reason: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new RequestError(reason));
      this.pending.delete(id);
    }
  }

  private clearTimer(k: 'retryTimer' | 'watchdog' | 'pollTimer'): void {
    const t = this[k];
    if (t) clearTimeout(t);
    this[k] = undefined;
  }

  private setState(state: ConnectionState, reason: string | undefined): void {
    if (state === this._state && reason === this._reason) return;
    this._state = state;
    this._reason = reason;
    this.stateEmitter.fire({ state, reason });
  }
}

/** Turns a `/api/current` answer into messages: accepts a sample, a hello, or `{sample|latest, sources, alerts}`. */
export function currentToMessages(body: unknown): ServerMessage[] {
  if (typeof body !== 'object' || body === null) throw new Error('GET /api/current did not return an object');
  const o = body as Record<string, unknown>;
  if (typeof o.type === 'string') return [parseServerMessage(o)];
  const out: ServerMessage[] = [];
  const sample = (o.sample ?? o.latest) as unknown;
  if (sample && typeof sample === 'object') out.push(parseServerMessage({ type: 'sample', ...(sample as object) }) as SampleMessage);
  if (Array.isArray(o.sources)) out.push(parseServerMessage({ type: 'status', sources: o.sources }));
  return out;
}
