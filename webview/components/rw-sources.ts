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
      :host {
        display: block;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
        display: grid;
        gap: 4px;
        grid-template-columns: repeat(auto-fill, minmax(min(100%, 320px), 1fr));
      }
      li {
        min-width: 0;
        padding: 2px 0;
      }
      .line {
        display: flex;
        gap: 8px;
        align-items: baseline;
        min-width: 0;
      }
      .id {
        font-weight: 600;
        white-space: nowrap;
        flex: none;
        max-width: 60%;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      .d {
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
        min-width: 0;
      }
      .reason {
        font-size: 0.9em;
        overflow-wrap: anywhere;
      }
      details.absent {
        margin-top: 6px;
      }
      details.absent summary {
        cursor: pointer;
      }
      .num {
        flex: none;
        white-space: nowrap;
        margin-left: auto;
        font-variant-numeric: tabular-nums;
      }
    `,
  ];

  override render() {
    const all = [...this.store.sources.values()].sort((a, b) => a.id.localeCompare(b.id));
    if (all.length === 0) return nothing;
    // Sources that are simply not on this machine fold into one grey line.
    const list = all.filter((x) => x.state !== 'unavailable');
    const absent = all.filter((x) => x.state === 'unavailable');
    return html`<section aria-labelledby="src-h">
      <h2 id="src-h">Sources</h2>
      <ul>
        ${list.map(
          (x) =>
            html`<li data-source=${x.id}>
              <div class="line">
                <span class="id" title=${x.id}>${x.id}</span>${sourceState(x, null, false)}
                ${x.state === 'ready' && x.description ? html`<span class="d muted" title=${x.description}>${x.description}</span>` : nothing}
                ${
                  x.state === 'ready' && x.lastDurationMs !== undefined && this.store.ui.mode === 'advanced'
                    ? html`<span class="muted num">${fmtSeconds(x.lastDurationMs / 1000)}</span>`
                    : nothing
                }
              </div>
              ${x.state !== 'ready' && x.reason ? html`<div class="reason muted">${x.reason}</div>` : nothing}
            </li>`,
        )}
      </ul>
      ${
        absent.length
          ? html`<details class="absent muted" data-not-found>
              <summary>Not found: ${absent.map((x) => x.id).join(', ')}</summary>
              <ul>
                ${absent.map((x) => html`<li data-source=${x.id}>${x.id}${x.reason ? ` — ${x.reason}` : ''}</li>`)}
              </ul>
              <p>
                Auto-detected sources that are not on this machine. To watch one, add it to the collector's config (in VS Code:
                <code>rigwatch.localCollector.config</code>).
              </p>
            </details>`
          : nothing
      }
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rw-sources': RwSources;
  }
}
