// Remote boxes in the extension: SSH connections (deploy/start/tunnel a collector with the system ssh)
// and the Prometheus fleet connection, registered with the ConnectionManager through `add()`/`remove()`,
// their commands, and their settings (`rigwatch.remoteHosts`, `rigwatch.remote.idleTimeoutHours`,
// `rigwatch.prometheus`). Bearer tokens for Prometheus live in SecretStorage; SSH never sees a password
// (ssh runs with BatchMode and the user's keys/agent).

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseTarget, type SshTarget } from '../remote/ssh';
import type { Connection } from './connection/connection';
import { PrometheusConnection, parsePrometheusUrl, prometheusConnectionId, PROMETHEUS_KIND } from './connection/prometheus-connection';
import { readSshConfigHosts } from './connection/ssh-config';
import { SshConnection, sshConnectionId, sshTargetText, SSH_KIND } from './connection/ssh-connection';
import { FailedConnection, type ConnectionManager } from './connection-manager';
import { isObj, SECTION } from './settings';
import { validateWith } from './format';

/** Default idle timeout of a remote collector, in hours (it stops itself after this long without clients). */
export const DEFAULT_REMOTE_IDLE_HOURS = 24;

/** SecretStorage key of the Prometheus bearer token for a URL. */
export function prometheusTokenKey(url: string): string {
  return `rigwatch.prometheusToken:${url}`;
}

/** The remote-related settings. */
export interface RemoteSettings {
  /** `user@host[:port]` or ssh config aliases to connect at startup. */
  remoteHosts: string[];
  idleTimeoutHours: number;
  /** ssh binary; undefined = `ssh` on PATH. */
  sshPath: string | undefined;
  prometheus: { url: string; pollSeconds?: number } | undefined;
}

/** Reads the remote settings; bad entries are reported through `warn` and skipped. */
export function readRemoteSettings(warn: (m: string) => void = () => {}): RemoteSettings {
  const c = vscode.workspace.getConfiguration(SECTION);
  const hosts: string[] = [];
  const raw = c.get<unknown>('remoteHosts', []);
  if (Array.isArray(raw)) {
    raw.forEach((h, i) => {
      if (typeof h !== 'string') return warn(`rigwatch.remoteHosts[${i}] must be a string like "alice@gpu-box:22"`);
      try {
        parseTarget(h);
        if (!hosts.includes(h.trim())) hosts.push(h.trim());
      } catch (e) {
        warn(`rigwatch.remoteHosts[${i}]: ${(e as Error).message}`);
      }
    });
  }
  const idle = c.get<unknown>('remote.idleTimeoutHours', DEFAULT_REMOTE_IDLE_HOURS);
  const sshPath = c.get<unknown>('remote.sshPath', '');
  const p = c.get<unknown>('prometheus', null);
  let prometheus: RemoteSettings['prometheus'];
  if (isObj(p) && typeof p.url === 'string' && p.url.trim()) {
    try {
      prometheus = { url: parsePrometheusUrl(p.url), pollSeconds: typeof p.pollSeconds === 'number' && p.pollSeconds >= 1 ? p.pollSeconds : undefined };
    } catch (e) {
      warn(`rigwatch.prometheus.url: ${(e as Error).message}`);
    }
  }
  return {
    remoteHosts: hosts,
    idleTimeoutHours: typeof idle === 'number' && idle >= 0 && Number.isFinite(idle) ? idle : DEFAULT_REMOTE_IDLE_HOURS,
    sshPath: typeof sshPath === 'string' && sshPath.trim() ? sshPath.trim() : undefined,
    prometheus,
  };
}

/** Arguments the remote commands accept instead of asking. */
interface RemoteArgs {
  host?: string;
  connectionId?: string;
  url?: string;
  token?: string;
}

function argsOf(a: unknown): RemoteArgs {
  if (typeof a === 'string') return { host: a };
  if (typeof a !== 'object' || a === null) return {};
  const n = a as { ref?: { connectionId?: string } } & RemoteArgs;
  return n.ref ? { connectionId: n.ref.connectionId } : n;
}

