// A collector on a remote box reached over the system `ssh`: `SshRemote` deploys/starts/reuses the
// remote collector and forwards a local port to it over one ControlMaster connection; an ordinary
// collector client (compact sample stream, for the thin link) talks to it through that port. The state
// users see is honest about which layer is at fault: "deploying to host…" while ssh works, the ssh
// reason while the link is down and being re-established, the RemoteError message when it cannot work
// (no node on the remote, host key, permission), and the client's own state once the tunnel is up.
// Disposing closes the tunnel only; the remote collector keeps running (history accumulates) until the
// user stops it with `stopRemoteCollector()` or its idle timeout ends it. Free of the vscode module.

import type { ConnectionState } from '../../protocol/bridge';
import type { ClientMessage, ServerMessage } from '../../protocol/messages';
import { RemoteError, SshRemote, type DownInfo, type RemoteCollector, type SshOptions, type SshTarget } from '../../remote/ssh';
import { Backoff, type BackoffOptions } from '../../client/backoff';
import { CollectorClient } from './collector-client';
import { CollectorModel } from './collector-model';
import type { ClientRequest, Connection, ConnectionStateChange, RequestReply } from './connection';
import { Emitter, type Disposable } from './events';

/** Kind of an SSH connection. */
export const SSH_KIND = 'ssh';
/** Retry delays for a first connect that failed for a passing reason (network, timeout): 2 s … 60 s. */
export const SSH_FIRST_CONNECT_BACKOFF: BackoffOptions = { initialMs: 2_000, maxMs: 60_000, factor: 2, jitter: 0.2 };

/** How long the client may fail to reach the collector through a working tunnel before the remote side is checked (and the collector restarted if it died), in ms. */
export const CLIENT_STUCK_RESTART_MS = 15_000;

/** What SshConnection needs of SshRemote (tests pass a fake). */
export type SshRemoteLike = Pick<SshRemote, 'connect' | 'stopRemote' | 'close' | 'on' | 'removeAllListeners'>;

/** How the client behind the tunnel is made (tests pass a fake). */
export type TunnelClientFactory = (o: {
  id: string;
  name: string;
  kind: string;
  url: string;
  token: string;
  log: (level: 'info' | 'warn' | 'error', m: string) => void;
}) => Connection;

/** Options of an SSH connection. */
export interface SshConnectionOptions {
  target: SshTarget;
  /** The collector bundle deployed to the remote (the extension's dist/collector.js). */
  bundlePath: string;
  /** Extra ssh arguments (tests: `-F <config>`); the user's normal ssh config applies otherwise. */
  sshArgs?: string[];
  /** ssh binary (default `ssh` on PATH). */
  sshPath?: string;
  /** Remote collector's idle timeout in hours (0 = never). */
  idleTimeoutHours?: number;
  /** Remote sample interval in seconds. */
  interval?: number;
  /** Diagnostics sink (never receives the token). */
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Test seams. */
  remoteFactory?: (o: SshOptions) => SshRemoteLike;
  clientFactory?: TunnelClientFactory;
  firstConnectBackoff?: BackoffOptions;
  /** See CLIENT_STUCK_RESTART_MS. */
  restartAfterMs?: number;
}

/** `ssh:<destination>[:port]`: the id of the connection to a target. */
export function sshConnectionId(t: SshTarget): string {
  return `ssh:${sshTargetText(t)}`;
}

/** `destination[:port]`, as the user typed it. */
export function sshTargetText(t: SshTarget): string {
  return t.port ? `${t.destination}:${t.port}` : t.destination;
}

/** Where the ssh layer is. */
type Phase = 'deploying' | 'up' | 'down' | 'failed' | 'stopped' | 'closed';

const RETRY_LOG_RE = /^reconnecting to .+ in ([\d.]+) s$/;

function defaultClient(o: Parameters<TunnelClientFactory>[0]): Connection {
  return new CollectorClient({ ...o, compact: true });
}

