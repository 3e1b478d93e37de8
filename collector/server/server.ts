// One port: the dashboard (`/`), the HTTP API (`/api/*`, `/healthz`, `/metrics`) and the WebSocket (`/ws`).
// Each tick's message is serialised once and the same buffer is sent to every client.
// Everything sent is on a budget (limits.ts): history and export replies are produced in chunks, each
// handed to the socket only after the previous one drained; a client over its budget, or holding most
// when all together are over theirs, is closed with a reason. Ticks never wait for a client.

import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, WebSocket } from 'ws';
import {
  CLOSE_OVER_BUDGET,
  CLOSE_POLICY_VIOLATION,
  CLOSE_SLOW_CLIENT,
  CLOSE_TOO_MANY_REQUESTS,
  MAX_CLIENT_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  ProtocolError,
  assertNever,
  decodeClientMessage,
  parseHistoryQuery,
  type AlertEvent,
  type ClientMessage,
  type ExportRequest,
  type HelloMessage,
  type HistoryRequest,
  type HistoryQuery,
  type HostInfo,
  type KeysMessage,
  CompactEncoder,
  type ServerMessage,
  type SourceStatus,
  matchesSelector,
} from '../../protocol';
import { ActionNotFoundError, type Collector } from '../collector';
import type { AlertEngine, ColumnSeries, CsvLogger, HistoryStore } from '../contracts';
import { plainLogText, type Logger } from '../log';
import { checkRequest, type AccessPolicy } from './auth';
import { renderMetrics } from './metrics';
import { exportCsvColumnChunks, exportJsonSeriesChunks } from '../export';
import { columnsToPoints } from '../history';
import { DEFAULT_LIMITS, type ServerLimits } from './limits';
import { dashboardHtml } from '../../webview/html';

/** Heartbeat period: a client that misses a pong for this long is terminated, in ms. */
export const HEARTBEAT_MS = 15_000;
/** A client whose unsent data exceeds this is dropped (slow consumer), in bytes (default of limits.clientQueuedBytes). */
export const MAX_BUFFERED_BYTES = DEFAULT_LIMITS.clientQueuedBytes;
/** Largest HTTP request body accepted, in bytes. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Replies are handed to the socket in pieces of about this size, each after the previous one drained, in bytes. */
export const REPLY_CHUNK_BYTES = 64 * 1024;
/** A dismissed WebSocket client gets this long to read its close frame before the socket is destroyed, in ms. */
export const CLOSE_GRACE_MS = 2000;
/** Exports that may wait for their turn (limits.concurrentExports) before more are refused as busy. */
export const MAX_WAITING_EXPORTS = 32;
/** A reply being produced yields to the event loop after this much CPU time, in ms. */
const PUMP_SLICE_MS = 10;
/** Longest time an HTTP request may take to arrive in full, in ms. */
const REQUEST_TIMEOUT_MS = 60_000;

/** What the server needs from the rest of the collector. */
export interface ServerDeps {
  collector: Collector;
  history: HistoryStore;
  alerts?: AlertEngine;
  csv?: CsvLogger;
  hostInfo: HostInfo;
  policy: AccessPolicy;
  log: Logger;
  /** Dashboard assets (embedded in the bundle). */
  assets: { js: string; css: string };
  /** Memory and connection budget; DEFAULT_LIMITS where absent. */
  limits?: Partial<ServerLimits>;
  /** Monotonic clock in ms for the idle time (default performance.now; tests may replace it). */
  monoNow?: () => number;
}

interface Client {
  ws: WebSocket;
  alive: boolean;
  /** Wants the compact sample stream (protocol/compact.ts). */
  compact: boolean;
  /** Requests received and not answered yet. */
  inFlight: number;
  /** History and export replies go out one after another: the tail of that chain. */
  chain: Promise<void>;
  /** True while a reply goes out in fragments: no other message may be sent until its last one. */
  streaming: boolean;
  /** Messages that arrived while streaming, sent in order after the last fragment. */
  held: Buffer[];
  heldBytes: number;
  /** Set once the client was told to go: nothing more is sent to it. */
  dismissed: boolean;
}

/** A reply could not be handed to the socket within limits.replyStallMs, or the client is over budget. */
class OverBudgetError extends Error {}

/** The client went away while its reply was being sent. */
class GoneError extends Error {}

/** A request was refused for lack of room (too many waiting); `status` is the HTTP status to answer. */
class BusyError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** A counting semaphore with a bounded queue. */
class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(
    private readonly size: number,
    private readonly maxWaiting: number,
    private readonly what: string,
  ) {}

  /** Resolves with a release function once a slot is free; throws BusyError when the queue is full. */
  async acquire(): Promise<() => void> {
    if (this.active >= this.size) {
      if (this.waiting.length >= this.maxWaiting) throw new BusyError(`too many ${this.what} waiting (${this.waiting.length}); try again later`, 503);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }
}

