// One bridge, two transports. Inside VS Code the extension relays ServerMessages to the webview over
// postMessage (wrapped in protocol/bridge.ts envelopes); in a browser the page holds the collector's
// WebSocket itself. Components only ever see the Bridge interface.

import type { ConnectionState, HostToWebview } from '../protocol/bridge';
import { decodeServerMessage, parseServerMessage } from '../protocol/guards';
import type { ClientMessage, ServerMessage } from '../protocol/messages';
import { HttpPoller } from './http-poller';

/** What a bridge reports to the dashboard. */
export interface BridgeHandlers {
  message(m: ServerMessage): void;
  connection(state: ConnectionState, reason: string | undefined, name: string | undefined): void;
}

/** The dashboard's link to a collector. */
export interface Bridge {
  readonly mode: 'vscode' | 'browser';
  /** Starts receiving; handlers are called from now on. */
  start(h: BridgeHandlers): void;
  /** Sends a request; false when it could not be sent (not connected). */
  send(m: ClientMessage): boolean;
  /** UI state persisted across reloads (time range, view toggles). */
  loadUiState(): unknown;
  saveUiState(s: unknown): void;
  dispose(): void;
}

/** The subset of the VS Code webview API the dashboard uses. */
export interface VsCodeApi {
  postMessage(m: unknown): void;
  getState(): unknown;
  setState(s: unknown): void;
}

declare global {
  // Injected by VS Code into webviews; callable once per page.
  // eslint-disable-next-line no-var
  var acquireVsCodeApi: (() => VsCodeApi) | undefined;
}

/** Picks the transport for this page: VS Code's postMessage when available, else the WebSocket. */
export function createBridge(win: Window & typeof globalThis = window): Bridge {
  if (typeof win.acquireVsCodeApi === 'function') return new VsCodeBridge(win.acquireVsCodeApi(), win);
  return new BrowserBridge(win);
}

function warn(msg: string): void {
  // A bad message is the peer's bug, not the page's: report it without failing the page.
  console.warn(`[rigwatch] ${msg}`);
}

/** postMessage transport: the extension owns the socket and relays envelopes. */
export class VsCodeBridge implements Bridge {
  readonly mode = 'vscode' as const;
  private handlers: BridgeHandlers | undefined;
  private readonly onMessage = (e: MessageEvent): void => this.receive(e.data);

  constructor(private readonly api: VsCodeApi, private readonly win: Window) {}

  start(h: BridgeHandlers): void {
    this.handlers = h;
    this.win.addEventListener('message', this.onMessage);
    h.connection('connecting', undefined, undefined);
    this.api.postMessage({ kind: 'ready' });
  }

  private receive(data: unknown): void {
    const h = this.handlers;
    if (!h || typeof data !== 'object' || data === null) return;
    const env = data as Partial<HostToWebview> & { kind?: unknown };
    if (env.kind === 'server') {
      try {
        h.message(parseServerMessage((env as { message?: unknown }).message));
      } catch (e) {
        warn(`ignored a message from the extension: ${(e as Error).message}`);
      }
    } else if (env.kind === 'connection') {
      const c = env as { state?: unknown; reason?: unknown; name?: unknown };
      if (typeof c.state !== 'string') return warn('ignored a connection envelope without a state');
      h.connection(
        c.state as ConnectionState,
        typeof c.reason === 'string' ? c.reason : undefined,
        typeof c.name === 'string' ? c.name : undefined,
      );
    }
  }

  send(m: ClientMessage): boolean {
    this.api.postMessage({ kind: 'client', message: m });
    return true;
  }

  loadUiState(): unknown {
    return this.api.getState();
  }

  saveUiState(s: unknown): void {
    this.api.setState(s);
  }

  dispose(): void {
    this.win.removeEventListener('message', this.onMessage);
    this.handlers = undefined;
  }
}

/** Reconnect delays: first retry quickly, then back off to this ceiling. */
const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 10_000;
/** A connection silent for this many sample intervals (or at least WATCHDOG_MIN_MS) is presumed dead. */
const WATCHDOG_INTERVALS = 5;
const WATCHDOG_MIN_MS = 15_000;
/** Socket attempts that never open before the page falls back to HTTP polling (if HTTP answers). */
const POLL_AFTER_FAILURES = 3;
/** While polling, how often the socket is tried again, at most, in ms. */
const RECONNECT_WHILE_POLLING_MS = 30_000;
const TOKEN_KEY = 'rigwatch.token';
const UI_KEY = 'rigwatch.ui';