/** A remote collector over ssh, as one Connection. */
export class SshConnection implements Connection {
  readonly id: string;
  readonly name: string;
  readonly kind = SSH_KIND;
  /** Everything received from the remote collector, kept across tunnel and client restarts. */
  readonly model = new CollectorModel();
  private readonly stateEmitter = new Emitter<ConnectionStateChange>();
  private readonly receiveEmitter = new Emitter<ServerMessage>();
  private readonly backoff: Backoff;
  private remote: SshRemoteLike | undefined;
  private client: Connection | undefined;
  private clientSubs: Disposable[] = [];
  private clientKey = '';
  private phase: Phase = 'deploying';
  private phaseReason: string | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stuckTimer: NodeJS.Timeout | undefined;
  private retrySeconds: number | undefined;
  private everUp = false;
  private nextId = 0;
  private _state: ConnectionState = 'connecting';
  private _reason: string | undefined;
  private _remoteInfo: RemoteCollector | undefined;
  private readonly log: NonNullable<SshConnectionOptions['log']>;

  /** Fires on every state change. */
  readonly onDidChangeState = this.stateEmitter.event;
  /** Fires for every message from the remote collector (including backfill replies). */
  readonly onDidReceive = this.receiveEmitter.event;

  constructor(private readonly opts: SshConnectionOptions) {
    this.id = sshConnectionId(opts.target);
    this.name = sshTargetText(opts.target);
    this.log = opts.log ?? (() => {});
    this.backoff = new Backoff(opts.firstConnectBackoff ?? SSH_FIRST_CONNECT_BACKOFF);
    this.phaseReason = `deploying to ${this.name}…`;
    this._reason = this.phaseReason;
    this.start();
  }

  /** Current state. */
  get state(): ConnectionState {
    return this._state;
  }

  /** Why, for anything but live. */
  get reason(): string | undefined {
    return this._reason;
  }

  /** The remote collector of the last successful deploy (pid, ports, node version; the token stays inside). */
  get remoteInfo(): Omit<RemoteCollector, 'token'> | undefined {
    if (!this._remoteInfo) return undefined;
    const { token: _t, ...rest } = this._remoteInfo;
    return rest;
  }

  /** Deploys and connects again now (a user's "retry", or after a failure). */
  reconnect(): void {
    if (this.phase === 'closed' || this.phase === 'stopped') return;
    if (this.phase === 'up' && this.client) {
      this.client.reconnect();
      return;
    }
    if (this.phase === 'down') return; // SshRemote is already re-establishing the link with its backoff.
    this.backoff.reset();
    this.start();
  }

  /** Sends a request through the tunnel. */
  request(msg: ClientRequest): Promise<RequestReply> {
    if (!this.client) return Promise.reject(new Error(`${this.name} is ${this._state}${this._reason ? `: ${this._reason}` : ''}`));
    return this.client.request(msg);
  }

  /** Sends a message whose reply arrives on `onDidReceive`. */
  send(msg: ClientMessage): void {
    if (this.client) return this.client.send(msg);
    this.receiveEmitter.fire({ type: 'result', id: msg.id, ok: false, error: `${this.name} is ${this._state}${this._reason ? `: ${this._reason}` : ''}` });
  }

  /** Stops the remote collector (its history stays on the remote disk), then closes the tunnel. Resolves true if one was running. */
  async stopRemoteCollector(): Promise<boolean> {
    const remote = this.remote ?? this.makeRemote();
    this.remote = remote;
    this.clearRetry();
    this.dropClient();
    let stopped: boolean;
    try {
      stopped = await remote.stopRemote();
    } finally {
      this.remote = undefined;
      remote.removeAllListeners();
      await remote.close();
    }
    this.setPhase('stopped', stopped ? `the collector on ${this.name} was stopped` : `no collector was running on ${this.name}`);
    return stopped;
  }

  /** Closes the tunnel and the client; the remote collector keeps running. */
  async close(): Promise<void> {
    if (this.phase === 'closed') return;
    this.clearRetry();
    this.dropClient();
    const remote = this.remote;
    this.remote = undefined;
    this.setPhase('closed', undefined);
    this.stateEmitter.dispose();
    this.receiveEmitter.dispose();
    if (remote) {
      remote.removeAllListeners();
      await remote.close();
    }
  }

  /** Closes the tunnel (asynchronously); the remote collector keeps running. */
  dispose(): void {
    void this.close();
  }

  // ---- ssh layer ----