/** Owns the SSH and Prometheus connections of this window. */
export class RemoteConnections implements vscode.Disposable {
  private readonly subs: vscode.Disposable[] = [];
  private settings: RemoteSettings;
  private prom: { conn: PrometheusConnection; hostIds: Set<string>; sub: vscode.Disposable } | undefined;

  constructor(
    private readonly ctx: vscode.ExtensionContext,
    private readonly manager: ConnectionManager,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.settings = readRemoteSettings((m) => log.warn(m));
    const reg = (id: string, fn: (a: RemoteArgs) => Promise<unknown>): void => {
      this.subs.push(
        vscode.commands.registerCommand(id, async (raw: unknown) => {
          try {
            return await fn(argsOf(raw));
          } catch (e) {
            void vscode.window.showErrorMessage(`Rigwatch: ${(e as Error).message}`);
            return undefined;
          }
        }),
      );
    };
    reg('rigwatch.connectRemoteHost', (a) => this.connectRemoteHostCommand(a));
    reg('rigwatch.stopRemoteCollector', (a) => this.stopRemoteCommand(a));
    reg('rigwatch.connectPrometheus', (a) => this.connectPrometheusCommand(a));
    reg('rigwatch.selectStatusBarConnection', (a) => this.selectStatusBarConnection(a));
    this.subs.push(
      vscode.workspace.onDidChangeConfiguration((e) => void this.onSettingsChanged(e)),
      // A Prometheus connection the user disconnected takes its hosts with it.
      manager.onDidChangeConnections(() => {
        if (this.prom && !manager.get(this.prom.conn.id)) this.dropPrometheus();
      }),
    );
    for (const h of this.settings.remoteHosts) this.connectSsh(h, false);
    if (this.settings.prometheus) void this.connectPrometheus(this.settings.prometheus.url, undefined, false);
  }

  /** Connects to a remote host over ssh (`user@host[:port]` or an ssh config alias); `remember` adds it to rigwatch.remoteHosts. */
  connectSsh(text: string, remember = true): Connection {
    const target: SshTarget = parseTarget(text);
    const id = sshConnectionId(target);
    const bundlePath = path.join(this.ctx.extensionPath, 'dist', 'collector.js');
    let conn: Connection;
    if (!fs.existsSync(bundlePath)) {
      conn = new FailedConnection(id, sshTargetText(target), SSH_KIND, `the bundled collector is missing (${bundlePath}); reinstall the extension`);
    } else {
      conn = new SshConnection({
        target,
        bundlePath,
        idleTimeoutHours: this.settings.idleTimeoutHours,
        sshPath: this.settings.sshPath,
        interval: this.manager.currentSettings.intervalSeconds,
        log: (level, m) => this.log[level](m),
      });
    }
    this.manager.add(conn);
    if (remember) void this.rememberHost(sshTargetText(target), true);
    return conn;
  }

  /** Connects (or reconnects) the Prometheus fleet view; `token` undefined = the one in SecretStorage. */
  async connectPrometheus(rawUrl: string, token: string | undefined, save: boolean): Promise<PrometheusConnection> {
    const url = parsePrometheusUrl(rawUrl);
    if (save) {
      if (token) await this.ctx.secrets.store(prometheusTokenKey(url), token);
      else await this.ctx.secrets.delete(prometheusTokenKey(url));
      await vscode.workspace.getConfiguration(SECTION).update('prometheus', { url }, vscode.ConfigurationTarget.Global);
    }
    const tok = token ?? (await this.ctx.secrets.get(prometheusTokenKey(url)));
    this.dropPrometheus();
    const conn = new PrometheusConnection({ url, token: tok, pollSeconds: this.settings.prometheus?.pollSeconds, log: (level, m) => this.log[level](m) });
    const hostIds = new Set<string>();
    const sub = conn.onDidChangeHosts((hosts) => {
      const now = new Set(hosts.map((h) => h.id));
      for (const id of [...hostIds]) {
        if (now.has(id)) continue;
        hostIds.delete(id);
        this.manager.remove(id);
      }
      for (const h of hosts) {
        if (hostIds.has(h.id)) continue;
        hostIds.add(h.id);
        this.manager.add(h);
      }
    });
    this.prom = { conn, hostIds, sub };
    this.manager.add(conn);
    return conn;
  }

