// The client core: one collector connection's state machine, shared by the extension (Node `ws`) and
// the dashboard in a browser (the page's WebSocket). A transport opens sockets and makes HTTP calls;
// the core decides everything else — decoding (full or compact stream), going live on hello, the
// watchdog for a silent peer, reconnecting with the one backoff, backfilling the gap with `since` after
// a reconnect, and falling back to HTTP polling when the socket keeps failing but HTTP answers.
// No Node, DOM or vscode imports: timers are the language's own.

import type { ConnectionState } from '../protocol/bridge';
import { decodeServerMessage } from '../protocol/guards';
import type { ClientMessage, HelloMessage, ServerMessage } from '../protocol/messages';
import { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';
import { CompactStream } from './compact-stream';
import { BACKFILL_ID_PREFIX } from './history-query';
import { pollDelay, PollTranslator } from './http-poll';

/** Minimum silence before the peer is considered dead, in ms (samples normally arrive every interval). */
export const WATCHDOG_MIN_MS = 10_000;
/** Silence, in sample intervals, before the peer is considered dead (when longer than the minimum). */
export const WATCHDOG_INTERVALS = 3;
/** Consecutive socket attempts that never opened (while HTTP answers) before switching to HTTP polling. */
export const POLL_AFTER_FAILURES = 3;

/** What a transport's socket reports to the core. */
export interface SocketEvents {
  /** The socket opened (the hello is still to come). */
  opened(): void;
  /** A text frame arrived. */
  text(data: string): void;
  /** The socket failed or closed; `fatal` when retrying cannot help (bad token, not a collector). */
  failed(reason: string, fatal?: boolean): void;
}

/** An open (or opening) socket. */
export interface SocketLink {
  send(text: string): void;
  /** Closes without reporting back. */
  close(): void;
}

/** How a program reaches a collector: its socket and the two HTTP calls the core needs. */
export interface ClientTransport {
  /** Opens a socket (`compact`: ask for the compact stream); reports through `events`. */
  openSocket(events: SocketEvents, compact: boolean): SocketLink;
  /** True when the collector answers HTTP (`/healthz`). */
  httpAlive(): Promise<boolean>;
  /** The body of `GET /api/current`. */
  fetchCurrent(): Promise<unknown>;
}

/** What the core reports to its program. */
export interface ClientCoreEvents {
  /** Every decoded message, from the socket or translated from polling. */
  message(m: ServerMessage): void;
  /** State changes, with the user-facing reason for anything but `live`. */
  state(state: ConnectionState, reason: string | undefined): void;
  /** The socket went away (pending requests should fail with this reason). */
  lost?(reason: string): void;
  /** Diagnostics (never a token). */
  log?(level: 'info' | 'warn' | 'error', message: string): void;
}

/** Tuning of one connection. */
export interface ClientCoreOptions {
  /** Display name, for log lines. */
  name: string;
  backoff?: BackoffOptions;
  /** Ask for the compact sample stream (thin links such as an SSH tunnel). */
  compact?: boolean;
  /** After a reconnect, ask for every series' raw samples since the last one received. */
  backfill?: boolean;
  /** Random source for the backoff jitter (tests). */
  random?: () => number;
}

type Timer = ReturnType<typeof setTimeout>;

/** One collector connection's state machine. */
export class ClientCore {
  private readonly backoff: Backoff;
  private socket: SocketLink | undefined;
  private attempt = 0;
  private retryTimer: Timer | undefined;
  private watchdog: Timer | undefined;
  private pollTimer: Timer | undefined;
  private translator: PollTranslator | undefined;
  private _state: ConnectionState = 'connecting';
  private _reason: string | undefined;
  private _hello: HelloMessage | undefined;
  private live = false;
  private everLive = false;
  private fatal = false;
  private disposed = false;
  private socketFailures = 0;
  private opened = false;
  private lastFailure: string | undefined;
  private lastSampleT: number | undefined;
  /** The last sample before the live socket went away: where the gap to backfill starts. */
  private gapSince: number | undefined;
  private backfills = 0;

  constructor(
    private readonly transport: ClientTransport,
    private readonly events: ClientCoreEvents,
    private readonly opts: ClientCoreOptions,
  ) {
    this.backoff = new Backoff(opts.backoff ?? DEFAULT_BACKOFF, opts.random);
  }

  /** Current state. */
  get state(): ConnectionState {
    return this._state;
  }

  /** Why the state is what it is (anything but `live`). */
  get reason(): string | undefined {
    return this._reason;
  }

  /** The last hello (socket or polling). */
  get hello(): HelloMessage | undefined {
    return this._hello;
  }

  /** True while the socket is live (requests can go over it). */
  get socketLive(): boolean {
    return this.live && this.socket !== undefined;
  }

  /** Opens the first socket. */
  start(): void {
    this.open();
  }

  /** Sends a message over the live socket; false when there is none. */
  send(m: ClientMessage): boolean {
    if (!this.socketLive) return false;
    this.socket!.send(JSON.stringify(m));
    return true;
  }

  /** Reconnects now, forgetting a fatal error and the backoff. */
  reconnect(): void {
    if (this.disposed) return;
    this.fatal = false;
    this.backoff.reset();
    this.socketFailures = 0;
    this.closeSocket();
    this.clear('retryTimer');
    this.setState(this.everLive ? 'reconnecting' : 'connecting', undefined);
    this.open();
  }

  /** Closes the socket and every timer; reports `disconnected`. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.closeSocket();
    this.clear('retryTimer');
    this.stopPolling();
    this.setState('disconnected', undefined);
  }

  // ---- socket ----

  private open(): void {
    if (this.disposed || this.fatal) return;
    const attempt = ++this.attempt;
    const current = (): boolean => attempt === this.attempt && !this.disposed;
    // Compact mode: one decoder per socket (its key dictionary starts with each hello).
    const stream = this.opts.compact ? new CompactStream() : undefined;
    this.live = false;
    this.opened = false;
    this.socket = this.transport.openSocket(
      {
        opened: () => {
          if (!current()) return;
          this.opened = true;
          this.armWatchdog();
        },
        text: (data) => {
          if (!current()) return;
          this.armWatchdog();
          let m: ServerMessage | undefined;
          try {
            m = stream ? stream.decode(data) : decodeServerMessage(data);
          } catch (err) {
            // A malformed message is reported and skipped; the connection keeps serving.
            this.log('warn', `${this.opts.name}: ${(err as Error).message}`);
            return;
          }
          if (m) this.receive(m);
        },
        failed: (reason, fatal) => {
          if (!current()) return;
          if (fatal) this.fatal = true;
          this.onFailure(reason);
        },
      },
      this.opts.compact ?? false,
    );
  }

  private receive(m: ServerMessage): void {
    const reconnected = m.type === 'hello' && this.everLive;
    // Samples polled meanwhile do not fill the gap before them: backfill from where the socket was lost.
    const since = this.gapSince ?? this.lastSampleT;
    if (m.type === 'hello') {
      this.gapSince = undefined;
      this._hello = m;
      this.socketFailures = 0;
      this.backoff.reset();
      this.stopPolling();
      this.live = true;
      this.everLive = true;
    }
    this.noteSample(m);
    this.events.message(m);
    if (m.type === 'hello') {
      this.setState('live', undefined);
      if (reconnected && since !== undefined && this.opts.backfill) this.backfill(since);
    }
  }

  /** Asks for the raw samples missed while away; the reply arrives like any message. */
  private backfill(since: number): void {
    this.log('info', `${this.opts.name}: reconnected; backfilling samples after ${new Date(since).toISOString()}`);
    this.send({ type: 'history', id: `${BACKFILL_ID_PREFIX}${++this.backfills}`, series: ['*'], since });
  }

  private onFailure(reason: string): void {
    if (this.disposed) return;
    if (this.live && this.gapSince === undefined) this.gapSince = this.lastSampleT;
    this.socket?.close();
    this.socket = undefined;
    this.live = false;
    this.clear('watchdog');
    this.events.lost?.(reason);
    // A socket that opened and then went away says WebSockets work: only attempts that never opened
    // count towards polling.
    this.socketFailures = this.opened ? 0 : this.socketFailures + 1;
    this.opened = false;
    this.lastFailure = reason;
    if (this.fatal) {
      this.log('error', `${this.opts.name}: ${reason}`);
      this.stopPolling();
      this.setState('failed', reason);
      return;
    }
    const delay = this.backoff.next();
    const retry = `retrying in ${Math.max(1, Math.round(delay / 1000))} s`;
    this.log('warn', `${this.opts.name}: ${reason}; ${retry}`);
    if (this._state !== 'polling') this.setState(this.everLive ? 'reconnecting' : 'failed', `${reason}; ${retry}`);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.open();
    }, delay);
    if (this.socketFailures >= POLL_AFTER_FAILURES && !this.translator) void this.maybePoll();
  }

  private armWatchdog(): void {
    this.clear('watchdog');
    const ms = Math.max(WATCHDOG_MIN_MS, WATCHDOG_INTERVALS * (this._hello?.intervalMs ?? 1000));
    this.watchdog = setTimeout(() => {
      if (!this.socket) return;
      this.log('warn', `${this.opts.name}: no message for ${ms / 1000} s; reconnecting`);
      this.onFailure(`no data from the collector for ${ms / 1000} s`);
    }, ms);
  }

  private closeSocket(): void {
    const s = this.socket;
    this.socket = undefined;
    this.live = false;
    this.attempt++;
    this.clear('watchdog');
    s?.close();
  }

  // ---- HTTP polling ----

  private async maybePoll(): Promise<void> {
    const translator = new PollTranslator();
    this.translator = translator;
    let alive = false;
    try {
      alive = await this.transport.httpAlive();
    } catch {
      alive = false;
    }
    if (!alive || this.disposed || this.live || this.translator !== translator) {
      // HTTP is down too: nothing to poll; the socket retries continue.
      if (this.translator === translator) this.translator = undefined;
      return;
    }
    const why = this.lastFailure ?? 'unknown';
    this.log('warn', `${this.opts.name}: WebSocket keeps failing (${why}) but HTTP answers; polling /api/current`);
    this.setState('polling', `WebSocket unavailable (${why}); polling over HTTP`);
    const tick = async (): Promise<void> => {
      if (this.translator !== translator || this.disposed) return;
      try {
        const body = await this.transport.fetchCurrent();
        if (this.translator !== translator || this.disposed) return;
        for (const m of translator.translate(body)) {
          if (m.type === 'hello') this._hello = m;
          this.noteSample(m);
          this.events.message(m);
        }
      } catch (err) {
        // HTTP failed too: back to reconnecting; polling resumes once HTTP answers again.
        if (this.translator !== translator) return;
        const reason = `polling failed: ${(err as Error).message}`;
        this.log('warn', `${this.opts.name}: ${reason}`);
        this.stopPolling();
        this.setState(this.everLive ? 'reconnecting' : 'failed', reason);
        this.socketFailures = 0;
        return;
      }
      this.pollTimer = setTimeout(() => void tick(), pollDelay(translator.intervalMs));
    };
    await tick();
  }

  private stopPolling(): void {
    this.translator = undefined;
    this.clear('pollTimer');
  }

  // ---- helpers ----

  private noteSample(m: ServerMessage): void {
    const t = m.type === 'sample' ? m.t : m.type === 'hello' ? m.latest?.t : undefined;
    if (t !== undefined && (this.lastSampleT === undefined || t > this.lastSampleT)) this.lastSampleT = t;
  }

  private clear(k: 'retryTimer' | 'watchdog' | 'pollTimer'): void {
    const t = this[k];
    if (t !== undefined) clearTimeout(t);
    this[k] = undefined;
  }

  private setState(state: ConnectionState, reason: string | undefined): void {
    if (state === this._state && reason === this._reason) return;
    this._state = state;
    this._reason = reason;
    this.events.state(state, reason);
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.events.log?.(level, message);
  }
}
