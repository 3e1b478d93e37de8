// Owns every connection: the local collector (reused or started), configured collectors from settings
// (tokens from SecretStorage), and connections added by other kinds (SSH, Prometheus) through `add()`.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseCollectorLogLine } from './format';
import { CollectorClient, parseCollectorUrl } from './connection/collector-client';
import { CollectorModel } from './connection/collector-model';
import type { Connection, ConnectionStateChange } from './connection/connection';
import { localCollectorConfig } from './connection/local-config';
import { defaultDataDir, discoverCollector, LocalCollectorProcess, type CollectorEndpoint } from './connection/local-collector';
import { readSettings, SECTION, type CollectorSetting, type RigwatchSettings } from './settings';
import { collectorsLocation, describeLocation, type InspectedValue } from './settings-target';
import type { ServerMessage } from '../protocol';
import type { ConnectionSnapshot } from './views/snapshot';

/** Id of the local connection. */
export const LOCAL_ID = 'local';
/** Restarts of a crashed local collector allowed within RESTART_WINDOW_MS. */
const MAX_RESTARTS = 5;
/** Window for counting restarts, in ms. */
const RESTART_WINDOW_MS = 10 * 60_000;
/** Delay before restarting a crashed local collector, in ms. */
const RESTART_DELAY_MS = 1_000;

/** SecretStorage key of a configured collector's token. */
export function tokenKey(name: string): string {
  return `rigwatch.collectorToken:${name}`;
}

/** An event from any connection. */
export interface ConnectionEvent {
  connection: Connection;
  message?: ServerMessage;
  state?: ConnectionStateChange;
}

/** The set of connections and the local collector child. */
export class ConnectionManager implements vscode.Disposable {
  private readonly conns = new Map<string, { conn: Connection; subs: vscode.Disposable[] }>();
  private readonly listEmitter = new vscode.EventEmitter<void>();
  private readonly eventEmitter = new vscode.EventEmitter<ConnectionEvent>();
  private local: LocalCollectorProcess | undefined;
  private localEndpoint: CollectorEndpoint | undefined;
  private localStartPending: Promise<void> | undefined;
  private restarts: number[] = [];
  private settings: RigwatchSettings;
  private disposed = false;
  /** Connections the user disconnected this session (not reconnected on settings changes). */
  private readonly closedByUser = new Set<string>();

  /** Fires when connections are added or removed. */
  readonly onDidChangeConnections = this.listEmitter.event;
  /** Fires for every message and state change of any connection. */
  readonly onDidChangeConnection = this.eventEmitter.event;

  constructor(
    private readonly ctx: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly collectorLog: vscode.LogOutputChannel,
  ) {
    this.settings = readSettings((m) => log.warn(m));
  }

  /** Every connection, local first. */
  list(): Connection[] {
    return [...this.conns.values()].map((e) => e.conn);
  }

  /** A connection by id. */
  get(id: string): Connection | undefined {
    return this.conns.get(id)?.conn;
  }

  /** The connection the status bar and "Open System Monitor" use by default. */
  primary(): Connection | undefined {
    const want = this.settings.statusBarConnection;
    const all = this.list();
    if (want) {
      const c = all.find((x) => x.name === want || x.id === want);
      if (c) return c;
    }
    return all.find((c) => c.state === 'live') ?? all[0];
  }

  /** The data dir of the local collector. */
  get localDataDir(): string {
    return this.settings.localDataDir ?? defaultDataDir();
  }

  /** The local collector endpoint in use, if any. */
  get localCollector(): CollectorEndpoint | undefined {
    return this.localEndpoint;
  }

  /** True when the user stopped the local collector (Stop Local Collector) and has not started it again. */
  get localStoppedByUser(): boolean {
    return this.closedByUser.has(LOCAL_ID) && !this.conns.has(LOCAL_ID);
  }

  /** True while the local collector is being started and has no connection yet. */
  get localStarting(): boolean {
    return this.localStartPending !== undefined && !this.conns.has(LOCAL_ID);
  }

  /** Current settings. */
  get currentSettings(): RigwatchSettings {
    return this.settings;
  }

  /** Starts everything the settings ask for (called once after startup finished). */
  async start(): Promise<void> {
    await Promise.all([this.syncConfigured(), this.settings.localEnabled ? this.startLocal() : Promise.resolve()]);
  }

  /** Re-reads settings; reconnects what changed. */
  async onSettingsChanged(e: vscode.ConfigurationChangeEvent): Promise<void> {
    const before = this.settings;
    this.settings = readSettings((m) => this.log.warn(m));
    if (e.affectsConfiguration(`${SECTION}.collectors`)) await this.syncConfigured();
    const localKeys = ['localCollector', 'interval', 'alerts', 'runs'].map((k) => `${SECTION}.${k}`);
    if (localKeys.some((k) => e.affectsConfiguration(k))) {
      if (!this.settings.localEnabled) await this.stopLocal();
      else if (!before.localEnabled || this.localEndpoint?.owned) {
        // Interval and alert overrides are start-up options of the collector: restart our own child.
        this.log.info('local collector settings changed; restarting it');
        await this.stopLocal();
        await this.startLocal();
      }
    }
    this.listEmitter.fire();
  }

