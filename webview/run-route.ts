// The run page's address: `#run=<id>` in a browser (bookmarkable, Back returns to the dashboard). Inside
// VS Code the route lives in the webview's saved state and the extension's `openRun` envelope.

/** A run id as the runs source writes them (`train-4242`, `nightly-4242-123456`). */
const RUN_ID_RE = /^[A-Za-z0-9_.-]{1,128}$/;

/** True for a string that can be a run id (anything else in an address or a message is ignored). */
export function isRunId(s: string): boolean {
  return RUN_ID_RE.test(s);
}

/** The run named by a location hash (`#run=train-42`, also after other `&`-joined parts), or null. */
export function runFromHash(hash: string): string | null {
  const m = /(?:^#|&)run=([^&]*)/.exec(hash);
  if (!m) return null;
  let id: string;
  try {
    id = decodeURIComponent(m[1]);
  } catch {
    return null;
  }
  return isRunId(id) ? id : null;
}

/** The hash for a run's page, or '' for the dashboard. */
export function hashForRun(id: string | null | undefined): string {
  return id ? `#run=${encodeURIComponent(id)}` : '';
}

/** What the hash binding needs from the store. */
export interface RouteStore {
  readonly ui: { run?: string };
  openRun(id: string | null): void;
  onChange(fn: () => void): () => void;
}

/**
 * Keeps a browser page's hash and the store's run page in step: the address opens a run's page (read
 * before the bridge takes a `#token=` fragment away), Back/Forward move between pages, and opening a run
 * in the page pushes an entry. Returns the unbinding function.
 */
export function bindHashRoute(win: Window, store: RouteStore, initialHash: string): () => void {
  store.openRun(runFromHash(initialHash));
  let shown = store.ui.run ?? null;
  const onHash = (): void => {
    const id = runFromHash(win.location.hash);
    shown = id;
    if ((store.ui.run ?? null) !== id) store.openRun(id);
  };
  const off = store.onChange(() => {
    const id = store.ui.run ?? null;
    if (id === shown) return;
    shown = id;
    const url = win.location.pathname + win.location.search + hashForRun(id);
    win.history.pushState(win.history.state, '', url);
  });
  win.addEventListener('hashchange', onHash);
  win.addEventListener('popstate', onHash);
  // The first page's address: the token fragment is gone by now; the run part is written back.
  const first = store.ui.run ?? null;
  if (first) queueMicrotask(() => win.history.replaceState(win.history.state, '', win.location.pathname + win.location.search + hashForRun(first)));
  return () => {
    off();
    win.removeEventListener('hashchange', onHash);
    win.removeEventListener('popstate', onHash);
  };
}
