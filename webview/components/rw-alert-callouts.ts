// <rw-alert-callouts>: one callout per firing alert, critical first, with acknowledge and mute (this
// alert, or its rule on every GPU) that confirm in place; more than three collapse into one summary
// line. Disappears when nothing is active.

import '@vscode-elements/elements/dist/vscode-button/index.js';
import { css, html, nothing } from 'lit';
import { customElement } from 'lit/decorators.js';
import { formatCompared, type AlertInstance } from '../../protocol';
import { fmtAgo, fmtClock } from '../format';
import { shared } from '../theme';
import { StoreElement } from './store-element';

/** How long "Mute" silences an alert, in ms. */
const MUTE_MS = 3_600_000;
/** More active alerts than this collapse into one summary line (8 GPUs must not fill the first screen). */
export const CALLOUT_COLLAPSE_OVER = 3;

/** Alert callouts. */
@customElement('rw-alert-callouts')
export class RwAlertCallouts extends StoreElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
      }
      ul {
        list-style: none;
        margin: 10px 0 0;
        padding: 0;
        display: grid;
        gap: 6px;
      }
      li {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 6px 12px;
        padding: 8px 10px;
        border-radius: 4px;
        border: 1px solid var(--vscode-inputValidation-warningBorder);
        background: var(--vscode-inputValidation-warningBackground);
      }
      li.critical {
        border-color: var(--vscode-inputValidation-errorBorder);
        background: var(--vscode-inputValidation-errorBackground);
      }
      li.pending {
        opacity: 0.8;
        border-style: dashed;
      }
      li.seen {
        opacity: 0.75;
      }
      .sev {
        font-weight: 700;
        text-transform: uppercase;
        font-size: 0.8em;
        letter-spacing: 0.05em;
      }
      .msg {
        flex: 1 1 200px;
        min-width: 0;
        overflow-wrap: anywhere;
      }
      .acts {
        display: flex;
        flex-wrap: wrap;
        gap: 4px;
        align-items: center;
      }
      .done {
        font-size: 0.9em;
      }
      details.summary {
        margin-top: 10px;
        padding: 6px 10px;
        border-radius: 4px;
        border: 1px solid var(--vscode-inputValidation-warningBorder);
        background: var(--vscode-inputValidation-warningBackground);
      }
      details.summary.critical {
        border-color: var(--vscode-inputValidation-errorBorder);
        background: var(--vscode-inputValidation-errorBackground);
      }
      details.summary > summary {
        cursor: pointer;
      }
      details.summary ul {
        margin-top: 6px;
      }
    `,
  ];

  /** What this client asked for, per alert id, until the collector's event confirms it. */
  private readonly asked = new Map<string, string>();

  override render() {
    const alerts = this.store.activeAlerts();
    if (alerts.length === 0) return nothing;
    const now = this.store.now();
    const list = html`<ul aria-label="Active alerts" role="list">
      ${alerts.map((a) => this.callout(a, now))}
    </ul>`;
    if (alerts.length <= CALLOUT_COLLAPSE_OVER) return list;
    const crit = alerts.filter((a) => a.severity === 'critical').length;
    const counts = [crit ? `${crit} critical` : '', alerts.length - crit ? `${alerts.length - crit} warning` : ''].filter(Boolean).join(', ');
    const first = alerts[0] as AlertInstance;
    return html`<details class="summary ${crit ? 'critical' : 'warning'}" data-summary>
      <summary>
        <span class="sev">${alerts.length} alerts</span> ${counts} — ${first.message}${alerts.length > 1 ? ` and ${alerts.length - 1} more` : ''}
      </summary>
      ${list}
    </details>`;
  }

  private callout(a: AlertInstance, now: number) {
    const since = a.firingSince ?? a.activeSince;
    const [value, threshold] = formatCompared(a.unit ?? a.series, a.value, a.threshold);
    const muted = a.mutedUntil !== undefined && a.mutedUntil > now;
    const asked = this.asked.get(a.id);
    if (asked === 'ack' && a.acknowledged) this.asked.delete(a.id);
    if (asked === 'mute' && muted) this.asked.delete(a.id);
    const rule = a.ruleId;
    const gpu = /^gpu\.(\d+)\./.exec(a.series);
    const act = (what: 'ack' | 'mute', run: () => boolean): void => {
      if (run()) {
        this.asked.set(a.id, what);
        this.requestUpdate();
      }
    };
    return html`<li
      class="${a.severity} ${a.state}${a.acknowledged || muted ? ' seen' : ''}"
      data-alert=${a.id}
      data-severity=${a.severity}
      data-state=${a.state}
    >
      <span class="sev">${a.state === 'pending' ? `${a.severity} (pending)` : a.severity}</span>
      <span class="msg">${a.message} <span class="muted">— ${value} vs ${threshold}, ${fmtAgo(since, now)}</span></span>
      <span class="acts" aria-live="polite">
        ${
          a.acknowledged
            ? html`<span class="done muted" data-done="ack">✓ Acknowledged</span>`
            : asked === 'ack'
              ? html`<span class="done muted">Acknowledging…</span>`
              : html`<vscode-button secondary aria-label=${`Acknowledge: ${a.message}`} @click=${() => act('ack', () => this.store.ack(a.id))}
                  >Acknowledge</vscode-button
                >`
        }
        ${
          muted
            ? html`<span class="done muted" data-done="mute">🔕 Muted until ${fmtClock(a.mutedUntil as number)}</span>`
            : asked === 'mute'
              ? html`<span class="done muted">Muting…</span>`
              : html`<vscode-button
                    secondary
                    aria-label=${`Mute this alert for 1 hour: ${a.message}`}
                    @click=${() => act('mute', () => this.store.mute(a.id, MUTE_MS))}
                    >Mute${gpu ? ` GPU ${gpu[1]}` : ''} 1 h</vscode-button
                  >
                  <vscode-button
                    secondary
                    aria-label=${`Mute rule ${rule} (every instance) for 1 hour`}
                    title=${`Mute every ${rule} alert${gpu ? ' (all GPUs)' : ''} for 1 hour`}
                    @click=${() => act('mute', () => this.store.mute(rule, MUTE_MS))}
                    >Mute rule 1 h</vscode-button
                  >`
        }
      </span>
    </li>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rw-alert-callouts': RwAlertCallouts;
  }
}
