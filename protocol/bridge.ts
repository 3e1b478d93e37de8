// Messages between the VS Code extension (panel host) and the dashboard webview over postMessage.
// In a browser the dashboard speaks ServerMessage/ClientMessage over the WebSocket directly; inside
// VS Code the extension relays the same messages wrapped in these envelopes.

import type { ClientMessage, ServerMessage } from './messages';

/** Connection state of a client, as shown to users. */
export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'polling' | 'failed' | 'disconnected';

/**
 * Extension → webview. A `connection` envelope with `canStartLocal` says the shown connection is the
 * local collector the user stopped: the dashboard offers a Start button. `openRun` shows a run's page.
 */
export type HostToWebview =
  | { kind: 'server'; message: ServerMessage }
  | { kind: 'connection'; state: ConnectionState; reason?: string; name: string; canStartLocal?: boolean }
  | { kind: 'openRun'; runId: string };

/** Webview → extension; `startLocal` asks the extension to run "Start Local Collector". */
export type WebviewToHost = { kind: 'ready' } | { kind: 'startLocal' } | { kind: 'client'; message: ClientMessage };

/** Guards a webview → host envelope (the extension validates everything it receives). */
export function isWebviewToHost(x: unknown): x is WebviewToHost {
  if (typeof x !== 'object' || x === null) return false;
  const k = (x as { kind?: unknown }).kind;
  return k === 'ready' || k === 'startLocal' || (k === 'client' && typeof (x as { message?: unknown }).message === 'object');
}