  private dropPrometheus(): void {
    const p = this.prom;
    if (!p) return;
    this.prom = undefined;
    p.sub.dispose();
    for (const id of p.hostIds) this.manager.remove(id);
    this.manager.remove(p.conn.id);
  }

  private async rememberHost(text: string, add: boolean): Promise<void> {
    const cfg = vscode.workspace.getConfiguration(SECTION);
    const raw = cfg.get<unknown>('remoteHosts', []);
    const list = Array.isArray(raw) ? raw.filter((x): x is string => typeof x === 'string') : [];
    const has = list.some((h) => h.trim() === text);
    if (add === has) return;
    const next = add ? [...list, text] : list.filter((h) => h.trim() !== text);
    // Update our copy first so the change event does not connect or drop it a second time.
    this.settings = { ...this.settings, remoteHosts: next };
    await cfg.update('remoteHosts', next, vscode.ConfigurationTarget.Global);
  }

  private async onSettingsChanged(e: vscode.ConfigurationChangeEvent): Promise<void> {
    if (!e.affectsConfiguration(SECTION)) return;
    const before = this.settings;
    this.settings = readRemoteSettings((m) => this.log.warn(m));
    if (e.affectsConfiguration(`${SECTION}.remoteHosts`)) {
      // Only what the edit changed: a host the user disconnected this session is not brought back by an unrelated edit.
      for (const h of this.settings.remoteHosts)
        if (!before.remoteHosts.includes(h) && !this.manager.get(sshConnectionId(parseTarget(h)))) this.connectSsh(h, false);
      for (const h of before.remoteHosts) if (!this.settings.remoteHosts.includes(h)) this.manager.remove(sshConnectionId(parseTarget(h)));
    }
    if (e.affectsConfiguration(`${SECTION}.prometheus`)) {
      const p = this.settings.prometheus;
      if (!p) this.dropPrometheus();
      else if (!this.prom || this.prom.conn.id !== prometheusConnectionId(p.url) || p.pollSeconds !== before.prometheus?.pollSeconds)
        await this.connectPrometheus(p.url, undefined, false);
    }
  }

  // ---- commands ----

  private async connectRemoteHostCommand(a: RemoteArgs): Promise<string | undefined> {
    const text = a.host ?? (await this.pickHost());
    if (!text) return undefined;
    return this.connectSsh(text).id;
  }

  /** QuickPick of ~/.ssh/config hosts and remembered hosts, plus whatever the user types (checked by parseTarget). */
  private pickHost(): Promise<string | undefined> {
    type Item = vscode.QuickPickItem & { host?: string };
    const known: Item[] = [];
    const seen = new Set<string>();
    for (const h of this.settings.remoteHosts) {
      seen.add(h);
      known.push({ label: h, description: 'remembered', host: h });
    }
    let configHosts: Item[] = [];
    try {
      configHosts = readSshConfigHosts()
        .filter((h) => !seen.has(h.alias))
        .map((h) => ({
          label: h.alias,
          description: [h.user ? `${h.user}@` : '', h.hostName ?? '', h.port ? `:${h.port}` : ''].join('') || undefined,
          detail: `${h.file}:${h.line}`,
          host: h.alias,
        }));
    } catch (e) {
      this.log.warn(`reading ~/.ssh/config: ${(e as Error).message}`);
    }
    const base: Item[] = [...known, ...(configHosts.length ? [{ label: '~/.ssh/config', kind: vscode.QuickPickItemKind.Separator }, ...configHosts] : [])];
    const qp = vscode.window.createQuickPick<Item>();
    qp.title = 'Connect to Remote Host';
    qp.placeholder = 'A host from ~/.ssh/config, or user@host[:port]';
    qp.matchOnDescription = true;
    qp.ignoreFocusOut = true;
    qp.items = base;
    return new Promise((resolve) => {
      let done = false;
      const finish = (v: string | undefined): void => {
        if (done) return;
        done = true;
        resolve(v);
        qp.dispose();
      };
      qp.onDidChangeValue((v) => {
        const t = v.trim();
        if (!t || base.some((i) => i.host === t)) {
          qp.items = base;
          return;
        }
        let typed: Item;
        try {
          parseTarget(t);
          typed = { label: t, description: 'connect over ssh', host: t, alwaysShow: true };
        } catch (e) {
          typed = { label: t, description: (e as Error).message, alwaysShow: true };
        }
        qp.items = [typed, ...base];
      });
      qp.onDidAccept(() => {
        const sel = qp.selectedItems[0];
        if (!sel?.host) return; // an invalid entry: keep the picker open with its message
        finish(sel.host);
      });
      qp.onDidHide(() => finish(undefined));
      qp.show();
    });
  }

