// Dashboard entry point: picks the bridge (VS Code postMessage or browser WebSocket), creates the
// store and hands it to <rw-app>. The same bundle runs in the VS Code panel and in a browser.

import { createBridge } from './bridge';
import { RwApp } from './components/rw-app';
import { bindHashRoute } from './run-route';
import { DashboardStore } from './state';
import { installBrowserTheme, installPageStyles } from './theme';

function main(): void {
  const bridge = createBridge(window);
  // Outside VS Code nobody defines the theme variables: bring our own (dark/light by OS setting).
  if (bridge.mode === 'browser') installBrowserTheme(document);
  installPageStyles(document);
  // Read before the bridge starts: it takes a `#token=` fragment out of the address.
  const initialHash = window.location.hash;
  const store = new DashboardStore(bridge);
  // A browser page's run page is its address (`#run=<id>`); VS Code keeps it in the webview state.
  if (bridge.mode === 'browser') bindHashRoute(window, store, initialHash);
  let app = document.querySelector('rw-app');
  if (!app) {
    app = new RwApp();
    document.body.append(app);
  }
  app.store = store;
  store.start();
  window.addEventListener('pagehide', () => store.dispose(), { once: true });
}

main();
