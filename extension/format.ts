// Text helpers of the extension that are not unit formatting (values and units: protocol/format.ts, the
// one formatter every view shares). Pure: no vscode import.

import { plainText } from '../protocol/plain-text';

/** Longest text of one field in a Markdown tooltip, in characters. */
export const MARKDOWN_FIELD_MAX_CHARS = 1000;

/** How long ago `t` was relative to `now`, compactly ("12 s", "4 min", "2 h", "3 d"). */
export function formatAgo(t: number, now: number): string {
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h`;
  return `${Math.floor(h / 24)} d`;
}

/** Clock time of an epoch ms in the local zone ("14:03:21"). */
export function formatClock(t: number): string {
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Escapes text for a Markdown table cell or paragraph (pipes, backslashes, markup characters). */
export function escapeMarkdown(s: string): string {
  // One line of plain text first (controls, bidi, length), then every Markdown token escaped.
  return plainText(s, MARKDOWN_FIELD_MAX_CHARS).replace(/[\\`*_{}[\]()#+\-.!|<>$~=:]/g, (c) => `\\${c}`);
}

/** An input-box validator from a parser that throws: its message, or undefined when the text parses. */
export function validateWith(parse: (text: string) => unknown): (text: string) => string | undefined {
  return (text) => {
    try {
      parse(text);
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  };
}

/** A collector log line split into its own level and text (the timestamp dropped: the channel adds one). */
export interface CollectorLogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  text: string;
}

const COLLECTOR_LOG_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z\s+(debug|info|warn|error)\s+(.*)$/;

/**
 * Parses a line the collector printed (`<ISO time> <level> [component] message`, collector/log.ts), so
 * the output channel keeps the collector's level and shows one timestamp; a line in another shape keeps
 * `fallback` (info for stdout, warn for stderr).
 */
export function parseCollectorLogLine(line: string, fallback: CollectorLogLine['level']): CollectorLogLine {
  const m = COLLECTOR_LOG_RE.exec(line);
  return m ? { level: m[1] as CollectorLogLine['level'], text: m[2] as string } : { level: fallback, text: line };
}
