// One port: the dashboard (`/`), the HTTP API (`/api/*`, `/healthz`, `/metrics`) and the WebSocket (`/ws`).
// Each tick's message is serialised once and the same buffer is sent to every client.

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, WebSocket } from 'ws';
import {
  MAX_CLIENT_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  ProtocolError,
  assertNever,
  decodeClientMessage,
  parseHistoryQuery,
  type AlertEvent,
  type ClientMessage,
  type HelloMessage,
  type HistoryQuery,
  type HostInfo,
  type KeysMessage,
  CompactEncoder,
  type ServerMessage,
  type SourceStatus,
} from '../../protocol';
import type { Collector } from '../collector';
import type { AlertEngine, CsvLogger, HistoryAnswer, HistoryStore } from '../contracts';
import type { Logger } from '../log';
import { checkRequest, type AccessPolicy } from './auth';
import { renderMetrics } from './metrics';
import { dashboardHtml } from '../../webview/html';

/** Heartbeat period: a client that misses a pong for this long is terminated, in ms. */
export const HEARTBEAT_MS = 15_000;
/** A client whose unsent data exceeds this is dropped (slow consumer), in bytes. */
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** Largest HTTP request body accepted, in bytes. */
export const MAX_BODY_BYTES = 64 * 1024;

/** What the server needs from the rest of the collector. */
export interface ServerDeps {
  collector: Collector;
  history: HistoryStore;
  alerts?: AlertEngine;
  csv?: CsvLogger;
  hostInfo: HostInfo;
  policy: AccessPolicy;
  log: Logger;
  /** History → CSV/JSON text for exports. */
  exporters: { csv(a: HistoryAnswer): string; json(a: HistoryAnswer): string };
  /** Dashboard assets (embedded in the bundle). */
  assets: { js: string; css: string };
}

interface Client {
  ws: WebSocket;
  alive: boolean;
  /** Wants the compact sample stream (protocol/compact.ts). */
  compact: boolean;
}

/** The collector's HTTP + WebSocket server. */
export class CollectorServer {
  private readonly http: http.Server;
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<Client>();
  private heartbeat: NodeJS.Timeout | null = null;
  private lastClientSeen = Date.now();
  private readonly encoder = new CompactEncoder();
  /** False when ticks went by without compact clients, so the encoder's previous tick is stale. */
  private encoderSynced = false;
  private readonly onSample = (m: ServerMessage): void => this.broadcast(m);
  private readonly onStatus = (sources: SourceStatus[]): void => this.broadcast({ type: 'status', sources });
  private readonly onAlert = (events: AlertEvent[]): void => this.broadcast({ type: 'alert', events });

