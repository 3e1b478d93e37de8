// File handshake between the Mocha suite running inside the extension host and the Playwright runner
// outside: the suite writes `<dir>/<n>.request.json`, the runner acts on the workbench page and writes
// `<n>.response.json`. Lets in-VS Code tests check what the user actually sees.

/** A UI operation the runner performs. */
export type UiRequest =
  | { op: 'statusbar' }
  | { op: 'notifications' }
  | { op: 'palette'; command: string }
  | { op: 'webviewText'; waitFor?: string; timeoutMs?: number }
  | { op: 'treeRows'; container: string; waitFor?: string; timeoutMs?: number }
  | { op: 'query'; selector: string };

/** The runner's answer. */
export interface UiResponse {
  ok: boolean;
  error?: string;
  /** Texts found (status bar items, toasts, tree rows, webview text). */
  texts?: string[];
}

/** Environment variable naming the handshake directory (set by the runner in extensionEnvironment). */
export const UI_DIR_ENV = 'RIGWATCH_UI_DIR';
