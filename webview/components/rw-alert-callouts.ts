// <rw-alert-callouts>: one callout per pending/firing alert, critical first, with acknowledge and
// mute actions. Disappears when nothing is active.

import '@vscode-elements/elements/dist/vscode-button/index.js';
import { css, html, nothing } from 'lit';
import { customElement } from 'lit/decorators.js';
import { fmtAgo, formatterFor } from '../format';
import { shared } from '../theme';
import { StoreElement } from './store-element';

/** How long "Mute" silences an alert, in ms. */
const MUTE_MS = 3_600_000;

/** Alert callouts. */
@customElement('rw-alert-callouts')
export class RwAlertCallouts extends StoreElement {
  static override styles = [
    shared,
    css`
      :host { display: block; }
      ul { list-style: none; margin: 10px 0 0; padding: 0; display: grid; gap: 6px; }
      li {
        display: flex; flex-wrap: wrap; align-items: center; gap: 6px 12px; padding: 8px 10px; border-radius: 4px;
        border: 1px solid var(--vscode-inputValidation-warningBorder);
        background: var(--vscode-inputValidation-warningBackground);
      }
      li.critical { border-color: var(--vscode-inputValidation-errorBorder); background: var(--vscode-inputValidation-errorBackground); }
      li.pending { opacity: 0.8; border-style: dashed; }
      .sev { font-weight: 700; text-transform: uppercase; font-size: 0.8em; letter-spacing: 0.05em; }
      .msg { flex: 1 1 200px; min-width: 0; overflow-wrap: anywhere; }
      .acts { display: flex; gap: 4px; }
    `,
  ];

  override render() {
    const alerts = this.store.activeAlerts();
    if (alerts.length === 0) return nothing;
    const now = this.store.now();
    return html`<ul aria-label="Active alerts" role="list">
      ${alerts.map((a) => {
        const fmt = formatterFor(a.series);
        const since = a.firingSince ?? a.activeSince;
        return html`<li class="${a.severity} ${a.state}" data-alert=${a.id} data-severity=${a.severity} data-state=${a.state}>
          <span class="sev">${a.state === 'pending' ? `${a.severity} (pending)` : a.severity}</span>
          <span class="msg">${a.message} <span class="muted">— ${fmt(a.value)} vs ${fmt(a.threshold)}, ${fmtAgo(since, now)}${a.acknowledged ? ', acknowledged' : ''}</span></span>
          <span class="acts">
            ${a.acknowledged
              ? nothing
              : html`<vscode-button secondary aria-label=${`Acknowledge: ${a.message}`} @click=${() => this.store.ack(a.id)}>Acknowledge</vscode-button>`}
            <vscode-button secondary aria-label=${`Mute for 1 hour: ${a.message}`} @click=${() => this.store.mute(a.id, MUTE_MS)}>Mute 1 h</vscode-button>
          </span>
        </li>`;
      })}
    </ul>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rw-alert-callouts': RwAlertCallouts;
  }
}
