// <rw-model-cards>: a card per model server — status, loaded models, VRAM held, slots/queue,
// throughput, latency percentiles; a p50/p95/p99 latency chart in advanced view.

import { css, html, nothing } from 'lit';
import { customElement } from 'lit/decorators.js';
import type { ModelServer } from '../../protocol/details/models';
import { modelServerSeries } from '../../protocol/keys';
import { fmtBytes, fmtCount, fmtNumber, fmtPercent, fmtSeconds, has, NA } from '../format';
import { shared } from '../theme';
import { urlText, valueList } from '../wrap-text';
import { StoreElement } from './store-element';
import './rw-chart';
import './rw-meter';

const KIND_NAMES: Record<ModelServer['kind'], string> = {
  llamacpp: 'llama.cpp',
  vllm: 'vLLM',
  ollama: 'Ollama',
  triton: 'Triton',
  health: 'HTTP',
};

/** Model-server cards. */
@customElement('rw-model-cards')
export class RwModelCards extends StoreElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
      }
      .m rw-chart {
        --rw-chart-height: 120px;
        margin-top: 6px;
      }
      ul {
        margin: 4px 0;
        padding-left: 18px;
      }
      .err {
        color: var(--vscode-errorForeground);
        overflow-wrap: anywhere;
      }
    `,
  ];

  private card(srv: ModelServer) {
    const s = this.store;
    const v = (m: string) => s.value(modelServerSeries(srv.name, m));
    const vramFromList = srv.vram ? srv.vram.reduce((a, x) => a + x.bytes, 0) : null;
    const vram = v('vram_bytes') ?? vramFromList;
    const busy = v('slots_busy_count');
    const total = v('slots_total_count');
    const advanced = s.ui.mode === 'advanced';
    const up = srv.up && v('up_state') !== 0;
    const gen = v('generation_tokens_per_second');
    return html`<article class="card m" aria-label=${`Model server ${srv.name}`} data-server=${srv.name}>
      <h3>
        <span>${srv.name}</span><span class="muted">${KIND_NAMES[srv.kind]}</span>
        <span class="state" data-state=${up ? 'up' : 'down'}><span class="dot ${up ? 'ok' : 'bad'}" aria-hidden="true"></span>${up ? 'up' : 'down'}</span>
      </h3>
      <div class="muted url">${urlText(srv.url)}</div>
      ${srv.error ? html`<div class="err">${srv.error}</div>` : nothing}
      ${has(total) ? html`<rw-meter label="Slots busy" .value=${total > 0 && has(busy) ? busy / total : null} text=${`${fmtCount(busy)} / ${fmtCount(total)}`}></rw-meter>` : nothing}
      ${has(v('kv_cache_usage_ratio')) ? html`<rw-meter label="KV cache" .value=${v('kv_cache_usage_ratio')} text=${fmtPercent(v('kv_cache_usage_ratio'))}></rw-meter>` : nothing}
      <dl class="kv">
        <dt>Response</dt>
        <dd>${fmtSeconds(v('latency_seconds'))}</dd>
        <dt>VRAM held</dt>
        <dd title=${srv.vramNote ?? ''}>${fmtBytes(vram)}${!has(vram) && srv.vramNote ? html` <span class="muted">(${srv.vramNote})</span>` : nothing}</dd>
        <dt>Running / waiting</dt>
        <dd class="wrap">${valueList([fmtCount(v('requests_running_count')), fmtCount(v('requests_waiting_count'))])}</dd>
        <dt>Throughput</dt>
        <dd>${has(gen) ? fmtNumber(gen, 'tok/s') : NA}</dd>
        <dt>p50/p95/p99</dt>
        <dd class="wrap">
          ${valueList([fmtSeconds(v('request_latency_p50_seconds')), fmtSeconds(v('request_latency_p95_seconds')), fmtSeconds(v('request_latency_p99_seconds'))])}
        </dd>
        ${
          has(v('ttft_p50_seconds'))
            ? html`<dt>TTFT p50/p95</dt>
                <dd class="wrap">${valueList([fmtSeconds(v('ttft_p50_seconds')), fmtSeconds(v('ttft_p95_seconds'))])}</dd>`
            : nothing
        }
      </dl>
      ${
        srv.models.length
          ? html`<ul aria-label="Loaded models">
              ${srv.models.map((m) => html`<li>${m.name} <span class="muted nb">${has(m.vramBytes) ? fmtBytes(m.vramBytes) : has(m.sizeBytes) ? fmtBytes(m.sizeBytes) : ''}</span></li>`)}
            </ul>`
          : nothing
      }
      ${
        advanced
          ? html`<rw-chart
              .store=${s}
              heading=${`${srv.name} latency`}
              .lines=${[
                { name: modelServerSeries(srv.name, 'request_latency_p50_seconds'), label: 'p50' },
                { name: modelServerSeries(srv.name, 'request_latency_p95_seconds'), label: 'p95' },
                { name: modelServerSeries(srv.name, 'request_latency_p99_seconds'), label: 'p99' },
              ]}
              .fmt=${fmtSeconds}
            ></rw-chart>`
          : nothing
      }
    </article>`;
  }

  override render() {
    const servers = this.store.detailsOf('models').flatMap(([, d]) => d.servers);
    if (servers.length === 0) return nothing;
    return html`<section aria-labelledby="models-h">
      <h2 id="models-h">Model servers</h2>
      <div class="cards wide">${servers.map((x) => this.card(x))}</div>
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rw-model-cards': RwModelCards;
  }
}