/** The collector's HTTP + WebSocket server. */
export class CollectorServer {
  private readonly http: http.Server;
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<Client>();
  private heartbeat: NodeJS.Timeout | null = null;
  /** When the last client left (or the server started), on the monotonic clock. */
  private lastClientSeenMono: number;
  private readonly mono: () => number;
  private readonly encoder = new CompactEncoder();
  /** False when ticks went by without compact clients, so the encoder's previous tick is stale. */
  private encoderSynced = false;
  private readonly limits: ServerLimits;
  /** HTTP responses being streamed (history, export), counted in the global budget. */
  private readonly httpStreams = new Set<http.ServerResponse>();
  /** HTTP requests not yet answered, per connection. */
  private readonly httpInFlight = new WeakMap<Socket, number>();
  private readonly exportGate: Gate;
  private readonly onSample = (m: ServerMessage): void => this.broadcast(m);
  private readonly onStatus = (sources: SourceStatus[]): void => this.broadcast({ type: 'status', sources });
  private readonly onAlert = (events: AlertEvent[]): void => this.broadcast({ type: 'alert', events });

  constructor(private readonly deps: ServerDeps) {
    this.mono = deps.monoNow ?? (() => performance.now());
    this.lastClientSeenMono = this.mono();
    const L = (this.limits = { ...DEFAULT_LIMITS, ...deps.limits });
    this.exportGate = new Gate(L.concurrentExports, MAX_WAITING_EXPORTS, 'exports');
    this.http = http.createServer(
      {
        // Slow-drip request headers are cut by Node's own check; zero-byte connections by the idle timeout below.
        headersTimeout: L.headersTimeoutMs,
        requestTimeout: Math.max(REQUEST_TIMEOUT_MS, L.headersTimeoutMs),
        connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(L.headersTimeoutMs / 4))),
      },
      (req, res) => this.onRequest(req, res),
    );
    this.http.keepAliveTimeout = 5000;
    this.http.maxConnections = L.maxConnections;
    // A connection that sends nothing (or stops between requests) holds an fd for nothing: close it once it
    // has been idle for headersTimeoutMs with no request of its own in progress. WebSockets clear this timer.
    this.http.on('connection', (socket: Socket) => socket.setTimeout(L.headersTimeoutMs));
    this.http.on('timeout', (socket: Socket) => {
      if ((this.httpInFlight.get(socket) ?? 0) === 0) socket.destroy();
    });
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_CLIENT_MESSAGE_BYTES,
      perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has('rigwatch') ? 'rigwatch' : false),
    });
    this.http.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const denied = url.pathname === '/ws' ? checkRequest(req, url, deps.policy, true) : ([404, 'no WebSocket here; use /ws'] as [number, string]);
      if (denied) {
        // As ws itself refuses a handshake: a complete response (with its length), then close once sent.
        const body = `${denied[1]}\n`;
        socket.once('finish', () => socket.destroy());
        socket.end(
          `HTTP/1.1 ${denied[0]} ${http.STATUS_CODES[denied[0]]}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
        deps.log.info(`WebSocket refused (${denied[0]}): ${denied[1]}`);
        return;
      }
      const compact = url.searchParams.get('compact') === '1';
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, compact));
    });
  }

  /** Number of connected WebSocket clients. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** How long no WebSocket client has been connected, in ms (0 while one is), on the monotonic clock: a wall-clock step neither triggers nor delays the idle timeout. */
  idleForMs(): number {
    return this.clients.size > 0 ? 0 : this.mono() - this.lastClientSeenMono;
  }

  /** Starts listening; resolves with the bound port. */
  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    const c = this.deps.collector;
    c.on('sample', this.onSample);
    c.on('status', this.onStatus);
    c.on('alert', this.onAlert);
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
    return (this.http.address() as AddressInfo).port;
  }

  /** Closes every client and the listener. Idempotent. */
  async close(): Promise<void> {
    const c = this.deps.collector;
    c.off('sample', this.onSample);
    c.off('status', this.onStatus);
    c.off('alert', this.onAlert);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    for (const cl of this.clients) {
      cl.dismissed = true;
      cl.ws.close(1001, 'collector shutting down');
    }
    this.clients.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }

  private beat(): void {
    for (const cl of this.clients) {
      if (!cl.alive) {
        this.deps.log.info('WebSocket client missed a heartbeat; terminating');
        cl.ws.terminate();
        this.drop(cl);
        continue;
      }
      cl.alive = false;
      cl.ws.ping();
    }
  }

  private drop(cl: Client): void {
    if (this.clients.delete(cl) && this.clients.size === 0) this.lastClientSeenMono = this.mono();
  }

  /** Serialises once and sends the same buffer to every client; dismisses clients that cannot keep up. */
  broadcast(msg: ServerMessage): void {
    if (this.clients.size === 0) {
      this.encoderSynced = false;
      return;
    }
    let full: Buffer | undefined;
    let compact: Buffer | undefined;
    if (msg.type === 'sample') {
      if (this.hasCompactClient()) {
        compact = Buffer.from(JSON.stringify(this.encoder.encode(msg)));
        this.encoderSynced = true;
      } else {
        this.encoderSynced = false;
      }
    }
    for (const cl of this.clients) {
      const data = cl.compact && compact ? compact : (full ??= Buffer.from(JSON.stringify(msg)));
      this.out(cl, data);
    }
    this.enforceGlobalBudget();
  }

  private hasCompactClient(): boolean {
    for (const c of this.clients) if (c.compact) return true;
    return false;
  }

  private hello(): HelloMessage {
    const c = this.deps.collector;
    const latest = c.latest();
    return {
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      host: this.deps.hostInfo,
      intervalMs: c.intervalMs,
      serverTime: Date.now(),
      sources: c.statuses(),
      alerts: this.deps.alerts?.active() ?? [],
      logging: this.deps.csv?.status() ?? { enabled: false, error: 'CSV logging is not available' },
      ...(latest ? { latest } : {}),
    };
  }

  private accept(ws: WebSocket, compact: boolean): void {
    const cl: Client = { ws, alive: true, compact, inFlight: 0, chain: Promise.resolve(), streaming: false, held: [], heldBytes: 0, dismissed: false };
    this.clients.add(cl);
    ws.on('pong', () => (cl.alive = true));
    ws.on('close', () => this.drop(cl));
    ws.on('error', (e) => {
      this.deps.log.info(`WebSocket client error: ${e.message}`);
      this.drop(cl);
    });
    ws.on('message', (data, isBinary) => {
      cl.alive = true;
      if (cl.dismissed) return;
      if (isBinary) return this.refuse(cl, 'binary messages are not accepted; send JSON text');
      let msg: ClientMessage;
      try {
        msg = decodeClientMessage(data.toString());
      } catch (e) {
        return this.refuse(cl, (e as Error).message);
      }
      if (cl.inFlight >= this.limits.requestsInFlight) {
        return this.dismiss(
          cl,
          CLOSE_TOO_MANY_REQUESTS,
          `more than ${this.limits.requestsInFlight} requests waiting for an answer; read the replies before sending more`,
        );
      }
      cl.inFlight++;
      const done = (): void => {
        cl.inFlight--;
      };
      if (msg.type === 'history' || msg.type === 'export') {
        const m = msg;
        cl.chain = cl.chain.then(() => this.streamToClient(cl, m)).finally(done);
        return;
      }
      this.handleClient(msg)
        .then(
          (reply) => this.sendTo(cl, reply),
          (e: unknown) => this.sendTo(cl, { type: 'result', id: msg.id, ok: false, error: (e as Error).message }),
        )
        .finally(done);
    });
    const hello = this.hello();
    this.sendTo(cl, hello);
    if (compact) {
      // The encoder's previous tick must be the sample this client just got in hello.
      if (!this.encoderSynced && hello.latest) this.encoder.encode(hello.latest);
      this.encoderSynced = true;
      this.sendTo(cl, this.encoder.keys());
    }
  }

  private refuse(cl: Client, reason: string): void {
    this.sendTo(cl, { type: 'error', message: reason });
    this.dismiss(cl, CLOSE_POLICY_VIOLATION, reason);
  }

  /**
   * Closes a client with a code and reason (close reasons are limited to 123 bytes). A client that does
   * not read never gets to the close frame behind its unsent data, so the socket is destroyed soon after.
   */
  private dismiss(cl: Client, code: number, reason: string): void {
    if (cl.dismissed) return;
    cl.dismissed = true;
    this.deps.log.info(`closing a WebSocket client (${code}): ${reason}`);
    cl.held = [];
    cl.heldBytes = 0;
    this.drop(cl);
    if (cl.ws.readyState !== WebSocket.OPEN) return;
    cl.ws.close(code, truncateUtf8(reason, 120));
    const t = setTimeout(() => cl.ws.terminate(), CLOSE_GRACE_MS);
    t.unref();
    cl.ws.once('close', () => clearTimeout(t));
  }

  /** Unsent bytes a client holds: in the WebSocket and socket buffers, and held behind a streamed reply. */
  private queued(cl: Client): number {
    return cl.ws.bufferedAmount + cl.heldBytes;
  }

  /** Sends one whole message, or holds it while a reply is being streamed; over budget dismisses the client. */
  private out(cl: Client, data: Buffer): void {
    if (cl.dismissed || cl.ws.readyState !== WebSocket.OPEN) return;
    const q = this.queued(cl);
    if (q > this.limits.clientQueuedBytes) {
      return this.dismiss(cl, CLOSE_SLOW_CLIENT, `${q} bytes unsent (over ${this.limits.clientQueuedBytes}): the client is not reading`);
    }
    if (cl.streaming) {
      cl.held.push(data);
      cl.heldBytes += data.length;
      return;
    }
    cl.ws.send(data, { binary: false });
  }

  private sendTo(cl: Client, msg: ServerMessage | KeysMessage): void {
    if (cl.dismissed || cl.ws.readyState !== WebSocket.OPEN) return;
    this.out(cl, Buffer.from(JSON.stringify(msg)));
  }

  /**
   * All clients together are over globalQueuedBytes: the one holding most goes (a WebSocket client is
   * closed with CLOSE_OVER_BUDGET, an HTTP response cut). Checked every tick and before every reply chunk.
   */
  private enforceGlobalBudget(): void {
    for (;;) {
      let total = 0;
      let worstBytes = -1;
      let worst: Client | http.ServerResponse | undefined;
      for (const cl of this.clients) {
        const q = this.queued(cl);
        total += q;
        if (q > worstBytes) [worst, worstBytes] = [cl, q];
      }
      for (const res of this.httpStreams) {
        const q = res.writableLength;
        total += q;
        if (q > worstBytes) [worst, worstBytes] = [res, q];
      }
      if (total <= this.limits.globalQueuedBytes || !worst) return;
      const reason = `all clients together hold ${total} unsent bytes (over ${this.limits.globalQueuedBytes}); this one held the most (${worstBytes})`;
      if (worst instanceof http.ServerResponse) {
        this.deps.log.info(`cutting an HTTP response: ${reason}`);
        this.httpStreams.delete(worst);
        worst.destroy();
      } else {
        this.dismiss(worst, CLOSE_OVER_BUDGET, reason);
      }
    }
  }

  /** Answers a history or export request in fragments that each wait for the socket to drain. */
  private async streamToClient(cl: Client, msg: HistoryRequest | ExportRequest): Promise<void> {
    if (cl.dismissed) return;
    let release: (() => void) | undefined;
    try {
      let pieces: Iterable<string>;
      if (msg.type === 'history') {
        pieces = this.historyPieces(msg, `{"type":"history","id":${JSON.stringify(msg.id)},`);
      } else {
        release = await this.exportGate.acquire();
        if (cl.dismissed) return;
        pieces = this.exportPieces(
          msg,
          msg.format,
          (s) => JSON.stringify(s).slice(1, -1),
          `{"type":"result","id":${JSON.stringify(msg.id)},"ok":true,"data":"`,
          '"}',
        );
      }
      await this.pump(pieces, (chunk, last) => this.fragment(cl, chunk, last));
    } catch (e) {
      if (e instanceof GoneError || cl.dismissed) return;
      if (e instanceof OverBudgetError) return this.dismiss(cl, CLOSE_SLOW_CLIENT, e.message);
      // Half a message cannot be taken back: a failure mid-stream ends the connection.
      if (cl.streaming) return this.dismiss(cl, 1011, `internal error while sending a reply: ${(e as Error).message}`);
      this.sendTo(cl, { type: 'result', id: msg.id, ok: false, error: (e as Error).message });
    } finally {
      release?.();
    }
  }

  /** Hands one piece of a streamed reply to a WebSocket; resolves once the socket took it. */
  private fragment(cl: Client, chunk: Buffer, last: boolean): Promise<void> {
    if (cl.dismissed || cl.ws.readyState !== WebSocket.OPEN) return Promise.reject(new GoneError('client gone'));
    const q = this.queued(cl);
    if (q > this.limits.clientQueuedBytes)
      return Promise.reject(new OverBudgetError(`${q} bytes unsent (over ${this.limits.clientQueuedBytes}): the client is not reading`));
    const sent = this.drained(`a reply made no progress for ${this.limits.replyStallMs} ms: the client is not reading`, (cb) =>
      cl.ws.send(chunk, { binary: false, fin: last }, cb),
    );
    if (last) {
      cl.streaming = false;
      const held = cl.held;
      cl.held = [];
      cl.heldBytes = 0;
      for (const h of held) cl.ws.send(h, { binary: false });
    } else {
      cl.streaming = true;
    }
    this.enforceGlobalBudget();
    return sent;
  }

  /** Runs `write(cb)` and resolves when cb is called; rejects with OverBudgetError after replyStallMs. */
  private drained(stall: string, write: (cb: (err?: Error | null) => void) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new OverBudgetError(stall)), this.limits.replyStallMs);
      write((err) => {
        clearTimeout(timer);
        if (err) reject(new GoneError(err.message));
        else resolve();
      });
    });
  }

  /** Groups pieces into chunks of about REPLY_CHUNK_BYTES and awaits each send before producing more. */
  private async pump(pieces: Iterable<string>, send: (chunk: Buffer, last: boolean) => Promise<void>): Promise<void> {
    let parts: string[] = [];
    let size = 0;
    let sliceStart = performance.now();
    for (const p of pieces) {
      parts.push(p);
      size += p.length;
      // Producing pieces is CPU work: give ticks and other clients a turn every few ms.
      if (performance.now() - sliceStart > PUMP_SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
      if (size >= REPLY_CHUNK_BYTES) {
        const chunk = Buffer.from(parts.join(''));
        parts = [];
        size = 0;
        await send(chunk, false);
      }
    }
    await send(Buffer.from(parts.join('')), true);
  }

  /** The range a query covers, and its series one at a time as columns: each is queried only when asked for. */
  private seriesOneByOne(q: HistoryQuery): { from: number; to: number; series: Generator<ColumnSeries> } {
    const h = this.deps.history;
    const now = Date.now();
    const query: HistoryQuery = { series: q.series };
    for (const k of ['from', 'to', 'points', 'since'] as const) if (q[k] !== undefined) query[k] = q[k];
    const names = h
      .seriesNames()
      .filter((n) => q.series.some((sel) => matchesSelector(n, sel)))
      .sort();
    const head = h.queryColumns({ ...query, series: [] }, now);
    function* series(): Generator<ColumnSeries> {
      for (const name of names) for (const s of h.queryColumns({ ...query, series: [name] }, now).series) if (s.name === name) yield s;
    }
    return { from: head.from, to: head.to, series: series() };
  }

  /**
   * The JSON of a history answer, written from columns in pieces of POINTS_PER_PIECE points: no point
   * tuples and no string larger than a piece, so a client whose reply stalls holds one series' columns
   * (32 bytes a point) and one piece, not the series as objects and as one long string.
   */
  private *historyPieces(q: HistoryQuery, prefix: string): Generator<string> {
    const a = this.seriesOneByOne(q);
    yield `${prefix}"from":${JSON.stringify(a.from)},"to":${JSON.stringify(a.to)},"series":[`;
    let first = true;
    for (const s of a.series) {
      yield `${first ? '' : ','}{"name":${JSON.stringify(s.name)},"stepMs":${JSON.stringify(s.stepMs)},"points":[`;
      for (let i = 0; i < s.t.length; i += POINTS_PER_PIECE) yield pointsJson(s, i, Math.min(s.t.length, i + POINTS_PER_PIECE));
      yield ']}';
      first = false;
    }
    yield ']}';
  }

  /**
   * The export document's pieces, each passed through `wrap`, between `prefix` and `suffix`. JSON goes
   * series by series; CSV rows need every series, so each is kept as columns.
   */
  private *exportPieces(q: HistoryQuery, format: 'csv' | 'json', wrap: (s: string) => string, prefix: string, suffix: string): Generator<string> {
    yield prefix;
    const a = this.seriesOneByOne(q);
    let pieces: Iterable<string>;
    if (format === 'csv') {
      const columns: ColumnSeries[] = [];
      for (const s of a.series) {
        columns.push(s);
        yield ''; // a point where the pump may give the event loop a turn
      }
      pieces = exportCsvColumnChunks(columns);
    } else {
      pieces = exportJsonSeriesChunks(a.from, a.to, mapIterable(a.series, columnsToPoints));
    }
    for (const piece of pieces) yield wrap(piece);
    yield suffix;
  }

  private async handleClient(msg: Exclude<ClientMessage, HistoryRequest | ExportRequest>): Promise<ServerMessage> {
    switch (msg.type) {
      case 'logging': {
        if (!this.deps.csv) throw new Error('CSV logging is not available in this collector');
        const logging = await this.deps.csv.setEnabled(msg.enabled);
        this.broadcast({ type: 'logging', logging });
        return { type: 'result', id: msg.id, ok: !logging.error, error: logging.error, data: logging };
      }
      case 'ack':
        this.alertEvents(this.requireAlerts().acknowledge(msg.alertId, Date.now()));
        return { type: 'result', id: msg.id, ok: true };
      case 'mute':
        this.alertEvents(this.requireAlerts().mute(msg.target, msg.durationMs, Date.now()));
        return { type: 'result', id: msg.id, ok: true };
      case 'action':
        return { type: 'result', id: msg.id, ok: true, data: await this.deps.collector.action(msg.source, msg.action, msg.args) };
      case 'alerts':
        return { type: 'result', id: msg.id, ok: true, data: this.requireAlerts().alertHistory(msg.limit) };
      default:
        return assertNever(msg);
    }
  }

  private requireAlerts(): AlertEngine {
    if (!this.deps.alerts) throw new Error('alerts are not available in this collector');
    return this.deps.alerts;
  }

  private alertEvents(events: AlertEvent[]): void {
    if (events.length) this.broadcast({ type: 'alert', events });
  }

  /** Counts the request against its connection's in-flight budget, then handles it. */
  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const socket = req.socket;
    const n = (this.httpInFlight.get(socket) ?? 0) + 1;
    this.httpInFlight.set(socket, n);
    res.once('close', () => this.httpInFlight.set(socket, (this.httpInFlight.get(socket) ?? 1) - 1));
    if (n > this.limits.requestsInFlight) {
      res.setHeader('Connection', 'close');
      return send(res, 429, { error: `more than ${this.limits.requestsInFlight} requests waiting on this connection; read the answers before sending more` });
    }
    this.handleHttp(req, res).catch((e: unknown) => {
      if (e instanceof BusyError) {
        if (!res.headersSent) send(res, e.status, { error: e.message });
        return;
      }
      this.deps.log.error(`HTTP ${req.method} ${req.url?.split('?')[0]}: ${(e as Error).message}`);
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  }

  /**
   * Streams a reply over HTTP (chunked), each chunk after the previous one drained. Pipelined requests
   * wait for their turn on the socket first, so nothing is produced for a response Node would only queue.
   */
  private async streamHttp(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    type: string,
    headers: Record<string, string>,
    pieces: () => Iterable<string>,
    gate?: Gate,
  ): Promise<void> {
    if (!res.socket) {
      const turn = await new Promise<boolean>((resolve) => {
        const gone = (): void => resolve(false);
        req.socket.once('close', gone);
        res.once('socket', () => {
          req.socket.off('close', gone);
          resolve(true);
        });
      });
      if (!turn) return;
    }
    const release = gate ? await gate.acquire() : undefined;
    try {
      if (res.destroyed) return;
      res.writeHead(200, { 'Content-Type': type, ...headers });
      if (req.method === 'HEAD') return void res.end();
      this.httpStreams.add(res);
      const stall = `an HTTP reply made no progress for ${this.limits.replyStallMs} ms: the client is not reading`;
      await this.pump(pieces(), async (chunk, last) => {
        if (res.destroyed) throw new GoneError('client gone');
        if (res.writableLength > this.limits.clientQueuedBytes)
          throw new OverBudgetError(`${res.writableLength} bytes unsent (over ${this.limits.clientQueuedBytes})`);
        this.enforceGlobalBudget();
        if (!this.httpStreams.has(res)) throw new GoneError('cut for the global budget');
        await this.drained(stall, (cb) => res.write(chunk, cb));
        if (last) res.end();
      });
    } catch (e) {
      if (e instanceof OverBudgetError) this.deps.log.info(`cutting an HTTP response to ${req.url?.split('?')[0]}: ${e.message}`);
      else if (!(e instanceof GoneError)) throw e;
      res.destroy();
    } finally {
      this.httpStreams.delete(res);
      release?.();
    }
  }

  private async handleHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const p = url.pathname;
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'no-store');
    // The dashboard's static files hold no data; everything else needs the token when one is set.
    const isAsset = req.method === 'GET' && (p === '/' || p === '/index.html' || p === '/webview.js' || p === '/webview.css');
    const denied = checkRequest(req, url, this.deps.policy, !isAsset);
    if (denied) return send(res, denied[0], { error: denied[1] });
    if (req.method === 'GET' || req.method === 'HEAD') {
      switch (p) {
        case '/':
        case '/index.html': {
          const nonce = randomBytes(16).toString('base64');
          const html = dashboardHtml({ nonce, scriptUri: '/webview.js', styleUri: '/webview.css', cspSource: "'self'", connectSrc: "'self'", mode: 'browser' });
          res.setHeader(
            'Content-Security-Policy',
            `default-src 'none'; img-src 'self' data:; style-src 'self' 'nonce-${nonce}'; font-src 'self'; script-src 'nonce-${nonce}'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`,
          );
          res.setHeader('Referrer-Policy', 'no-referrer');
          return sendText(res, 200, html, 'text/html; charset=utf-8');
        }
        case '/webview.js':
          return sendText(res, 200, this.deps.assets.js, 'text/javascript; charset=utf-8');
        case '/webview.css':
          return sendText(res, 200, this.deps.assets.css, 'text/css; charset=utf-8');
        case '/healthz': {
          const sources = this.deps.collector.statuses();
          return send(res, 200, {
            ok: true,
            version: this.deps.hostInfo.collectorVersion,
            protocol: PROTOCOL_VERSION,
            clients: this.clients.size,
            sources: sources.map((s) => ({ id: s.id, state: s.state })),
          });
        }
        case '/api/current':
          return send(res, 200, this.hello());
        case '/api/history': {
          const q = queryFromUrl(url);
          if (typeof q === 'string') return send(res, 400, { error: q });
          return this.streamHttp(req, res, 'application/json', {}, () => this.historyPieces(q, '{'));
        }
        case '/api/export.csv':
        case '/api/export.json': {
          const q = queryFromUrl(url);
          if (typeof q === 'string') return send(res, 400, { error: q });
          const csv = p.endsWith('.csv');
          const disposition = `attachment; filename="rigwatch-${new Date().toISOString().replace(/[:.]/g, '-')}.${csv ? 'csv' : 'json'}"`;
          return this.streamHttp(
            req,
            res,
            csv ? 'text/csv; charset=utf-8' : 'application/json',
            { 'Content-Disposition': disposition },
            () => this.exportPieces(q, csv ? 'csv' : 'json', (s) => s, '', ''),
            this.exportGate,
          );
        }
        case '/api/alerts':
          return send(res, 200, {
            active: this.deps.alerts?.active() ?? [],
            history: this.deps.alerts?.alertHistory(Number(url.searchParams.get('limit')) || 100) ?? [],
          });
        case '/api/logging':
          return send(res, 200, this.deps.csv?.status() ?? { enabled: false });
        case '/metrics':
          return sendText(
            res,
            200,
            renderMetrics(
              this.deps.collector.latest(),
              this.deps.collector.statuses(),
              this.deps.hostInfo.collectorVersion,
              this.deps.hostInfo.hostname,
              this.deps.alerts?.prometheusLines() ?? [],
            ),
            'text/plain; version=0.0.4; charset=utf-8',
          );
      }
      const gpu = /^\/api\/gpu\/(\d{1,3})\/report$/.exec(p);
      if (gpu) {
        const text = await this.deps.collector.action('gpu', 'report', { index: gpu[1] }).catch((e: Error) => e);
        if (text instanceof Error) return send(res, text instanceof ActionNotFoundError ? 404 : 503, { error: text.message });
        return sendText(res, 200, String(text), 'text/plain; charset=utf-8');
      }
      const action = /^\/api\/sources\/([^/]+)\/actions\/([^/]+)$/.exec(p);
      if (action) {
        const args = Object.fromEntries(url.searchParams.entries());
        delete args.token;
        const source = decodePathPart(action[1]);
        const name = decodePathPart(action[2]);
        if (source === undefined || name === undefined) return send(res, 400, { error: `malformed %-escape in ${plainLogText(p, 200)}` });
        const r = await this.deps.collector.action(source, name, args).catch((e: Error) => e);
        if (r instanceof Error) return send(res, r instanceof ActionNotFoundError ? 404 : 503, { error: r.message });
        return send(res, 200, { data: r });
      }
      return send(res, 404, { error: `no such endpoint: ${p}` });
    }
    if (req.method === 'POST') {
      const body = await readJson(req).catch((e: Error) => e);
      if (body instanceof BodyTooLargeError) {
        // The rest of the body is read and dropped (see readJson) so the client gets this answer, not a reset.
        res.setHeader('Connection', 'close');
        return send(res, 413, { error: body.message });
      }
      if (body instanceof Error) return send(res, 400, { error: body.message });
      if (p === '/api/logging') {
        if (typeof body.enabled !== 'boolean') return send(res, 400, { error: 'body.enabled must be true or false' });
        if (!this.deps.csv) return send(res, 503, { error: 'CSV logging is not available' });
        const logging = await this.deps.csv.setEnabled(body.enabled);
        this.broadcast({ type: 'logging', logging });
        return send(res, logging.error ? 500 : 200, logging);
      }
      const ack = /^\/api\/alerts\/([^/]+)\/ack$/.exec(p);
      if (ack) {
        const id = decodePathPart(ack[1]);
        if (id === undefined) return send(res, 400, { error: `malformed %-escape in ${plainLogText(p, 200)}` });
        try {
          this.alertEvents(this.requireAlerts().acknowledge(id, Date.now()));
        } catch (e) {
          return send(res, 404, { error: (e as Error).message });
        }
        return send(res, 200, { ok: true });
      }
      if (p === '/api/alerts/mute') {
        if (typeof body.target !== 'string') return send(res, 400, { error: 'body.target must be a rule id or alert id' });
        if (typeof body.durationMs !== 'number' || !Number.isFinite(body.durationMs) || body.durationMs < 0) {
          return send(res, 400, { error: `body.durationMs must be a finite number of ms >= 0 (0 unmutes), got ${plainLogText(String(body.durationMs), 40)}` });
        }
        try {
          this.alertEvents(this.requireAlerts().mute(body.target, body.durationMs, Date.now()));
        } catch (e) {
          return send(res, 404, { error: (e as Error).message });
        }
        return send(res, 200, { ok: true });
      }
      return send(res, 404, { error: `no such endpoint: POST ${p}` });
    }
    res.setHeader('Allow', 'GET, HEAD, POST');
    return send(res, 405, { error: `method ${req.method} not allowed` });
  }
}

