// <rw-heat-strip>: per-core CPU busy as a strip of cells, colour intensity = load.

import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { fmtPercent, has } from '../format';
import { styleProps } from '../style-props';
import { shared } from '../theme';

/** Per-core heat strip; missing cores are hatched ("n/a"), never drawn as idle. */
@customElement('rw-heat-strip')
export class RwHeatStrip extends LitElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
        margin: 6px 0;
      }
      .strip {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(10px, 1fr));
        gap: 2px;
      }
      .c {
        height: 14px;
        border-radius: 2px;
        background: color-mix(in srgb, var(--vscode-charts-red, #f14c4c) var(--load), var(--vscode-badge-background, #8884));
        outline: 1px solid var(--vscode-contrastBorder, transparent);
      }
      .c.na {
        background: repeating-linear-gradient(45deg, transparent 0 3px, var(--vscode-badge-background, #8884) 3px 6px);
      }
    `,
  ];

  /** Busy ratio per core (index = core number). */
  @property({ attribute: false }) values: (number | null)[] = [];

  override render() {
    const summary = this.values.map((v, i) => `core ${i} ${fmtPercent(v)}`).join(', ');
    return html`<div class="strip" role="img" aria-label=${`Per-core CPU: ${summary}`}>
      ${this.values.map(
        (v, i) =>
          html`<div
            class="c ${has(v) ? '' : 'na'}"
            title=${`core ${i}: ${fmtPercent(v)}`}
            .style=${styleProps({ '--load': has(v) ? `${Math.round(Math.max(0, Math.min(1, v)) * 100)}%` : '0%' })}
          ></div>`,
      )}
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rw-heat-strip': RwHeatStrip;
  }
}
