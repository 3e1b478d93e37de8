// Display formatting shared by the status bar, trees, tooltips and notifications. Pure: no vscode import.

import { plainText } from '../protocol/plain-text';

/** Longest text of one field in a Markdown tooltip, in characters. */
export const MARKDOWN_FIELD_MAX_CHARS = 1000;

/** Bytes in one GiB; VRAM and RAM are shown in GiB labelled "GB", as nvidia-smi and most tools do. */
export const BYTES_PER_GIB = 1024 ** 3;

/** A 0..1 ratio as a whole percentage ("42%"), or "–%" when unknown. */
export function formatPercent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '–%';
  return `${Math.round(ratio * 100)}%`;
}

/** Bytes as GiB with one decimal ("10.2"), "–" when unknown. */
export function formatGiB(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '–';
  return (bytes / BYTES_PER_GIB).toFixed(1);
}

/** A capacity in GiB: whole numbers when the size is (almost) whole ("80"), one decimal otherwise ("15.6"). */
export function formatGiBTotal(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '–';
  const g = bytes / BYTES_PER_GIB;
  return Math.abs(g - Math.round(g)) < 0.05 ? String(Math.round(g)) : g.toFixed(1);
}

/** "used/total GB" ("10.2/80 GB"). */
export function formatUsedTotal(used: number | null | undefined, total: number | null | undefined): string {
  return `${formatGiB(used)}/${formatGiBTotal(total)} GB`;
}

/** Human byte size with binary units ("512 MiB", "1.5 GiB"). */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

/** A plain number with at most `digits` decimals, "–" when unknown. */
export function formatNumber(v: number | null | undefined, digits = 1, unit = ''): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const s = Number.isInteger(v) ? String(v) : v.toFixed(digits);
  return unit ? `${s}${unit}` : s;
}

/** Seconds as a short latency ("12 ms", "1.3 s"). */
export function formatSeconds(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '–';
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  return `${s.toFixed(1)} s`;
}

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
