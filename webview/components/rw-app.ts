// <rw-app>: the dashboard page. Lays out the sections for whatever sources exist; each section
// renders nothing until its source has data.

import { css, html, nothing } from 'lit';
import { customElement } from 'lit/decorators.js';
import { shared } from '../theme';
import { StoreElement } from './store-element';
import './rw-alert-callouts';
import './rw-container-timeline';
import './rw-db-cards';
import './rw-gpu-row';
import './rw-header';
import './rw-host-row';
import './rw-model-cards';
import './rw-sources';

/** The dashboard root. */
@customElement('rw-app')
export class RwApp extends StoreElement {
  static override styles = [
    shared,
    css`
      :host { display: block; padding: 0 16px 24px; max-width: 1800px; margin: 0 auto; }
      @media (max-width: 480px) { :host { padding: 0 8px 16px; } }
      .waiting { padding: 24px 0; }
      .nogpu { margin-top: 14px; }
      /* Numbers from a connection that is gone are dimmed until fresh ones arrive. */
      main.stale { opacity: 0.55; }
    `,
  ];

  private lastReplies = -1;
  private settled = false;

  protected override updated(): void {
    // Marks for tests and benchmarks: when history answers have been drawn (after the charts' frame),
    // and when the first load has settled (every chart's history drawn).
    const s = this.store;
    this.dataset.state = s.connection.state;
    if (s.historyReplies !== this.lastReplies) {
      this.lastReplies = s.historyReplies;
      const n = s.historyReplies;
      const settle = !this.settled && n > 0 && s.pendingRequests === 0;
      if (settle) this.settled = true;
      requestAnimationFrame(() =>
        requestAnimationFrame(() => {
          this.dataset.historyDrawn = String(n);
          if (settle) {
            performance.mark('rw:first-render');
            this.dataset.settled = 'true';
          }
        }),
      );
    }
  }

  override render() {
    const s = this.store;
    const gpuSources = s.sourcesOf('gpu');
    const hasGpuDetails = s.detailsOf('gpu').some(([, d]) => d.devices.length > 0);
    const fresh = s.connection.state === 'live' || s.connection.state === 'polling';
    return html`<rw-header .store=${s}></rw-header>
      <main class=${fresh ? '' : 'stale'} aria-busy=${fresh ? 'false' : 'true'}>
        <rw-alert-callouts .store=${s}></rw-alert-callouts>
        ${!s.host
          ? html`<div class="waiting muted" role="status">Waiting for the collector…</div>`
          : html`
              ${!hasGpuDetails && gpuSources.length > 0
                ? html`<div class="nogpu muted" data-section="nogpu">No GPU: ${gpuSources.map((g) => g.reason ?? g.state).join('; ')}</div>`
                : nothing}
              <rw-gpu-row .store=${s}></rw-gpu-row>
              <rw-host-row .store=${s}></rw-host-row>
              <rw-db-cards .store=${s}></rw-db-cards>
              <rw-model-cards .store=${s}></rw-model-cards>
              <rw-container-timeline .store=${s}></rw-container-timeline>
              <rw-sources .store=${s}></rw-sources>
            `}
      </main>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rw-app': RwApp;
  }
}