  /** Adds a connection of any kind (used by SSH/Prometheus connection kinds). */
  add(conn: Connection): void {
    this.remove(conn.id);
    const subs: vscode.Disposable[] = [
      conn.onDidChangeState((state) => this.eventEmitter.fire({ connection: conn, state })),
      conn.onDidReceive((message) => this.eventEmitter.fire({ connection: conn, message })),
    ];
    this.conns.set(conn.id, { conn, subs });
    this.listEmitter.fire();
  }

  /** Disposes and removes a connection. */
  remove(id: string): boolean {
    const e = this.conns.get(id);
    if (!e) return false;
    for (const s of e.subs) s.dispose();
    e.conn.dispose();
    this.conns.delete(id);
    this.listEmitter.fire();
    return true;
  }

  /** Starts (or reuses) the local collector and connects to it. */
  startLocal(): Promise<void> {
    this.closedByUser.delete(LOCAL_ID);
    this.localStartPending ??= this.doStartLocal().finally(() => (this.localStartPending = undefined));
    return this.localStartPending;
  }

  private async doStartLocal(): Promise<void> {
    if (this.disposed) return;
    const dataDir = this.localDataDir;
    let ep = await discoverCollector(dataDir);
    if (ep) {
      this.log.info(`reusing the collector already running for this user (pid ${ep.pid}, ${ep.url})`);
      this.collectorLog.info(`reusing collector pid ${ep.pid} at ${ep.url}; its log is that process's output`);
    } else {
      const collectorJs = path.join(this.ctx.extensionPath, 'dist', 'collector.js');
      if (!fs.existsSync(collectorJs)) throw new Error(`the bundled collector is missing (${collectorJs}); reinstall the extension`);
      fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      const configFile = this.writeLocalConfig();
      const proc = new LocalCollectorProcess();
      proc.onUnexpectedExit((code, signal) => this.onLocalExit(code, signal));
      this.local = proc;
      this.collectorLog.info(`starting ${collectorJs} (data dir ${dataDir}, interval ${this.settings.intervalSeconds} s)`);
      try {
        ep = await proc.start({
          collectorJs,
          dataDir,
          interval: this.settings.intervalSeconds,
          configFile,
          onLine: (line, stream) => {
            // The collector's own level, and only the channel's timestamp.
            const l = parseCollectorLogLine(line, stream === 'stderr' ? 'warn' : 'info');
            this.collectorLog[l.level](l.text);
          },
        });
      } catch (e) {
        this.local = undefined;
        const msg = (e as Error).message;
        this.collectorLog.error(msg);
        this.addFailedLocal(msg);
        throw e;
      }
      this.log.info(`started the local collector (pid ${ep.pid}, ${ep.url})`);
    }
    this.localEndpoint = ep;
    const existing = this.get(LOCAL_ID);
    if (existing instanceof CollectorClient && existing.url === new URL(ep.url).origin) {
      existing.reconnect();
      return;
    }
    this.add(
      new CollectorClient({
        id: LOCAL_ID,
        name: `${os.hostname()} (local)`,
        kind: 'local',
        url: ep.url,
        token: ep.token,
        log: (level, m) => this.log[level](m),
      }),
    );
  }

  /** Shows a local connection that could not start, as an error item. */
  private addFailedLocal(reason: string): void {
    this.add(new FailedConnection(LOCAL_ID, `${os.hostname()} (local)`, 'local', `cannot start the local collector: ${reason}`));
  }

