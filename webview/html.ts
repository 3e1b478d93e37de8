// The dashboard's HTML shell, shared by the VS Code panel host and the collector's `/` page.
// Strict CSP: scripts and styles only from the given sources with a nonce; no eval, no inline code.

/** Options for the shell. */
export interface DashboardHtmlOptions {
  /** Fresh random nonce per render (base64/hex). */
  nonce: string;
  scriptUri: string;
  styleUri: string;
  /** Extra CSP source for scripts/styles/images (the webview's `cspSource`, or `'self'`). */
  cspSource: string;
  /** Extra `connect-src` (the browser's WebSocket origin); none inside VS Code. */
  connectSrc?: string;
  mode: 'vscode' | 'browser';
}

/** Renders the dashboard's HTML page. */
export function dashboardHtml(o: DashboardHtmlOptions): string {
  const csp = [
    "default-src 'none'",
    `img-src ${o.cspSource} data:`,
    `style-src ${o.cspSource} 'nonce-${o.nonce}'`,
    `font-src ${o.cspSource}`,
    `script-src 'nonce-${o.nonce}'`,
    `connect-src ${o.connectSrc ?? "'none'"}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en" data-mode="${o.mode}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Rigwatch</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${o.styleUri}" nonce="${o.nonce}">
</head>
<body>
<rw-app></rw-app>
<script nonce="${o.nonce}" src="${o.scriptUri}"></script>
</body>
</html>`;
}
