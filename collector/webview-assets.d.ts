// Supplied by build.mjs: the built dashboard bundle, embedded in the collector.
declare module 'rigwatch:webview-assets' {
  /** dist/webview.js text (created on each call: not held on the heap between requests). */
  export function webviewJs(): string;
  /** dist/webview.css text. */
  export function webviewCss(): string;
}
