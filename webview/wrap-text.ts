// Line-break control for text that mixes names and numbers: a URL breaks only between its host:port and
// its path (or, when host:port alone is wider than the line, after a dot of the host, never inside the
// port); a list of values ("650 ms · 1.38 s · 12.4 s") wraps only at its separators, so a number never
// leaves its unit. Both rely on the `.u`, `.path` and `.nb` classes of the shared styles.

import { html, type TemplateResult } from 'lit';

/** Scheme and user info, host (or [IPv6]), port, and the rest (path, query) of a URL or `host:port/db`. */
const URL_RE = /^([a-z][a-z0-9+.-]*:\/\/)?([^@/\s]*@)?(\[[^\]]*\]|[^:/?#\s[\]]+)(:\d+)?(.*)$/i;

/** A URL (or `host:port/path` target) as nowrap host segments joined by break opportunities, then its path. */
export function urlText(url: string): TemplateResult {
  const m = URL_RE.exec(url);
  // Not a URL (a socket path, a description): plain text that may break anywhere.
  if (!m || !m[3]) return html`<span class="path">${url}</span>`;
  const [, scheme = '', user = '', host = '', port = '', rest = ''] = m;
  const labels = host.startsWith('[') ? [host] : host.split('.');
  const segs = labels.map((l, i) => (i === 0 ? scheme + user : '') + l + (i < labels.length - 1 ? '.' : port));
  return html`${segs.map((s, i) => html`${i ? html`<wbr />` : ''}<span class="u">${s}</span>`)}${rest ? html`<wbr /><span class="path">${rest}</span>` : ''}`;
}

/** Values joined by ` · ` that wrap only between values (each value stays on one line). */
export function valueList(values: readonly string[], sep = ' · '): TemplateResult {
  return html`${values.map((v, i) => html`${i ? sep : ''}<span class="nb">${v}</span>`)}`;
}

/** A number followed by a space and a unit (`19.6 ms`, `71.3 GiB`, `97 %`, `1234 tok/s`). */
const NUMBER_UNIT_RE = /(\d) (?=(?:[kMGTP]?i?B|ms|µs|ns|s|min|h|d|%|°C|W|kWh|[kMG]?Hz|tok\/s|\/s)(?![A-Za-z]))/g;

/** Free text (an adapter's description) with a no-break space between each number and its unit. */
export function keepUnits(text: string): string {
  return text.replace(NUMBER_UNIT_RE, '$1\u00a0');
}
