// <rw-sources>: every source the collector knows, with its state and, when not ready, the reason —
// so an absent PostgreSQL or GPU says why instead of silently missing.

import { css, html, nothing } from 'lit';
import { customElement } from 'lit/decorators.js';
import { fmtSeconds } from '../format';
import { shared } from '../theme';
import { StoreElement } from './store-element';
import { sourceState } from './rw-source-state';

/** The source status list. */
@customElement('rw-sources')
export class RwSources extends StoreElement {
  static override styles = [
    shared,
    css`
      :host { display: block; }
      ul { list-style: none; margin: 0; padding: 0; display: grid; gap: 4px; grid-template-columns: repeat(auto-fill, minmax(min(100%, 320px), 1fr)); }
      li { min-width: 0; padding: 2px 0; }
      .line { display: flex; gap: 8px; align-items: baseline; min-width: 0; }
      .id { font-weight: 600; white-space: nowrap; flex: none; max-width: 60%; overflow: hidden; text-overflow: ellipsis; }
      .d { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; }
      .reason { font-size: 0.9em; overflow-wrap: anywhere; }
      .num { flex: none; white-space: nowrap; margin-left: auto; font-variant-numeric: tabular-nums; }
    `,
  ];

  override render() {
    const list = [...this.store.sources.values()].sort((a, b) => a.id.localeCompare(b.id));
    if (list.length === 0) return nothing;
    return html`<section aria-labelledby="src-h">
      <h2 id="src-h">Sources</h2>
      <ul>
        ${list.map(
          (x) => html`<li data-source=${x.id}>
            <div class="line">
              <span class="id" title=${x.id}>${x.id}</span>${sourceState(x, null, false)}
              ${x.state === 'ready' && x.description ? html`<span class="d muted" title=${x.description}>${x.description}</span>` : nothing}
              ${x.state === 'ready' && x.lastDurationMs !== undefined && this.store.ui.mode === 'advanced'
                ? html`<span class="muted num">${fmtSeconds(x.lastDurationMs / 1000)}</span>`
                : nothing}
            </div>
            ${x.state !== 'ready' && x.reason ? html`<div class="reason muted">${x.reason}</div>` : nothing}
          </li>`,
        )}
      </ul>
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rw-sources': RwSources;
  }
}