/** Reads the token from `#token=…` (then removes it from the address bar) or from this tab's storage. */
export function takeToken(win: Window): string | null {
  const m = /(?:^#|&)token=([^&]*)/.exec(win.location.hash);
  if (m) {
    const token = decodeURIComponent(m[1]);
    try {
      win.sessionStorage.setItem(TOKEN_KEY, token);
    } catch {
      // Storage can be disabled; the token then lasts for this page only.
    }
    // Keep the token out of the address bar, bookmarks and screen shares.
    win.history.replaceState(win.history.state, '', win.location.pathname + win.location.search);
    return token;
  }
  try {
    return win.sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** WebSocket transport for a page served by the collector. */
export class BrowserBridge implements Bridge {
  readonly mode = 'browser' as const;
  private handlers: BridgeHandlers | undefined;
  private ws: WebSocket | undefined;
  private token: string | null = null;
  private delayMs = RECONNECT_MIN_MS;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private lastMessageAt = 0;
  private watchdogMs = WATCHDOG_MIN_MS;
  private disposed = false;
  private attempted = false;
  private failuresWithoutOpen = 0;
  private poller: HttpPoller | undefined;

  constructor(private readonly win: Window) {}

  start(h: BridgeHandlers): void {
    this.handlers = h;
    this.token = takeToken(this.win);
    this.connect();
    this.watchdog = setInterval(() => this.checkAlive(), 1000);
  }

  private url(): string {
    const loc = this.win.location;
    const proto = loc.protocol === 'https:' ? 'wss:' : 'ws:';
    const q = this.token ? `?token=${encodeURIComponent(this.token)}` : '';
    return `${proto}//${loc.host}/ws${q}`;
  }

  private connect(): void {
    if (this.disposed) return;
    // Later attempts keep showing "reconnecting" with the reason of the last failure.
    if (!this.attempted) this.handlers?.connection('connecting', undefined, this.win.location.host);
    this.attempted = true;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url());
    } catch (e) {
      this.scheduleReconnect(`cannot open a WebSocket: ${(e as Error).message}`);
      return;
    }
    this.ws = ws;
    this.lastMessageAt = Date.now();
    ws.onmessage = (e) => {
      if (ws !== this.ws) return;
      this.lastMessageAt = Date.now();
      if (typeof e.data !== 'string') return warn('ignored a binary WebSocket message');
      let m: ServerMessage;
      try {
        m = decodeServerMessage(e.data);
      } catch (err) {
        return warn(`ignored a message from the collector: ${(err as Error).message}`);
      }
      if (m.type === 'hello') {
        this.delayMs = RECONNECT_MIN_MS;
        this.failuresWithoutOpen = 0;
        this.stopPolling();
        this.watchdogMs = Math.max(WATCHDOG_MIN_MS, m.intervalMs * WATCHDOG_INTERVALS);
        this.handlers?.connection('live', undefined, m.host.hostname);
      }
      this.handlers?.message(m);
    };
    let opened = false;
    ws.onopen = () => {
      opened = true;
    };
    ws.onclose = (e) => {
      if (ws !== this.ws) return;
      this.ws = undefined;
      // A refused upgrade (bad or missing token, wrong Origin) looks like any failed connection to a page.
      const hint = this.token ? '' : ' — no token: open the address the collector printed (it ends in #token=…)';
      const why = !opened ? `cannot connect${hint}` : e.code === 1006 ? 'connection lost' : `closed (${e.code}${e.reason ? `: ${e.reason}` : ''})`;
      this.failuresWithoutOpen = opened ? 0 : this.failuresWithoutOpen + 1;
      if (this.poller) {
        // Already polling: keep trying the socket, quietly and rarely.
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this.connect(), RECONNECT_WHILE_POLLING_MS);
        return;
      }
      if (this.failuresWithoutOpen >= POLL_AFTER_FAILURES) void this.maybePoll();
      this.scheduleReconnect(why);
    };
    // onerror is always followed by onclose, which does the reporting.
    ws.onerror = () => undefined;
  }

  private scheduleReconnect(reason: string): void {
    if (this.disposed) return;
    const delay = this.delayMs;
    this.delayMs = Math.min(RECONNECT_MAX_MS, this.delayMs * 2);
    this.handlers?.connection('reconnecting', `${reason}; retrying in ${Math.round(delay / 100) / 10} s`, this.win.location.host);
    clearTimeout(this.retryTimer);
    // Jitter so many tabs do not reconnect in lockstep after a collector restart.
    this.retryTimer = setTimeout(() => this.connect(), delay * (0.8 + Math.random() * 0.4));
  }

  /** Falls back to HTTP polling when the socket keeps failing but the collector answers HTTP. */
  private async maybePoll(): Promise<void> {
    const base = `${this.win.location.protocol}//${this.win.location.host}`;
    try {
      const res = await fetch(`${base}/healthz`, { cache: 'no-store', headers: this.token ? { authorization: `Bearer ${this.token}` } : {} });
      if (!res.ok || this.poller || this.disposed || this.ws?.readyState === WebSocket.OPEN) return;
    } catch {
      return; // The collector is not reachable at all: keep reconnecting.
    }
    this.poller = new HttpPoller(
      base,
      this.token,
      (m) => {
        if (m.type === 'hello') this.handlers?.connection('polling', 'WebSocket unavailable; polling over HTTP', m.host.hostname);
        this.handlers?.message(m);
      },
      (reason) => {
        // HTTP failed too: back to reconnecting (polling resumes if HTTP comes back without the socket).
        this.stopPolling();
        this.scheduleReconnect(reason);
      },
    );
    this.poller.start();
  }

  private stopPolling(): void {
    this.poller?.stop();
    this.poller = undefined;
  }

  private checkAlive(): void {
    const ws = this.ws;
    if (ws && ws.readyState === WebSocket.OPEN && Date.now() - this.lastMessageAt > this.watchdogMs) {
      this.ws = undefined;
      ws.onclose = null;
      ws.close();
      this.scheduleReconnect('no data from the collector');
    }
  }

  send(m: ClientMessage): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return this.poller?.send(m) ?? false;
    ws.send(JSON.stringify(m));
    return true;
  }

  loadUiState(): unknown {
    try {
      const s = this.win.localStorage.getItem(UI_KEY);
      return s ? (JSON.parse(s) as unknown) : undefined;
    } catch {
      return undefined;
    }
  }

  saveUiState(s: unknown): void {
    try {
      this.win.localStorage.setItem(UI_KEY, JSON.stringify(s));
    } catch {
      // Storage disabled or full: the UI state is a convenience.
    }
  }

  dispose(): void {
    this.disposed = true;
    this.stopPolling();
    clearTimeout(this.retryTimer);
    clearInterval(this.watchdog);
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      ws.onclose = null;
      ws.close();
    }
    this.handlers = undefined;
  }
}
