// Text that came from a monitored machine (a model server's error body, a process or container name,
// an alert message built from them) shown where a UI could give it meaning: VS Code notifications
// render `[label](command:…)` as a clickable command, quick picks and status bars render `$(icon)`,
// terminals and logs obey escape codes. Pure; shared by the extension, the webview and the collector.

/** Default longest plain text, in characters (one notification line, a tree description). */
export const PLAIN_TEXT_MAX_CHARS = 500;

/**
 * C0/C1 controls (newlines and tabs included), DEL, zero-width and bidirectional formatting
 * characters (which reorder or hide what is displayed), line/paragraph separators.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;

/**
 * `text` as one line of inert plain text: control and formatting characters become spaces (runs
 * collapsed), link syntax `](` and theme-icon syntax `$(` are broken apart with a space so no
 * renderer sees a link or icon, and the result is at most `maxChars` characters (ending in `…` when cut).
 */
export function plainText(text: string, maxChars = PLAIN_TEXT_MAX_CHARS): string {
  let s = String(text).replace(UNSAFE_CHARS, ' ');
  // `[label](command:…)` / `[label](https://…)`: VS Code's link pattern needs `](` adjacent.
  s = s.replace(/\]\s*\(/g, '] (');
  // `$(zap)` renders a codicon in status bars, quick picks and MarkdownString with theme icons.
  s = s.replace(/\$\(/g, '$ (');
  s = s.replace(/ {2,}/g, ' ').trim();
  if (s.length <= maxChars) return s;
  let cut = Math.max(0, maxChars - 1);
  // Never split a surrogate pair.
  const c = s.charCodeAt(cut - 1);
  if (c >= 0xd800 && c <= 0xdbff) cut--;
  return s.slice(0, cut) + '…';
}
