// The seam every kind of connection plugs into: a local collector, a configured collector URL, an SSH
// tunnel to a remote collector, a Prometheus-backed fleet view. Views, commands and the panel only use
// this interface. Free of the vscode module.

import type { ConnectionState } from '../../protocol/bridge';
import type { ClientMessage, HistoryReplyMessage, ResultMessage, ServerMessage } from '../../protocol/messages';
import type { CollectorModel } from './collector-model';
import type { Disposable, Event } from './events';

/** A request without its id; the connection assigns one. */
export type ClientRequest = ClientMessage extends infer M ? (M extends ClientMessage ? Omit<M, 'id'> : never) : never;

/** The reply to a request: `history` for history, `result` for everything else. */
export type RequestReply = HistoryReplyMessage | ResultMessage;

/** A state change, with the user-facing reason for failed/reconnecting/polling. */
export interface ConnectionStateChange {
  state: ConnectionState;
  reason?: string;
}

/** One collector the extension talks to. */
export interface Connection extends Disposable {
  /** Unique, stable id (`local`, `collector:<name>`, `ssh:<host>`…); used in tree ids and commands. */
  readonly id: string;
  /** Display name. */
  readonly name: string;
  /** Kind of connection, for icons and context menus (`local`, `collector`, `ssh`, `prometheus`). */
  readonly kind: string;
  /** Current state. */
  readonly state: ConnectionState;
  /** Why the state is what it is, for anything but `live`. Never contains a token. */
  readonly reason: string | undefined;
  /** Everything known so far (latest snapshot, sources, alerts, logging). */
  readonly model: CollectorModel;
  /** Fires on every state change. */
  readonly onDidChangeState: Event<ConnectionStateChange>;
  /** Fires for every decoded message from the collector, including backfill history replies. */
  readonly onDidReceive: Event<ServerMessage>;
  /** Sends a request and resolves with its reply (rejects with a readable error on timeout/failure). */
  request(msg: ClientRequest): Promise<RequestReply>;
  /** Sends a message whose reply arrives on `onDidReceive` (used to relay webview requests). */
  send(msg: ClientMessage): void;
  /** Reconnects at once (after a settings change or a user's "retry"). */
  reconnect(): void;
}

/** Builds a connection of one kind from a user's configuration entry; later connection kinds register here. */
export interface ConnectionFactory<C> {
  readonly kind: string;
  create(config: C): Connection;
}
