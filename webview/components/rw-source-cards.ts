// <rw-source-cards>: the generic dashboard section for a source kind whose view adapter names no
// element of its own — a card per source with the adapter's label, rows and charts.

import { css, html, nothing, type TemplateResult } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { SampleMessage } from '../../protocol';
import { viewFormat, type SourceViewAdapter, type ViewContext, type ViewItem } from '../../client/views';
import { fmtNumber, formatterFor } from '../format';
import { shared } from '../theme';
import { keepUnits } from '../wrap-text';
import { StoreElement } from './store-element';
import { sourceState } from './rw-source-state';
import './rw-chart';

/** The dashboard's text formatter for adapters: the protocol's, and Lit renders text as text (nothing to escape). */
const DASHBOARD_FORMAT: ViewContext['fmt'] = viewFormat((t) => t);

function rows(items: readonly ViewItem[]): ViewItem[] {
  return items.flatMap((it) => [it, ...rows(it.children ?? [])]);
}

/** Cards for every source of one adapter's kind. */
@customElement('rw-source-cards')
export class RwSourceCards extends StoreElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
      }
      .src rw-chart {
        --rw-chart-height: 110px;
        margin-top: 6px;
      }
    `,
  ];

  @property({ attribute: false }) adapter!: SourceViewAdapter;

  private context(): ViewContext {
    const s = this.store;
    const sample: SampleMessage = { type: 'sample', t: s.lastSampleT, series: Object.fromEntries(s.values), details: Object.fromEntries(s.details) };
    return { host: s.host, sample, alerts: [...s.alerts.values()], fmt: DASHBOARD_FORMAT };
  }

  /** A row that stands for a run opens the run's page. */
  private runLink(runId: string, label: string): TemplateResult {
    return html`<button class="link" data-open-run=${runId} title="Open the run's page" @click=${() => this.store.openRun(runId)}>${label}</button>`;
  }

  override render() {
    const a = this.adapter;
    const sources = this.store.sourcesOf(a.kind).filter((x) => x.state === 'ready' || x.state === 'down');
    if (!a || sources.length === 0) return nothing;
    const ctx = this.context();
    return html`<section aria-label=${a.label(sources[0])} data-kind=${a.kind}>
      <div class="cards wide">
        ${sources.map(
          (src) =>
            html`<article class="card src" aria-label=${a.label(src)} data-source=${src.id}>
              <h3>${a.label(src)} ${sourceState(src)}</h3>
              <dl class="kv">
                ${rows(a.describe([src], ctx)).map(
                  (it) =>
                    html`<dt>${it.ref?.runId ? this.runLink(it.ref.runId, it.label) : it.label}</dt>
                      <dd class="wrap">${keepUnits(it.description ?? '')}</dd>`,
                )}
              </dl>
              ${a
                .charts(src, ctx)
                .map(
                  (c) =>
                    html`<rw-chart
                      .store=${this.store}
                      heading=${c.title}
                      .lines=${c.lines.map((l) => ({ name: l.series, label: l.label }))}
                      .fmt=${c.lines[0] ? formatterFor(c.lines[0].series) : fmtNumber}
                    ></rw-chart>`,
                )}
            </article>`,
        )}
      </div>
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rw-source-cards': RwSourceCards;
  }
}
