// <rw-header>: host name, connection/live indicator, time range and the basic/advanced toggle.

import '@vscode-elements/elements/dist/vscode-button/index.js';
import { css, html } from 'lit';
import { customElement } from 'lit/decorators.js';
import { fmtAgo, fmtSeconds } from '../format';
import { shared } from '../theme';
import { StoreElement } from './store-element';
import './rw-time-range';

const STATE_TEXT: Record<string, string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  polling: 'polling',
  failed: 'connection failed',
  disconnected: 'disconnected',
};

/** The dashboard header. */
@customElement('rw-header')
export class RwHeader extends StoreElement {
  static override styles = [
    shared,
    css`
      header {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 8px 16px;
        padding: 10px 0;
        border-bottom: 1px solid var(--vscode-panel-border);
      }
      h1 {
        font-size: 1.25em;
        margin: 0;
        font-weight: 600;
        display: flex;
        align-items: baseline;
        gap: 8px;
        flex-wrap: wrap;
        min-width: 0;
      }
      h1 small {
        font-weight: normal;
        font-size: 0.7em;
      }
      .conn {
        display: inline-flex;
        align-items: center;
        gap: 6px;
      }
      .conn .dot.ok {
        animation: none;
      }
      .spacer {
        flex: 1;
      }
      .reason {
        font-size: 0.9em;
      }
      .err {
        color: var(--vscode-errorForeground);
        font-size: 0.9em;
        flex-basis: 100%;
      }
    `,
  ];

  override render() {
    const s = this.store;
    const c = s.connection;
    const live = c.state === 'live';
    // "live" also requires samples arriving: a silent collector is not live.
    const fresh = live && s.lastSampleT > 0 && s.now() - s.lastSampleT < Math.max(5000, 3 * s.intervalMs);
    const dot = fresh ? 'ok' : live || c.state === 'connecting' || c.state === 'polling' ? 'warn' : 'bad';
    const text =
      live && !fresh ? (s.lastSampleT ? `stale (last sample ${fmtAgo(s.lastSampleT, s.now())})` : 'waiting for samples') : (STATE_TEXT[c.state] ?? c.state);
    const h = s.host;
    return html`<header>
      <h1>
        <span>${h?.hostname ?? c.name ?? 'Rigwatch'}</span>
        ${h ? html`<small class="muted">${[h.os ?? h.platform, h.cpuModel, `up ${fmtSeconds(s.value('host.uptime_seconds'))}`].filter(Boolean).join(' · ')}</small>` : ''}
      </h1>
      <span class="conn" role="status" aria-live="polite" data-state=${fresh ? 'live' : c.state}>
        <span class="dot ${dot}" aria-hidden="true"></span>
        <span>${text}</span>
        ${c.reason && !live ? html`<span class="reason muted">— ${c.reason}</span>` : ''}
      </span>
      <span class="spacer"></span>
      <rw-time-range .store=${s}></rw-time-range>
      <vscode-button
        secondary
        aria-pressed=${s.ui.mode === 'advanced' ? 'true' : 'false'}
        aria-label="Advanced view: every chart and table"
        data-control="mode"
        @click=${() => s.setUi({ mode: s.ui.mode === 'advanced' ? 'basic' : 'advanced' })}
        >${s.ui.mode === 'advanced' ? 'View: advanced' : 'View: basic'}</vscode-button
      >
      ${s.serverError ? html`<div class="err" role="alert">Collector: ${s.serverError}</div>` : ''}
    </header>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rw-header': RwHeader;
  }
}
