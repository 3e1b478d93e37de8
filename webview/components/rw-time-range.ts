// <rw-time-range>: Live / 5m / … / 7d selector. Changing it asks the store for history at a point
// budget that matches the chart width.

import '@vscode-elements/elements/dist/vscode-button/index.js';
import { css, html } from 'lit';
import { customElement } from 'lit/decorators.js';
import { RANGES, type RangeId } from '../state';
import { shared } from '../theme';
import { StoreElement } from './store-element';

/** The time-range selector. */
@customElement('rw-time-range')
export class RwTimeRange extends StoreElement {
  static override styles = [
    shared,
    css`
      :host {
        display: inline-block;
      }
      div {
        display: flex;
        flex-wrap: wrap;
        gap: 2px;
      }
      vscode-button {
        min-width: 0;
      }
      /* High-contrast themes draw every button alike; their active-border colour marks the choice. */
      vscode-button[aria-pressed='true'] {
        outline: 2px solid var(--vscode-contrastActiveBorder, transparent);
        outline-offset: -2px;
      }
    `,
  ];

  private pick(id: RangeId): void {
    this.store.setUi({ range: id });
  }

  override render() {
    const cur = this.store.ui.range;
    return html`<div role="group" aria-label="Time range">
      ${RANGES.map(
        (r) =>
          html`<vscode-button
            ?secondary=${r.id !== cur}
            aria-pressed=${r.id === cur ? 'true' : 'false'}
            aria-label=${r.id === 'live' ? 'Live' : `Last ${r.label}`}
            data-range=${r.id}
            @click=${() => this.pick(r.id)}
            >${r.label}</vscode-button
          >`,
      )}
      ${this.store.loadingHistory ? html`<span class="muted" role="status">loading…</span>` : ''}
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rw-time-range': RwTimeRange;
  }
}
