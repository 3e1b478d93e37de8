// <rw-gpu-charts>: utilisation, VRAM, temperature and power charts — for one GPU, or every GPU on
// the same axes in compare view.

import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { fmtBytes, fmtCelsius, fmtPercent, fmtWatts } from '../format';
import type { DashboardStore } from '../state';
import { shared } from '../theme';
import type { ChartLine } from './rw-chart';
import './rw-chart';

/** GPU charts. */
@customElement('rw-gpu-charts')
export class RwGpuCharts extends LitElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
      }
    `,
  ];

  @property({ attribute: false }) store!: DashboardStore;
  /** GPU indices to draw (one in single view, all in compare view). */
  @property({ attribute: false, hasChanged: (a: number[], b?: number[]) => !b || a.join() !== b.join() }) gpus: number[] = [];

  private lines(metric: string, label: string): ChartLine[] {
    return this.gpus.map((i) => ({ name: `gpu.${i}.${metric}`, label: this.gpus.length > 1 ? `GPU ${i}` : label }));
  }

  override render() {
    const one = this.gpus.length === 1 ? `GPU ${this.gpus[0]} ` : '';
    return html`<div class="charts">
      <rw-chart
        .store=${this.store}
        heading=${`${one}Utilisation`}
        .lines=${this.lines('utilization_ratio', 'Utilisation')}
        .fmt=${fmtPercent}
        .yMax=${1}
      ></rw-chart>
      <rw-chart .store=${this.store} heading=${`${one}VRAM used`} .lines=${this.lines('memory_used_bytes', 'VRAM used')} .fmt=${fmtBytes}></rw-chart>
      <rw-chart .store=${this.store} heading=${`${one}Temperature`} .lines=${this.lines('temperature_celsius', 'Temperature')} .fmt=${fmtCelsius}></rw-chart>
      <rw-chart
        .store=${this.store}
        heading=${`${one}Power`}
        .lines=${this.gpus.length > 1 ? this.lines('power_watts', 'Power') : [...this.lines('power_watts', 'Power draw'), ...this.lines('power_limit_watts', 'Limit')]}
        .fmt=${fmtWatts}
      ></rw-chart>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rw-gpu-charts': RwGpuCharts;
  }
}