  private makeRemote(): SshRemoteLike {
    const o: SshOptions = {
      target: this.opts.target,
      bundlePath: this.opts.bundlePath,
      sshArgs: this.opts.sshArgs,
      sshPath: this.opts.sshPath,
      idleTimeoutHours: this.opts.idleTimeoutHours,
      interval: this.opts.interval,
      // Keep the local port across a fresh SshRemote so the client's URL stays valid.
      localPort: this._remoteInfo?.localPort,
    };
    return this.opts.remoteFactory ? this.opts.remoteFactory(o) : new SshRemote(o);
  }

  /** Starts a fresh SshRemote (the first connect, a retry after a failure, or a check of a collector that stopped answering). */
  private start(reason = `deploying to ${this.name}…`): void {
    this.clearRetry();
    const old = this.remote;
    if (old) {
      old.removeAllListeners();
      void old.close();
    }
    const remote = this.makeRemote();
    this.remote = remote;
    remote.on('log', (line: string) => this.onSshLog(remote, line));
    remote.on('up', (rc: RemoteCollector) => this.onUp(remote, rc));
    remote.on('down', (reason: string, info?: DownInfo) => this.onDown(remote, reason, info));
    this.setPhase('deploying', reason);
    remote.connect().catch((e: Error) => this.onFirstConnectError(remote, e));
  }

  private onSshLog(remote: SshRemoteLike, line: string): void {
    if (remote !== this.remote) return;
    this.log('info', `${this.name}: ${line}`);
    const m = RETRY_LOG_RE.exec(line);
    if (m) this.retrySeconds = Number(m[1]);
    // Progress while deploying ("copying the collector bundle…") is the most useful thing to show.
    if (this.phase === 'deploying' && /^copying /.test(line)) this.setPhase('deploying', `${line}…`);
  }

