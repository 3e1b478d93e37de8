// Supplied by build.mjs: the built dashboard bundle, embedded in the collector.
declare module 'rigwatch:webview-assets' {
  /** dist/webview.js text. */
  export const WEBVIEW_JS: string;
  /** dist/webview.css text. */
  export const WEBVIEW_CSS: string;
}
