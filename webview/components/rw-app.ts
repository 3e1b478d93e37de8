// <rw-app>: the dashboard page. Lays out the sections for whatever sources exist; each section
// renders nothing until its source has data.

import '@vscode-elements/elements/dist/vscode-button/index.js';
import { css, html, nothing, type TemplateResult } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { html as staticHtml, unsafeStatic } from 'lit/static-html.js';
import { VIEW_ADAPTERS, type SourceViewAdapter } from '../../client/views';
import { shared } from '../theme';
import { StoreElement } from './store-element';
import './rw-alert-callouts';
import './rw-container-timeline';
import './rw-db-cards';
import './rw-gpu-row';
import './rw-header';
import './rw-host-row';
import './rw-model-cards';
import './rw-run-page';
import './rw-source-cards';
import './rw-sources';

/**
 * The sections in view order, one per adapter group and element: an adapter's own element (`rw-gpu-row`)
 * once, or generic cards for an adapter without one.
 */
export function dashboardSections(adapters: readonly SourceViewAdapter[]): ({ tag: string } | { adapter: SourceViewAdapter })[] {
  const out: ({ tag: string } | { adapter: SourceViewAdapter })[] = [];
  const seen = new Set<string>();
  const ordered = [...adapters].sort((a, b) => a.group.order - b.group.order);
  for (const a of ordered) {
    if (!a.section) out.push({ adapter: a });
    else if (!seen.has(a.section)) {
      seen.add(a.section);
      out.push({ tag: a.section });
    }
  }
  return out;
}

/** The dashboard root. */
@customElement('rw-app')
export class RwApp extends StoreElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
        padding: 0 16px 24px;
        max-width: 1800px;
        margin: 0 auto;
      }
      @media (max-width: 480px) {
        :host {
          padding: 0 8px 16px;
        }
      }
      .waiting {
        padding: 24px 0;
      }
      .nogpu {
        margin-top: 14px;
      }
      .stopped {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 8px 12px;
        margin-top: 14px;
      }
      /* Numbers from a connection that is gone are dimmed until fresh ones arrive. */
      main.stale {
        opacity: 0.55;
      }
    `,
  ];

  /** The view adapters the page lays out (the product's list; tests may add a toy source's). */
  @property({ attribute: false }) adapters: readonly SourceViewAdapter[] = VIEW_ADAPTERS;

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

  private section(x: { tag: string } | { adapter: SourceViewAdapter }): TemplateResult {
    if ('adapter' in x) return html`<rw-source-cards .store=${this.store} .adapter=${x.adapter}></rw-source-cards>`;
    const tag = unsafeStatic(x.tag);
    return staticHtml`<${tag} .store=${this.store}></${tag}>`;
  }

  override render() {
    const s = this.store;
    const gpuSources = s.sourcesOf('gpu');
    const hasGpuDetails = s.detailsOf('gpu').some(([, d]) => d.devices.length > 0);
    const fresh = s.connection.state === 'live' || s.connection.state === 'polling';
    return html`<rw-header .store=${s}></rw-header>
      ${
        s.connection.canStartLocal
          ? html`<div class="stopped" role="status" data-section="local-stopped">
              <span>Local collector stopped</span>
              <vscode-button data-control="start-local" @click=${() => s.startLocal()}>Start</vscode-button>
            </div>`
          : nothing
      }
      <main class=${fresh ? '' : 'stale'} aria-busy=${fresh ? 'false' : 'true'}>
        <rw-alert-callouts .store=${s}></rw-alert-callouts>
        ${
          s.connection.canStartLocal && !s.host
            ? nothing
            : !s.host
              ? html`<div class="waiting muted" role="status">Waiting for the collector…</div>`
              : s.ui.run
                ? html`<rw-run-page .store=${s} .runId=${s.ui.run}></rw-run-page>`
                : html`
                    ${
                      !hasGpuDetails && gpuSources.length > 0
                        ? html`<div class="nogpu muted" data-section="nogpu">No GPU: ${gpuSources.map((g) => g.reason ?? g.state).join('; ')}</div>`
                        : nothing
                    }
                    ${dashboardSections(this.adapters).map((x) => this.section(x))}
                    <rw-sources .store=${s}></rw-sources>
                  `
        }
      </main>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rw-app': RwApp;
  }
}