  private onFirstConnectError(remote: SshRemoteLike, e: Error): void {
    if (remote !== this.remote) return;
    // Once up, SshRemote re-establishes drops by itself and reports through `down`.
    if (this.phase !== 'deploying') return;
    const retry = !(e instanceof RemoteError) || e.retry;
    this.log(retry ? 'warn' : 'error', `${this.name}: ${e.message}`);
    // A fresh SshRemote per attempt: the failed one may hold a master that would reconnect on its own.
    this.remote = undefined;
    remote.removeAllListeners();
    void remote.close();
    if (!retry) {
      this.setPhase('failed', e.message);
      return;
    }
    const delay = this.backoff.next();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.start();
    }, delay);
    this.setPhase('failed', `${e.message}; retrying in ${Math.max(1, Math.round(delay / 1000))} s`);
  }

  private onUp(remote: SshRemoteLike, rc: RemoteCollector): void {
    if (remote !== this.remote) return;
    const first = !this.everUp;
    this.everUp = true;
    this._remoteInfo = rc;
    this.backoff.reset();
    this.log(
      'info',
      `${this.name}: ${rc.reused ? 'reusing the running collector' : 'started the collector'} (remote pid ${rc.remotePid}, node ${rc.nodeVersion}${rc.copied ? ', bundle copied' : ''}), tunnel on 127.0.0.1:${rc.localPort}`,
    );
    const key = `${rc.url}\u0000${rc.token}`;
    this.setPhase('up', undefined, false);
    if (this.client && key === this.clientKey) {
      // Same collector behind the same port: reconnect now; the client backfills the gap on hello.
      this.client.reconnect();
    } else {
      const since = first ? undefined : this.model.lastSampleTime;
      this.dropClient();
      this.makeClient(rc, key, since);
    }
    this.recompute();
  }

  private onDown(remote: SshRemoteLike, reason: string, info?: DownInfo): void {
    if (remote !== this.remote) return;
    if (info) {
      // SshRemote says whether and when it tries again.
      this.retrySeconds = info.retry && info.delayMs !== null ? info.delayMs / 1000 : undefined;
    } else {
      this.retrySeconds = undefined;
    }
    this.setPhase('down', reason);
    // Without DownInfo (older emitters): SshRemote logs "reconnecting … in N s" with `down` when it will
    // retry; no such line means it gave up.
    setImmediate(() => {
      if (remote !== this.remote || this.phase !== 'down') return;
      if (this.retrySeconds !== undefined) {
        this.setPhase('down', `${reason}; retrying in ${Math.max(1, Math.round(this.retrySeconds))} s`);
      } else {
        this.remote = undefined;
        remote.removeAllListeners();
        void remote.close();
        this.setPhase('failed', reason);
      }
    });
  }

  // ---- the client behind the tunnel ----

  private makeClient(rc: RemoteCollector, key: string, backfillSince: number | undefined): void {
    const client = (this.opts.clientFactory ?? defaultClient)({ id: this.id, name: this.name, kind: SSH_KIND, url: rc.url, token: rc.token, log: this.log });
    this.client = client;
    this.clientKey = key;
    let pendingBackfill = backfillSince;
    this.clientSubs = [
      client.onDidChangeState(() => {
        this.watchClient();
        this.recompute();
      }),
      client.onDidReceive((msg) => {
        if (client !== this.client) return;
        this.model.apply(msg);
        this.receiveEmitter.fire(msg);
        if (msg.type === 'hello' && pendingBackfill !== undefined) {
          // A new client (the remote collector was restarted) has no `since` of its own: ask for our gap.
          const since = pendingBackfill;
          pendingBackfill = undefined;
          client.send({ type: 'history', id: `backfill-ssh${++this.nextId}`, series: ['*'], since });
        }
      }),
    ];
  }

  /**
   * The tunnel is up but the client cannot reach the collector (it crashed, was killed, or the forward
   * broke): after a while, run the connect steps again on a fresh ssh connection — they find the
   * collector dead and start a new one (the new client then backfills from its history), or find it
   * alive and re-forward.
   */
  private watchClient(): void {
    const c = this.client;
    const stuck = this.phase === 'up' && c && (c.state === 'reconnecting' || c.state === 'failed' || c.state === 'connecting');
    if (!stuck) {
      this.clearStuck();
      return;
    }
    if (this.stuckTimer) return;
    const ms = this.opts.restartAfterMs ?? CLIENT_STUCK_RESTART_MS;
    this.stuckTimer = setTimeout(() => {
      this.stuckTimer = undefined;
      const cl = this.client;
      if (this.phase !== 'up' || !cl || cl.state === 'live' || cl.state === 'polling') return;
      const why = `the collector on ${this.name} does not answer through the tunnel${cl.reason ? ` (${cl.reason})` : ''}`;
      this.log('warn', `${this.name}: ${why}; checking the remote side`);
      this.start(`${why}; checking it and restarting it if needed…`);
    }, ms);
  }

  private clearStuck(): void {
    if (this.stuckTimer) clearTimeout(this.stuckTimer);
    this.stuckTimer = undefined;
  }

  private dropClient(): void {
    this.clearStuck();
    for (const s of this.clientSubs) s.dispose();
    this.clientSubs = [];
    this.client?.dispose();
    this.client = undefined;
    this.clientKey = '';
  }

  // ---- state ----

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private setPhase(phase: Phase, reason: string | undefined, emit = true): void {
    if (phase !== 'up') this.clearStuck();
    this.phase = phase;
    this.phaseReason = reason;
    if (emit) this.recompute();
  }

  /** The user-facing state: the ssh layer's while it is not up, the client's once it is. */
  private recompute(): void {
    let state: ConnectionState;
    let reason: string | undefined;
    switch (this.phase) {
      case 'deploying':
        // Checking a host that was live is a reconnect to the user, not a first connect.
        state = this.everUp ? 'reconnecting' : 'connecting';
        reason = this.phaseReason;
        break;
      case 'down':
        state = 'reconnecting';
        reason = this.phaseReason;
        break;
      case 'failed':
        state = this.everUp && this.retryTimer ? 'reconnecting' : 'failed';
        reason = this.phaseReason;
        break;
      case 'stopped':
      case 'closed':
        state = 'disconnected';
        reason = this.phaseReason;
        break;
      case 'up': {
        const c = this.client;
        state = c?.state ?? 'connecting';
        reason = c?.reason;
        if (state === 'connecting' && !reason) reason = `connecting to the collector on ${this.name} through the tunnel…`;
        break;
      }
    }
    if (state === this._state && reason === this._reason) return;
    this._state = state;
    this._reason = reason;
    this.stateEmitter.fire({ state, reason });
  }
}
