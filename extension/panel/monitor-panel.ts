// The System Monitor panel host: one webview panel, revived after a reload by a serializer, strict CSP
// with a fresh nonce, resources only from dist/ and media/. It relays the connection's ServerMessages
// to the webview and validated ClientMessages back (protocol/bridge.ts envelopes).

import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import * as vscode from 'vscode';
import { isWebviewToHost, type HostToWebview } from '../../protocol/bridge';
import { parseClientMessage } from '../../protocol/guards';
import { dashboardHtml } from '../../webview/html';
import type { Connection } from '../connection/connection';
import { LOCAL_ID, type ConnectionManager } from '../connection-manager';
import { panelTarget, type PanelTarget } from './panel-target';

/** Webview type id (also in package.json activationEvents). */
export const MONITOR_VIEW_TYPE = 'rigwatch.monitor';

interface PanelState {
  connectionId?: string;
}

/** Hosts the single monitor panel. */
export class MonitorPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private connectionId: string | undefined;
  private panelSubs: vscode.Disposable[] = [];
  private readonly subs: vscode.Disposable[] = [];
  private ready = false;
  /** What the webview was last told about (a connection object or the local stopped state). */
  private shown: Connection | 'local-stopped' | undefined;
  /** The HTML last given to the webview. */
  html = '';
  /** Messages posted to the webview (count, for tests). */
  posted = 0;
  /** A run page asked for before the webview was ready (Open Run on a closed or hidden panel). */
  private pendingRun: string | undefined;
  /** The last run page the webview was told to show (tests). */
  shownRun: string | undefined;

  constructor(
    private readonly ctx: vscode.ExtensionContext,
    private readonly manager: ConnectionManager,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subs.push(
      vscode.window.registerWebviewPanelSerializer(MONITOR_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel: vscode.WebviewPanel, state: unknown) => {
          // The webview may save `{connectionId}` with setState(); otherwise the primary connection is shown.
          const id = typeof state === 'object' && state !== null ? (state as PanelState).connectionId : undefined;
          this.adopt(panel, id);
        },
      }),
      manager.onDidChangeConnection((e) => {
        if (!this.panel || !this.ready || e.connection.id !== this.current()?.id) return;
        if (e.message) this.post({ kind: 'server', message: e.message });
        if (e.state) this.post({ kind: 'connection', state: e.state.state, reason: e.state.reason, name: e.connection.name });
      }),
      manager.onDidChangeConnections(() => {
        // The shown connection went away, came back (Start after Stop) or the panel waited for one: replay.
        if (!this.panel || !this.ready) return;
        const t = this.target();
        const next = t.kind === 'connection' ? this.manager.get(t.id) : t.kind === 'local-stopped' ? 'local-stopped' : undefined;
        if (next !== this.shown) this.replay();
      }),
    );
  }

  /** The visible panel, if any. */
  get webviewPanel(): vscode.WebviewPanel | undefined {
    return this.panel;
  }

  /** Opens (or reveals) the panel on a connection, on a run's page when `runId` is given. */
  show(connection?: Connection, opts: { runId?: string } = {}): void {
    if (connection) this.connectionId = connection.id;
    if (opts.runId !== undefined) this.pendingRun = opts.runId;
    if (this.panel) {
      this.panel.reveal(undefined, false);
      if (connection) this.replay();
      else this.postPendingRun();
      return;
    }
    const panel = vscode.window.createWebviewPanel(MONITOR_VIEW_TYPE, 'System Monitor', vscode.ViewColumn.Active, this.options());
    this.adopt(panel, this.connectionId);
  }

  private options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(this.ctx.extensionUri, 'dist'), vscode.Uri.joinPath(this.ctx.extensionUri, 'media')],
    };
  }

  private target(): PanelTarget {
    return panelTarget(this.connectionId, {
      ids: this.manager.list().map((c) => c.id),
      primaryId: this.manager.primary()?.id,
      localId: LOCAL_ID,
      localStopped: this.manager.localStoppedByUser || this.manager.localStarting,
    });
  }

  private current(): Connection | undefined {
    const t = this.target();
    return t.kind === 'connection' ? this.manager.get(t.id) : undefined;
  }

  private adopt(panel: vscode.WebviewPanel, connectionId: string | undefined): void {
    this.panel = panel;
    this.connectionId = connectionId ?? this.connectionId;
    this.ready = false;
    panel.webview.options = this.options();
    panel.iconPath = vscode.Uri.joinPath(this.ctx.extensionUri, 'media', 'rigwatch.svg');
    const w = panel.webview;
    this.html = '';
    const nonce = randomBytes(18).toString('base64');
    w.html = this.html = dashboardHtml({
      nonce,
      scriptUri: w.asWebviewUri(vscode.Uri.joinPath(this.ctx.extensionUri, 'dist', 'webview.js')).toString(),
      styleUri: w.asWebviewUri(vscode.Uri.joinPath(this.ctx.extensionUri, 'dist', 'webview.css')).toString(),
      cspSource: w.cspSource,
      mode: 'vscode',
    });
    this.panelSubs = [
      w.onDidReceiveMessage((raw: unknown) => this.onMessage(raw)),
      panel.onDidChangeViewState(() => {
        // Hidden webviews are destroyed (no retained context); they send `ready` again when shown.
        if (!panel.visible) this.ready = false;
      }),
      panel.onDidDispose(() => {
        for (const s of this.panelSubs) s.dispose();
        this.panelSubs = [];
        if (this.panel === panel) this.panel = undefined;
        this.ready = false;
      }),
    ];
  }

  private onMessage(raw: unknown): void {
    if (!isWebviewToHost(raw)) {
      this.log.warn('monitor panel: ignored a malformed message from the webview');
      return;
    }
    if (raw.kind === 'ready') {
      this.ready = true;
      this.replay();
      return;
    }
    if (raw.kind === 'startLocal') {
      // The dashboard's Start button (shown after Stop Local Collector): the command reports its own errors.
      void vscode.commands
        .executeCommand('rigwatch.startLocalCollector')
        .then(undefined, (e: Error) => this.log.warn(`monitor panel: starting the local collector failed: ${e.message}`));
      return;
    }
    let msg;
    try {
      msg = parseClientMessage(raw.message);
    } catch (e) {
      this.log.warn(`monitor panel: ${(e as Error).message}`);
      return;
    }
    const conn = this.current();
    if (!conn) {
      this.post({ kind: 'server', message: { type: 'result', id: msg.id, ok: false, error: 'no collector connected' } });
      return;
    }
    conn.send(msg);
  }

  /** Sends the current connection state and a hello built from everything known so far. */
  private replay(): void {
    if (!this.panel) return;
    const t = this.target();
    if (t.kind === 'local-stopped') {
      this.shown = 'local-stopped';
      this.connectionId = LOCAL_ID;
      const name = `${os.hostname()} (local)`;
      if (this.manager.localStarting) this.post({ kind: 'connection', state: 'connecting', reason: 'starting the local collector', name });
      else this.post({ kind: 'connection', state: 'disconnected', reason: 'Local collector stopped', name, canStartLocal: true });
      return;
    }
    const conn = this.current();
    this.shown = conn;
    if (!conn) {
      this.post({ kind: 'connection', state: 'disconnected', reason: 'no collector connected', name: 'Rigwatch' });
      return;
    }
    // The panel stays on what it shows (Stop Local Collector must not switch it to another connection).
    this.connectionId = conn.id;
    this.panel.title = `System Monitor — ${conn.name}`;
    this.post({ kind: 'connection', state: conn.state, reason: conn.reason, name: conn.name });
    const hello = conn.model.currentHello();
    if (hello) this.post({ kind: 'server', message: hello });
    this.postPendingRun();
  }

  /** Tells a ready webview to show the run asked for (after the hello, so the run's details are there). */
  private postPendingRun(): void {
    if (!this.ready || this.pendingRun === undefined) return;
    this.shownRun = this.pendingRun;
    this.post({ kind: 'openRun', runId: this.pendingRun });
    this.pendingRun = undefined;
  }

  private post(m: HostToWebview): void {
    if (!this.panel) return;
    this.posted++;
    void this.panel.webview.postMessage(m);
  }

  dispose(): void {
    this.panel?.dispose();
    for (const s of this.subs) s.dispose();
  }
}