  private writeLocalConfig(): string {
    const dir = this.ctx.globalStorageUri.fsPath;
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'local-collector.json');
    fs.writeFileSync(file, JSON.stringify(localCollectorConfig(this.settings), null, 2) + '\n', { mode: 0o600 });
    return file;
  }

  private onLocalExit(code: number | null, signal: string | null): void {
    this.collectorLog.warn(`the local collector exited unexpectedly (${signal ?? `code ${code}`})`);
    this.localEndpoint = undefined;
    const now = Date.now();
    this.restarts = this.restarts.filter((t) => now - t < RESTART_WINDOW_MS);
    if (this.disposed || this.closedByUser.has(LOCAL_ID)) return;
    if (this.restarts.length >= MAX_RESTARTS) {
      const msg = `the local collector exited ${MAX_RESTARTS} times in ${RESTART_WINDOW_MS / 60_000} min; not restarting (see "Rigwatch: Show Collector Log")`;
      this.collectorLog.error(msg);
      this.addFailedLocal(msg);
      return;
    }
    this.restarts.push(now);
    setTimeout(() => {
      if (!this.disposed && !this.closedByUser.has(LOCAL_ID))
        this.startLocal().catch((e: Error) => this.log.error(`restarting the local collector failed: ${e.message}`));
    }, RESTART_DELAY_MS);
  }

  /** Disconnects the local connection and stops the child if this window started it. */
  async stopLocal(): Promise<void> {
    this.closedByUser.add(LOCAL_ID);
    await this.localStartPending?.catch(() => {});
    this.remove(LOCAL_ID);
    const proc = this.local;
    this.local = undefined;
    this.localEndpoint = undefined;
    if (proc) {
      this.collectorLog.info('stopping the local collector');
      await proc.stop();
    }
  }

  /** Adds a configured collector: stores the token in SecretStorage and the entry in user settings (see settings-target.ts). */
  async addCollector(name: string, url: string, token: string | undefined): Promise<Connection> {
    const parsed = parseCollectorUrl(url);
    const tok = token ?? parsed.token;
    if (tok) await this.ctx.secrets.store(tokenKey(name), tok);
    else await this.ctx.secrets.delete(tokenKey(name));
    const cfg = vscode.workspace.getConfiguration(SECTION);
    const list = (cfg.get<CollectorSetting[]>('collectors', []) ?? []).filter((c) => c.name !== name);
    list.push({ name, url: parsed.base.origin });
    this.closedByUser.delete(`collector:${name}`);
    // Window-scoped: the user settings, unless a remote window keeps its list in the remote's settings.
    await cfg.update('collectors', list, vscode.ConfigurationTarget.Global);
    const where = collectorsLocation(vscode.env.remoteName, cfg.inspect('collectors') as InspectedValue | undefined);
    this.log.info(`saved collector "${name}" (${parsed.base.origin}) in ${describeLocation(where, vscode.env.remoteName)}`);
    this.settings = readSettings();
    await this.syncConfigured(true, name);
    return this.get(`collector:${name}`)!;
  }

  /** Disconnects a connection; a configured collector is also removed from settings and its token deleted. */
  async disconnect(id: string): Promise<void> {
    if (id === LOCAL_ID) return this.stopLocal();
    const conn = this.get(id);
    this.closedByUser.add(id);
    this.remove(id);
    if (conn?.kind === 'collector') {
      const cfg = vscode.workspace.getConfiguration(SECTION);
      const list = (cfg.get<CollectorSetting[]>('collectors', []) ?? []).filter((c) => `collector:${c.name}` !== id);
      await this.ctx.secrets.delete(tokenKey(conn.name));
      await cfg.update('collectors', list, vscode.ConfigurationTarget.Global);
    }
  }

  /** Makes configured-collector connections match settings; `force` reconnects `name` even if unchanged. */
  private async syncConfigured(force = false, name?: string): Promise<void> {
    const wanted = new Map(this.settings.collectors.map((c) => [`collector:${c.name}`, c]));
    for (const c of this.list()) if (c.kind === 'collector' && !wanted.has(c.id)) this.remove(c.id);
    for (const [id, c] of wanted) {
      if (this.closedByUser.has(id)) continue;
      const existing = this.get(id);
      const token = await this.ctx.secrets.get(tokenKey(c.name));
      const key = `${c.url}\u0000${token ?? ''}`;
      if (existing && this.configKeys.get(id) === key && !(force && c.name === name)) continue;
      this.configKeys.set(id, key);
      let conn: Connection;
      try {
        conn = new CollectorClient({ id, name: c.name, kind: 'collector', url: c.url, token, log: (level, m) => this.log[level](m) });
      } catch (e) {
        conn = new FailedConnection(id, c.name, 'collector', `bad collector URL in settings: ${(e as Error).message}`);
      }
      this.add(conn);
    }
  }

  private readonly configKeys = new Map<string, string>();

  /** Snapshot of one connection for the pure view builders. */
  static snapshot(c: Connection): ConnectionSnapshot {
    return {
      id: c.id,
      name: c.name,
      kind: c.kind,
      state: c.state,
      reason: c.reason,
      hello: c.model.hello,
      latest: c.model.latest,
      sources: c.model.sources,
      alerts: c.model.alertList(),
    };
  }

  /** Stops everything this window started. */
  async shutdown(): Promise<void> {
    this.disposed = true;
    for (const id of [...this.conns.keys()]) this.remove(id);
    const proc = this.local;
    this.local = undefined;
    await proc?.stop();
  }

  /** Disposes synchronously (the child is signalled; deactivate awaits shutdown()). */
  dispose(): void {
    void this.shutdown();
    this.listEmitter.dispose();
    this.eventEmitter.dispose();
  }
}

/** A connection that could not even be created (bad URL, collector failed to start): shown as an error item. */
export class FailedConnection implements Connection {
  readonly state = 'failed' as const;
  readonly model = new CollectorModel();
  readonly onDidChangeState: Connection['onDidChangeState'] = () => ({ dispose() {} });
  readonly onDidReceive: Connection['onDidReceive'] = () => ({ dispose() {} });

  constructor(
    readonly id: string,
    readonly name: string,
    readonly kind: string,
    readonly reason: string,
  ) {}

  request(): Promise<never> {
    return Promise.reject(new Error(`${this.name}: ${this.reason}`));
  }

  send(): void {}

  reconnect(): void {}

  dispose(): void {}
}