  private async stopRemoteCommand(a: RemoteArgs): Promise<boolean | undefined> {
    let conn: Connection | undefined;
    if (a.connectionId) conn = this.manager.get(a.connectionId);
    else {
      const ssh = this.manager.list().filter((c) => c.kind === SSH_KIND);
      if (ssh.length === 0) throw new Error('no remote host is connected (run "Rigwatch: Connect to Remote Host…")');
      conn =
        ssh.length === 1
          ? ssh[0]
          : (
              await vscode.window.showQuickPick(
                ssh.map((c) => ({ label: c.name, description: c.state, c })),
                { placeHolder: 'Stop the collector on which host?' },
              )
            )?.c;
    }
    if (!conn) return undefined;
    if (!(conn instanceof SshConnection)) throw new Error(`${conn.name} is not a remote host connected over SSH`);
    const stopped = await conn.stopRemoteCollector();
    this.manager.remove(conn.id);
    await this.rememberHost(conn.name, false);
    void vscode.window.showInformationMessage(
      stopped ? `Rigwatch: stopped the collector on ${conn.name} (its history stays there).` : `Rigwatch: no collector was running on ${conn.name}.`,
    );
    return stopped;
  }

  private async connectPrometheusCommand(a: RemoteArgs): Promise<string | undefined> {
    let url = a.url;
    if (!url) {
      url = await vscode.window.showInputBox({
        title: 'Connect to Prometheus',
        prompt: 'Prometheus URL (it should scrape your Rigwatch collectors; see docs/remote.md)',
        placeHolder: 'http://prometheus.lab:9090',
        value: this.settings.prometheus?.url,
        ignoreFocusOut: true,
        validateInput: validateWith(parsePrometheusUrl),
      });
      if (!url) return undefined;
    }
    let token = a.token;
    if (token === undefined && a.url === undefined) {
      token = await vscode.window.showInputBox({
        title: 'Connect to Prometheus',
        prompt: "Bearer token (leave empty if Prometheus needs none); stored in VS Code's secret storage",
        password: true,
        ignoreFocusOut: true,
      });
      if (token === undefined) return undefined;
    }
    const conn = await this.connectPrometheus(url, token || undefined, true);
    return conn.id;
  }

  private async selectStatusBarConnection(a: RemoteArgs): Promise<string | undefined> {
    let id = a.connectionId;
    if (!id) {
      const all = this.manager.list().filter((c) => c.kind !== PROMETHEUS_KIND);
      const p = await vscode.window.showQuickPick(
        [{ label: 'Automatic', description: 'the first live connection', id: '' }, ...all.map((c) => ({ label: c.name, description: c.state, id: c.id }))],
        { placeHolder: 'Which connection should the status bar show?' },
      );
      if (!p) return undefined;
      id = p.id;
    }
    await vscode.workspace.getConfiguration(SECTION).update('statusBar.connection', id, vscode.ConfigurationTarget.Global);
    return id;
  }

  /** Unregisters commands; the connections themselves belong to the manager (which closes tunnels, never remote collectors). */
  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.prom?.sub.dispose();
  }
}