  constructor(private readonly deps: ServerDeps) {
    this.http = http.createServer((req, res) => {
      this.handleHttp(req, res).catch((e: unknown) => {
        deps.log.error(`HTTP ${req.method} ${req.url?.split('?')[0]}: ${(e as Error).message}`);
        if (!res.headersSent) send(res, 500, { error: 'internal error' });
        else res.end();
      });
    });
    this.http.keepAliveTimeout = 5000;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES, perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has('rigwatch') ? 'rigwatch' : false) });
    this.http.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const denied = url.pathname === '/ws' ? checkRequest(req, url, deps.policy, true) : [404, 'no WebSocket here; use /ws'] as [number, string];
      if (denied) {
        // As ws itself refuses a handshake: a complete response (with its length), then close once sent.
        const body = `${denied[1]}\n`;
        socket.once('finish', () => socket.destroy());
        socket.end(`HTTP/1.1 ${denied[0]} ${http.STATUS_CODES[denied[0]]}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
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

  /** Epoch ms when a client was last connected (now, if one is). */
  lastClientAt(): number {
    return this.clients.size > 0 ? Date.now() : this.lastClientSeen;
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
    for (const cl of this.clients) cl.ws.close(1001, 'collector shutting down');
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
    if (this.clients.delete(cl) && this.clients.size === 0) this.lastClientSeen = Date.now();
  }

  /** Serialises once and sends the same buffer to every client; drops clients that cannot keep up. */
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
      if (cl.ws.readyState !== WebSocket.OPEN) continue;
      if (cl.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        this.deps.log.warn(`dropping a slow WebSocket client (${cl.ws.bufferedAmount} bytes unsent)`);
        cl.ws.terminate();
        this.drop(cl);
        continue;
      }
      cl.ws.send(data, { binary: false });
    }
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
    const cl: Client = { ws, alive: true, compact };
    this.clients.add(cl);
    ws.on('pong', () => (cl.alive = true));
    ws.on('close', () => this.drop(cl));
    ws.on('error', (e) => {
      this.deps.log.info(`WebSocket client error: ${e.message}`);
      this.drop(cl);
    });
    ws.on('message', (data, isBinary) => {
      cl.alive = true;
      if (isBinary) return this.refuse(cl, 'binary messages are not accepted; send JSON text');
      let msg: ClientMessage;
      try {
        msg = decodeClientMessage(data.toString());
      } catch (e) {
        return this.refuse(cl, (e as Error).message);
      }
      this.handleClient(msg).then(
        (reply) => this.sendTo(cl, reply),
        (e: unknown) => this.sendTo(cl, { type: 'result', id: msg.id, ok: false, error: (e as Error).message }),
      );
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
    this.deps.log.info(`closing a WebSocket client: ${reason}`);
    this.sendTo(cl, { type: 'error', message: reason });
    // Close reasons are limited to 123 bytes.
    cl.ws.close(1008, Buffer.from(reason).subarray(0, 120).toString());
    this.drop(cl);
  }

  private sendTo(cl: Client, msg: ServerMessage | KeysMessage): void {
    if (cl.ws.readyState === WebSocket.OPEN) cl.ws.send(JSON.stringify(msg));
  }

  private history(q: HistoryQuery): HistoryAnswer {
    return this.deps.history.query(q, Date.now());
  }

  private async handleClient(msg: ClientMessage): Promise<ServerMessage> {
    switch (msg.type) {
      case 'history': {
        const a = this.history(msg);
        return { type: 'history', id: msg.id, from: a.from, to: a.to, series: a.series };
      }
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
      case 'export': {
        const a = this.history(msg);
        return { type: 'result', id: msg.id, ok: true, data: msg.format === 'csv' ? this.deps.exporters.csv(a) : this.deps.exporters.json(a) };
      }
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
          res.setHeader('Content-Security-Policy', `default-src 'none'; img-src 'self' data:; style-src 'self' 'nonce-${nonce}'; font-src 'self'; script-src 'nonce-${nonce}'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`);
          res.setHeader('Referrer-Policy', 'no-referrer');
          return sendText(res, 200, html, 'text/html; charset=utf-8');
        }
        case '/webview.js':
          return sendText(res, 200, this.deps.assets.js, 'text/javascript; charset=utf-8');
        case '/webview.css':
          return sendText(res, 200, this.deps.assets.css, 'text/css; charset=utf-8');
        case '/healthz': {
          const sources = this.deps.collector.statuses();
          return send(res, 200, { ok: true, version: this.deps.hostInfo.collectorVersion, protocol: PROTOCOL_VERSION, clients: this.clients.size, sources: sources.map((s) => ({ id: s.id, state: s.state })) });
        }
        case '/api/current':
          return send(res, 200, this.hello());
        case '/api/history': {
          const q = queryFromUrl(url);
          if (typeof q === 'string') return send(res, 400, { error: q });
          return send(res, 200, this.history(q));
        }
        case '/api/export.csv':
        case '/api/export.json': {
          const q = queryFromUrl(url);
          if (typeof q === 'string') return send(res, 400, { error: q });
          const a = this.history(q);
          const csv = p.endsWith('.csv');
          res.setHeader('Content-Disposition', `attachment; filename="rigwatch-${new Date().toISOString().replace(/[:.]/g, '-')}.${csv ? 'csv' : 'json'}"`);
          return sendText(res, 200, csv ? this.deps.exporters.csv(a) : this.deps.exporters.json(a), csv ? 'text/csv; charset=utf-8' : 'application/json');
        }
        case '/api/alerts':
          return send(res, 200, { active: this.deps.alerts?.active() ?? [], history: this.deps.alerts?.alertHistory(Number(url.searchParams.get('limit')) || 100) ?? [] });
        case '/api/logging':
          return send(res, 200, this.deps.csv?.status() ?? { enabled: false });
        case '/metrics':
          return sendText(res, 200, renderMetrics(this.deps.collector.latest(), this.deps.collector.statuses(), this.deps.hostInfo.collectorVersion, this.deps.hostInfo.hostname, this.deps.alerts?.prometheusLines() ?? []), 'text/plain; version=0.0.4; charset=utf-8');
      }
      const gpu = /^\/api\/gpu\/(\d{1,3})\/report$/.exec(p);
      if (gpu) {
        const text = await this.deps.collector.action('gpu', 'report', { index: gpu[1] }).catch((e: Error) => e);
        if (text instanceof Error) return send(res, 503, { error: text.message });
        return sendText(res, 200, String(text), 'text/plain; charset=utf-8');
      }
      const action = /^\/api\/sources\/([^/]+)\/actions\/([^/]+)$/.exec(p);
      if (action) {
        const args = Object.fromEntries(url.searchParams.entries());
        delete args.token;
        const r = await this.deps.collector.action(decodeURIComponent(action[1]), decodeURIComponent(action[2]), args).catch((e: Error) => e);
        if (r instanceof Error) return send(res, 503, { error: r.message });
        return send(res, 200, { data: r });
      }
      return send(res, 404, { error: `no such endpoint: ${p}` });
    }
    if (req.method === 'POST') {
      const body = await readJson(req).catch((e: Error) => e);
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
        try {
          this.alertEvents(this.requireAlerts().acknowledge(decodeURIComponent(ack[1]), Date.now()));
        } catch (e) {
          return send(res, 404, { error: (e as Error).message });
        }
        return send(res, 200, { ok: true });
      }
      if (p === '/api/alerts/mute') {
        if (typeof body.target !== 'string') return send(res, 400, { error: 'body.target must be a rule id or alert id' });
        if (typeof body.durationMs !== 'number' || !(body.durationMs >= 0)) return send(res, 400, { error: 'body.durationMs must be a number of ms >= 0' });
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

/** Parses `/api/history` style query parameters; returns an error string when invalid. */
export function queryFromUrl(url: URL): HistoryQuery | string {
  const o: Record<string, unknown> = {};
  const series = url.searchParams.getAll('series').flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
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

function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
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
