// <rw-meter>: a labelled horizontal bar (VRAM, RAM, disk, power vs limit) with an ARIA meter role.

import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { has, NA } from '../format';
import { styleProps } from '../style-props';
import { shared } from '../theme';

/** A bar showing a ratio 0..1; missing values show "n/a" and an empty, hatched bar. */
@customElement('rw-meter')
export class RwMeter extends LitElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
        margin: 4px 0;
      }
      .row {
        display: flex;
        justify-content: space-between;
        gap: 8px;
        font-size: 0.92em;
      }
      /* The label may shrink; the number never truncates or wraps. */
      .row span:first-child {
        min-width: 0;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .row span:last-child {
        flex: none;
        font-variant-numeric: tabular-nums;
        text-align: right;
        white-space: nowrap;
      }
      /* The track is a neutral tint of the text colour, never the badge colour (blue like the fill in
         VS Code's default themes, which drew 1 % as a full bar); high-contrast themes add a border. */
      .track {
        height: 6px;
        border-radius: 3px;
        overflow: hidden;
        margin-top: 2px;
        background: color-mix(in srgb, var(--vscode-foreground, #888) 16%, transparent);
        outline: 1px solid var(--vscode-contrastBorder, transparent);
      }
      .track.na {
        background: repeating-linear-gradient(45deg, transparent 0 4px, color-mix(in srgb, var(--vscode-foreground, #888) 16%, transparent) 4px 8px);
      }
      .fill {
        height: 100%;
        background: var(--vscode-charts-blue, #3794ff);
      }
      .fill.warn {
        background: var(--vscode-charts-yellow, #cca700);
      }
      .fill.crit {
        background: var(--vscode-charts-red, #f14c4c);
      }
    `,
  ];

  @property() label = '';
  /** Ratio 0..1, or null when unknown. */
  @property({ attribute: false }) value: number | null | undefined = null;
  /** Text shown at the right (e.g. "10.2 / 80 GiB"). */
  @property() text = '';
  @property({ type: Number }) warn = 0.8;
  @property({ type: Number }) crit = 0.95;

  override render() {
    const v = this.value;
    const ok = has(v);
    const r = ok ? Math.max(0, Math.min(1, v)) : 0;
    const cls = !ok ? '' : r >= this.crit ? 'crit' : r >= this.warn ? 'warn' : '';
    return html`<div
      role="meter"
      aria-label=${this.label}
      aria-valuemin="0"
      aria-valuemax="100"
      aria-valuenow=${ok ? Math.round(r * 100) : 0}
      aria-valuetext=${ok ? `${Math.round(r * 100)} %, ${this.text}` : NA}
    >
      <div class="row"><span class="muted">${this.label}</span><span>${this.text || (ok ? `${Math.round(r * 100)} %` : NA)}</span></div>
      <div class="track ${ok ? '' : 'na'}"><div class="fill ${cls}" .style=${styleProps({ width: `${(r * 100).toFixed(1)}%` })}></div></div>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rw-meter': RwMeter;
  }
}