/** Cuts a string to at most `max` bytes of UTF-8 without splitting a character. */
function truncateUtf8(s: string, max: number): string {
  const b = Buffer.from(s);
  if (b.length <= max) return s;
  let end = max;
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--;
  return b.subarray(0, end).toString();
}

/** Parses `/api/history` style query parameters; returns an error string when invalid. */
export function queryFromUrl(url: URL): HistoryQuery | string {
  const o: Record<string, unknown> = {};
  const series = url.searchParams
    .getAll('series')
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  o.series = series;
  for (const k of ['from', 'to', 'points', 'since']) {
    const v = url.searchParams.get(k);
    if (v === null || v === '') continue;
    const n = Number(v);
    if (!Number.isFinite(n)) return `query parameter ${k} must be a number (epoch ms${k === 'points' ? ', or a count' : ''}), got "${v.slice(0, 40)}"`;
    o[k] = n;
  }
  try {
    return parseHistoryQuery(o, 'query');
  } catch (e) {
    if (e instanceof ProtocolError) return e.message.replace('invalid message: ', 'invalid query: ');
    throw e;
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  sendText(res, status, JSON.stringify(body), 'application/json');
}

function sendText(res: http.ServerResponse, status: number, text: string, type: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

/** Decodes one %-escaped path segment; undefined when an escape is malformed. */
function decodePathPart(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** The request body is over MAX_BODY_BYTES (HTTP 413). */
class BodyTooLargeError extends Error {}

/** Bytes of an oversized body read and dropped before the connection is cut instead, in bytes. */
const MAX_DISCARDED_BODY_BYTES = 16 * 1024 * 1024;

function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        // Read and drop the rest, then answer 413 (a client still sending when the connection closes sees a
        // reset, not the answer); one that goes on far beyond the cap is cut.
        chunks.length = 0;
        if (size > MAX_DISCARDED_BODY_BYTES) req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return reject(new BodyTooLargeError(`request body over ${MAX_BODY_BYTES} bytes`));
      const text = Buffer.concat(chunks).toString();
      if (text.trim() === '') return resolve({});
      try {
        const v: unknown = JSON.parse(text);
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return reject(new Error('request body must be a JSON object'));
        resolve(v as Record<string, unknown>);
      } catch (e) {
        reject(new Error(`request body is not valid JSON: ${(e as Error).message}`));
      }
    });
    req.on('error', reject);
  });
}

/** Points per piece of a streamed history reply (~40 characters each: pieces of ~40 KB). */
const POINTS_PER_PIECE = 1000;

/** A JSON number, or null for NaN (JSON.stringify's text for finite numbers). */
function jsonNumber(v: number): string {
  return Number.isFinite(v) ? String(v) : 'null';
}

/** Points i..end-1 of a series as the JSON of `[t,min,avg,max]` tuples, comma-separated (a leading comma after the first). */
function pointsJson(s: ColumnSeries, i: number, end: number): string {
  let out = '';
  for (let k = i; k < end; k++) {
    out += `${k === 0 ? '' : ','}[${jsonNumber(s.t[k]!)},${jsonNumber(s.min[k]!)},${jsonNumber(s.avg[k]!)},${jsonNumber(s.max[k]!)}]`;
  }
  return out;
}

function* mapIterable<T, U>(items: Iterable<T>, f: (x: T) => U): Generator<U> {
  for (const x of items) yield f(x);
}
