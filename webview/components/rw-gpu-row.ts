// <rw-gpu-row>: the GPU section — the dense GPU table first, then (advanced view) a card per GPU,
// single/compare toggle, GPU selector, charts and the process table.

import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import { css, html, nothing } from 'lit';
import { customElement } from 'lit/decorators.js';
import type { GpuDetails } from '../../protocol/details/gpu';
import { shared } from '../theme';
import { StoreElement } from './store-element';
import './rw-gpu-card';
import './rw-gpu-charts';
import './rw-gpu-energy';
import './rw-gpu-processes';
import './rw-gpu-table';

/** The GPU section. */
@customElement('rw-gpu-row')
export class RwGpuRow extends StoreElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
      }
      .tools {
        display: inline-flex;
        flex-wrap: wrap;
        gap: 6px;
        align-items: center;
        text-transform: none;
        letter-spacing: normal;
        font-weight: normal;
        min-width: 0;
        max-width: 100%;
      }
      vscode-single-select {
        width: 300px;
        max-width: 100%;
      }
      .sub {
        font-weight: normal;
        text-transform: none;
        letter-spacing: normal;
      }
    `,
  ];

  override render() {
    const s = this.store;
    const gpus = s.detailsOf('gpu');
    const d: GpuDetails | undefined = gpus[0]?.[1];
    const devices = gpus.flatMap(([, g]) => g.devices);
    if (devices.length === 0) return nothing;
    const indices = devices.map((x) => x.index);
    const sel = indices.includes(s.ui.gpu) ? s.ui.gpu : indices[0];
    const compare = s.ui.gpuView === 'compare' && indices.length > 1;
    const advanced = s.ui.mode === 'advanced';
    return html`<section aria-labelledby="gpu-h">
      <h2 id="gpu-h">
        GPUs
        <span class="sub muted"
          >${devices.length} ·
          ${d?.backend ?? ''}${d?.driverVersion ? ` · driver ${d.driverVersion}` : ''}${d?.cudaVersion ? ` · CUDA ${d.cudaVersion}` : ''}</span
        >
        ${
          indices.length > 1 && advanced
            ? html`<span class="tools">
                <vscode-button
                  secondary
                  data-control="compare"
                  aria-pressed=${compare ? 'true' : 'false'}
                  aria-label="Compare all GPUs on the same charts"
                  @click=${() => s.setUi({ gpuView: compare ? 'single' : 'compare' })}
                  >${compare ? 'Compare: on' : 'Compare: off'}</vscode-button
                >
                ${
                  compare
                    ? nothing
                    : html`<vscode-single-select
                        aria-label="GPU shown in the charts"
                        data-control="gpu-select"
                        .value=${String(sel)}
                        @change=${(e: Event) => s.setUi({ gpu: Number((e.target as HTMLInputElement).value) })}
                      >
                        ${devices.map((x) => html`<vscode-option value=${String(x.index)} ?selected=${x.index === sel}>GPU ${x.index}: ${x.name}</vscode-option>`)}
                      </vscode-single-select>`
                }
              </span>`
            : nothing
        }
      </h2>
      <rw-gpu-table .store=${s}></rw-gpu-table>
      <rw-gpu-energy .store=${s}></rw-gpu-energy>
      ${
        advanced
          ? html`<div class="cards">
              ${devices.map((x) => html`<rw-gpu-card .store=${s} .index=${x.index} .device=${x} ?selected=${!compare && indices.length > 1 && x.index === sel}></rw-gpu-card>`)}
            </div>`
          : nothing
      }
      ${
        advanced
          ? html`<rw-gpu-charts .store=${s} .gpus=${compare ? indices : [sel]}></rw-gpu-charts> <rw-gpu-processes .store=${s}></rw-gpu-processes>`
          : nothing
      }
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rw-gpu-row': RwGpuRow;
  }
}
