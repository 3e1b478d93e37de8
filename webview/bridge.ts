// One bridge, two transports. Inside VS Code the extension relays ServerMessages to the webview over
// postMessage (wrapped in protocol/bridge.ts envelopes); in a browser the page holds the collector's
// WebSocket itself, driven by the client core (client/connection-core.ts) like the extension's client.
// Components only ever see the Bridge interface.

import { ClientCore, type ClientTransport, type SocketEvents, type SocketLink } from '../client/connection-core';
import { historyQuery } from '../client/history-query';
import type { ConnectionState, HostToWebview } from '../protocol/bridge';
import { parseServerMessage } from '../protocol/guards';
import type { ClientMessage, HistorySeries, ServerMessage } from '../protocol/messages';

/** What a bridge reports to the dashboard. */
export interface BridgeHandlers {
  message(m: ServerMessage): void;
  /** `canStartLocal`: the local collector was stopped by the user and `startLocal()` can start it. */
  connection(state: ConnectionState, reason: string | undefined, name: string | undefined, canStartLocal?: boolean): void;
  /** The host asks for a run's page (VS Code's "Open Run"). */
  openRun?(runId: string): void;
}

/** The dashboard's link to a collector. */
export interface Bridge {
  readonly mode: 'vscode' | 'browser';
  /** Starts receiving; handlers are called from now on. */
  start(h: BridgeHandlers): void;
  /** Sends a request; false when it could not be sent (not connected). */
  send(m: ClientMessage): boolean;
  /** Asks the host to start the local collector (VS Code only). */
  startLocal?(): void;
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

  constructor(
    private readonly api: VsCodeApi,
    private readonly win: Window,
  ) {}

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
      const c = env as { state?: unknown; reason?: unknown; name?: unknown; canStartLocal?: unknown };
      if (typeof c.state !== 'string') return warn('ignored a connection envelope without a state');
      h.connection(
        c.state as ConnectionState,
        typeof c.reason === 'string' ? c.reason : undefined,
        typeof c.name === 'string' ? c.name : undefined,
        c.canStartLocal === true,
      );
    } else if (env.kind === 'openRun') {
      const id = (env as { runId?: unknown }).runId;
      if (typeof id === 'string') h.openRun?.(id);
      else warn('ignored an openRun envelope without a run id');
    }
  }

  send(m: ClientMessage): boolean {
    this.api.postMessage({ kind: 'client', message: m });
    return true;
  }

  startLocal(): void {
    this.api.postMessage({ kind: 'startLocal' });
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

/** WebSocket transport for a page served by the collector; the client core does the rest. */
export class BrowserBridge implements Bridge {
  readonly mode = 'browser' as const;
  private handlers: BridgeHandlers | undefined;
  private token: string | null = null;
  private core: ClientCore | undefined;

  constructor(private readonly win: Window) {}

  start(h: BridgeHandlers): void {
    this.handlers = h;
    this.token = takeToken(this.win);
    const transport: ClientTransport = {
      openSocket: (events) => this.openSocket(events),
      httpAlive: async () => (await this.get('/healthz')).ok,
      fetchCurrent: async () => {
        const res = await this.get('/api/current');
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        return (await res.json()) as unknown;
      },
    };
    this.core = new ClientCore(
      transport,
      { message: (m) => this.handlers?.message(m), state: (state, reason) => this.report(state, reason) },
      { name: this.win.location.host },
    );
    h.connection('connecting', undefined, this.win.location.host);
    this.core.start();
  }

  private report(state: ConnectionState, reason: string | undefined): void {
    // Live or polling: named by the collector's host; otherwise by the address the page came from.
    const name = state === 'live' || state === 'polling' ? (this.core?.hello?.host.hostname ?? this.win.location.host) : this.win.location.host;
    this.handlers?.connection(state, reason, name);
  }

  private get(path: string): Promise<Response> {
    const base = `${this.win.location.protocol}//${this.win.location.host}`;
    return fetch(`${base}${path}`, { cache: 'no-store', headers: this.token ? { authorization: `Bearer ${this.token}` } : {} });
  }

  private openSocket(events: SocketEvents): SocketLink {
    const loc = this.win.location;
    const proto = loc.protocol === 'https:' ? 'wss:' : 'ws:';
    const q = this.token ? `?token=${encodeURIComponent(this.token)}` : '';
    let ws: WebSocket;
    try {
      ws = new WebSocket(`${proto}//${loc.host}/ws${q}`);
    } catch (e) {
      const reason = `cannot open a WebSocket: ${(e as Error).message}`;
      queueMicrotask(() => events.failed(reason));
      return { send: () => undefined, close: () => undefined };
    }
    let opened = false;
    ws.onopen = () => {
      opened = true;
      events.opened();
    };
    ws.onmessage = (e) => {
      if (typeof e.data !== 'string') return warn('ignored a binary WebSocket message');
      events.text(e.data);
    };
    ws.onclose = (e) => {
      // A refused upgrade (bad or missing token, wrong Origin) looks like any failed connection to a page.
      const hint = this.token ? '' : ' — no token: open the address the collector printed (it ends in #token=…)';
      events.failed(!opened ? `cannot connect${hint}` : e.code === 1006 ? 'connection lost' : `closed (${e.code}${e.reason ? `: ${e.reason}` : ''})`);
    };
    // onerror is always followed by onclose, which does the reporting.
    ws.onerror = () => undefined;
    return {
      send: (text) => ws.send(text),
      close: () => {
        ws.onclose = null;
        ws.onmessage = null;
        ws.close();
      },
    };
  }

  send(m: ClientMessage): boolean {
    const core = this.core;
    if (!core) return false;
    if (core.send(m)) return true;
    // Polling: history is answered over HTTP; everything else needs the socket.
    if (core.state !== 'polling' || m.type !== 'history') return false;
    void this.get(`/api/history?${historyQuery(m)}`)
      .then(async (res) => {
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const a = (await res.json()) as { from: number; to: number; series: HistorySeries[] };
        this.handlers?.message(parseServerMessage({ type: 'history', id: m.id, from: a.from, to: a.to, series: a.series }));
      })
      .catch((e: Error) => this.handlers?.message({ type: 'result', id: m.id, ok: false, error: `history over HTTP failed: ${e.message}` }));
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
    // The core reports `disconnected` on dispose; a page going away has nobody to tell.
    this.handlers = undefined;
    this.core?.dispose();
  }
}
