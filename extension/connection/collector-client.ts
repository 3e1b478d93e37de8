// One client per collector: the client core (client/connection-core.ts: state machine, backoff,
// watchdog, backfill, compact stream, HTTP polling) over the `ws` package, plus request/reply matching
// and the HTTP API for requests made while the socket is not live. Free of the vscode module.

import WebSocket from 'ws';
import type { ConnectionState } from '../../protocol/bridge';
import { parseServerMessage } from '../../protocol/guards';
import type { ClientMessage, HistoryReplyMessage, ResultMessage, ServerMessage } from '../../protocol/messages';
import type { BackoffOptions } from '../../client/backoff';
import { withCompact } from '../../client/compact-stream';
import { ClientCore, type ClientTransport, type SocketEvents, type SocketLink } from '../../client/connection-core';
import { BACKFILL_ID_PREFIX, historyQuery } from '../../client/history-query';
import { CollectorModel } from './collector-model';
import type { ClientRequest, Connection, ConnectionStateChange, RequestReply } from './connection';
import { Emitter } from './events';

/** Largest message accepted from a collector, in bytes (a hello with a big snapshot stays well below). */
export const MAX_SERVER_MESSAGE_BYTES = 32 * 1024 * 1024;
/** Time allowed for the WebSocket handshake, in ms. */
const HANDSHAKE_TIMEOUT_MS = 5_000;
/** Time allowed for a request's reply, in ms. */
const REQUEST_TIMEOUT_MS = 20_000;

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
  private readonly core: ClientCore;
  private readonly stateEmitter = new Emitter<ConnectionStateChange>();
  private readonly receiveEmitter = new Emitter<ServerMessage>();
  private readonly pending = new Map<string, Pending>();
  private nextId = 0;
  private disposed = false;
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
    this.log = opts.log ?? (() => {});
    const transport: ClientTransport = {
      openSocket: (events, compact) => this.openSocket(events, compact),
      httpAlive: async () => {
        const res = await this.http('/healthz', { timeoutMs: 3_000 });
        res.body?.cancel().catch(() => {});
        return res.ok;
      },
      fetchCurrent: async () => {
        const res = await this.http('/api/current', { timeoutMs: 5_000 });
        if (!res.ok) throw new Error(`GET /api/current answered HTTP ${res.status}`);
        return (await res.json()) as unknown;
      },
    };
    this.core = new ClientCore(
      transport,
      {
        message: (m) => this.handle(m),
        state: (state, reason) => this.stateEmitter.fire({ state, reason }),
        lost: (reason) => this.failPending(reason),
        log: (level, message) => this.log(level, message),
      },
      { name: this.name, backoff: opts.backoff, compact: opts.compact ?? false, backfill: true },
    );
    this.core.start();
  }

  /** Current state. */
  get state(): ConnectionState {
    return this.core.state;
  }

  /** Reason for the current state. */
  get reason(): string | undefined {
    return this.core.reason;
  }

  /** The collector's base URL (no token). */
  get url(): string {
    return this.base.origin;
  }

  /** Reconnects now, forgetting any fatal error and backoff. */
  reconnect(): void {
    this.core.reconnect();
  }

  /** Sends a request and waits for its reply; uses HTTP when the socket is not live. */
  request(msg: ClientRequest): Promise<RequestReply> {
    if (this.disposed) return Promise.reject(new RequestError(`${this.name} is disconnected`));
    const id = `x${++this.nextId}`;
    const full = { ...msg, id } as ClientMessage;
    if (this.core.socketLive) {
      return new Promise<RequestReply>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new RequestError(`${this.name} did not answer "${msg.type}" within ${REQUEST_TIMEOUT_MS / 1000} s`));
        }, REQUEST_TIMEOUT_MS);
        this.pending.set(id, { resolve, reject, timer });
        this.core.send(full);
      });
    }
    return this.requestOverHttp(full);
  }

  /** Sends a message whose reply is delivered through `onDidReceive`. */
  send(msg: ClientMessage): void {
    if (this.core.send(msg)) return;
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
    this.failPending(`${this.name} was disconnected`);
    this.core.dispose();
    this.stateEmitter.dispose();
    this.receiveEmitter.dispose();
  }

  // ---- the transport: a `ws` socket ----

  private wsUrl(compact: boolean): string {
    const u = new URL('/ws', this.base);
    u.protocol = this.base.protocol === 'https:' ? 'wss:' : 'ws:';
    return (compact ? withCompact(u) : u).toString();
  }

  private openSocket(events: SocketEvents, compact: boolean): SocketLink {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const ws = new WebSocket(this.wsUrl(compact), {
      headers,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      maxPayload: MAX_SERVER_MESSAGE_BYTES,
      perMessageDeflate: false,
    });
    let failed = false;
    const fail = (reason: string, fatal = false): void => {
      failed = true;
      events.failed(reason, fatal);
    };
    const where = this.base.host;
    ws.on('unexpected-response', (_req, res) => {
      failed = true;
      const code = res.statusCode ?? 0;
      res.resume();
      if (code === 401 || code === 403) {
        fail(
          this.token
            ? `the collector at ${where} rejected the token (HTTP ${code})`
            : `the collector at ${where} requires a token (HTTP ${code}); run "Rigwatch: Connect to Collector…" to set it`,
          true,
        );
      } else if (code === 404) {
        fail(`no Rigwatch collector at ${this.base.origin} (HTTP 404 for /ws)`, true);
      } else {
        fail(`the collector at ${where} refused the WebSocket (HTTP ${code})`);
      }
      ws.terminate();
    });
    let opened = false;
    ws.on('error', (err: Error & { code?: string }) => {
      if (failed) return;
      failed = true;
      if (!opened && err.code !== 'ECONNREFUSED' && err.code !== 'ENOTFOUND' && err.code !== 'EAI_AGAIN') {
        // The server is there but the handshake broke (a refusal can arrive as a reset): ask over HTTP why.
        void this.diagnose(describeSocketError(err, where)).then(([reason, fatal]) => events.failed(reason, fatal));
        return;
      }
      fail(describeSocketError(err, where));
    });
    ws.on('open', () => {
      opened = true;
      events.opened();
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return this.log('warn', `${this.name}: ignored a binary message`);
      events.text(data.toString());
    });
    ws.on('close', (code, reasonBuf) => {
      if (failed) return;
      const reason = reasonBuf.toString();
      fail(
        reason
          ? `connection closed by the collector: ${reason} (code ${code})`
          : opened
            ? `connection to ${where} lost`
            : `the collector at ${where} closed the connection (code ${code})`,
      );
    });
    return {
      send: (text) => ws.send(text),
      close: () => {
        failed = true;
        ws.removeAllListeners();
        ws.on('error', () => {});
        ws.terminate();
      },
    };
  }

  private handle(msg: ServerMessage): void {
    if ((msg.type === 'result' || msg.type === 'history') && this.pending.has(msg.id)) {
      const p = this.pending.get(msg.id)!;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      p.resolve(msg);
      if (!msg.id.startsWith(BACKFILL_ID_PREFIX)) return;
    }
    this.model.apply(msg);
    this.receiveEmitter.fire(msg);
  }

  /** Explains a broken handshake with one HTTP request: a 401/403 there means the token is wrong. */
  private async diagnose(fallback: string): Promise<[string, boolean]> {
    try {
      const res = await this.http('/api/current', { timeoutMs: 3_000 });
      await res.body?.cancel().catch(() => {});
      if (res.status === 401 || res.status === 403) {
        return [
          this.token
            ? `the collector at ${this.base.host} rejected the token (HTTP ${res.status})`
            : `the collector at ${this.base.host} requires a token (HTTP ${res.status}); run "Rigwatch: Connect to Collector…" to set it`,
          true,
        ];
      }
      if (res.status === 404) return [`no Rigwatch collector at ${this.base.origin} (HTTP 404 for /api/current)`, true];
    } catch {
      /* keep the socket's own reason */
    }
    return [fallback, false];
  }

  // ---- requests over HTTP ----

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
    switch (msg.type) {
      case 'history': {
        const body = (await json(await this.http(`/api/history?${historyQuery(msg)}`))) as Record<string, unknown>;
        const reply = parseServerMessage({ from: 0, to: 0, series: [], ...body, type: 'history', id: msg.id });
        return reply as HistoryReplyMessage;
      }
      case 'export': {
        const res = await this.http(`/api/export.${msg.format}?${historyQuery(msg)}`);
        if (!res.ok) return fail(`HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
        return { type: 'result', id: msg.id, ok: true, data: await res.text() };
      }
      case 'logging':
        return { type: 'result', id: msg.id, ok: true, data: await json(await this.http('/api/logging', { body: { enabled: msg.enabled } })) };
      case 'ack':
        return {
          type: 'result',
          id: msg.id,
          ok: true,
          data: await json(await this.http(`/api/alerts/${encodeURIComponent(msg.alertId)}/ack`, { method: 'POST', body: {} })),
        };
      case 'mute':
        return {
          type: 'result',
          id: msg.id,
          ok: true,
          data: await json(await this.http('/api/alerts/mute', { body: { target: msg.target, durationMs: msg.durationMs } })),
        };
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

  private failPending(reason: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new RequestError(reason));
      this.pending.delete(id);
    }
  }
}
