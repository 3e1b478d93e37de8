// File handshake between the Mocha suite running inside the extension host and the Playwright runner
// outside: the suite writes `<dir>/<n>.request.json`, the runner acts on the workbench page and writes
// `<n>.response.json`. Lets in-VS Code tests check what the user actually sees.

/** A UI operation the runner performs. */
export type UiRequest =
  | { op: 'statusbar' }
  | { op: 'notifications' }
  | { op: 'palette'; command: string }
  | { op: 'webviewText'; waitFor?: string; timeoutMs?: number }
  /** Rows of the sidebar's trees; with `waitFor`, waits until some row contains it (each of them, for a list). */
  | { op: 'treeRows'; container: string; waitFor?: string | string[]; timeoutMs?: number }
  | { op: 'query'; selector: string }
  /** Resizes the page (the workbench window). */
  | { op: 'viewport'; width: number; height: number }
  /** Writes a PNG of the whole workbench page to `file`. */
  | { op: 'screenshot'; file: string }
  /** Boxes of the elements matching `selector` (with `hasText`), in the workbench or the dashboard webview: texts are JSON of ElementBox. */
  | { op: 'measure'; selector: string; hasText?: string; inWebview?: boolean }
  /** Hovers the first element matching `selector` with `hasText` and waits for a hover widget; texts = [its text]. */
  | { op: 'hover'; selector: string; hasText: string; timeoutMs?: number }
  /** Moves the mouse to a corner (closes hovers). */
  | { op: 'unhover' }
  /** Clicks an element inside the dashboard webview (CSS, through shadow roots). */
  | { op: 'webviewClick'; selector: string };

/** An element's text and box as measured in the page (the `measure` op). */
export interface ElementBox {
  text: string;
  scrollWidth: number;
  clientWidth: number;
  left: number;
  right: number;
  /** Width of the page's viewport (of the frame, for webview elements). */
  viewportWidth: number;
  /** Right edge of the nearest clipping ancestor (or the viewport). */
  clipRight: number;
  visible: boolean;
}

/** The runner's answer. */
export interface UiResponse {
  ok: boolean;
  error?: string;
  /** Texts found (status bar items, toasts, tree rows, webview text). */
  texts?: string[];
}

/** Environment variable naming the handshake directory (set by the runner in extensionEnvironment). */
export const UI_DIR_ENV = 'RIGWATCH_UI_DIR';
