// <rw-host-row>: the host section — CPU (total + per-core heat strip + load), RAM and swap, disk usage
// per mount, disk and network rates; charts for CPU, RAM, disk I/O and network in advanced view.

import { css, html, nothing } from 'lit';
import { customElement } from 'lit/decorators.js';
import { mountSeries } from '../../protocol/keys';
import { dfUsedRatio } from '../../protocol';
import { fmtBytes, fmtNumber, fmtPercent, fmtRate, fmtUsedTotal, has } from '../format';
import { shared } from '../theme';
import { StoreElement } from './store-element';
import './rw-chart';
import './rw-heat-strip';
import './rw-meter';

const CPU_LINES = [{ name: 'host.cpu_busy_ratio', label: 'CPU busy' }];
const MEM_LINES = [
  { name: 'host.memory_used_bytes', label: 'RAM used' },
  { name: 'host.swap_used_bytes', label: 'Swap used' },
];
const DISK_LINES = [
  { name: 'host.disk_read_bytes_per_second', label: 'Read' },
  { name: 'host.disk_write_bytes_per_second', label: 'Write' },
];
const NET_LINES = [
  { name: 'host.net_rx_bytes_per_second', label: 'Receive' },
  { name: 'host.net_tx_bytes_per_second', label: 'Transmit' },
];

/** The host section. */
@customElement('rw-host-row')
export class RwHostRow extends StoreElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
      }
    `,
  ];

  override render() {
    const s = this.store;
    const d = s.detailsOf('host')[0]?.[1];
    if (!d) return nothing;
    const v = (n: string) => s.value(n);
    const cores = Array.from({ length: d.cores }, (_, i) => v(`host.cpu.${i}.busy_ratio`));
    const memTotal = v('host.memory_total_bytes');
    const memUsed = v('host.memory_used_bytes');
    const swapTotal = v('host.swap_total_bytes');
    const swapUsed = v('host.swap_used_bytes');
    const ratio = (a: number | null, b: number | null) => (has(a) && has(b) && b > 0 ? a / b : null);
    const advanced = s.ui.mode === 'advanced';
    return html`<section aria-labelledby="host-h">
      <h2 id="host-h">Host</h2>
      <div class="cards">
        <article class="card" aria-label="CPU">
          <h3>CPU <span class="muted">${d.cores} cores</span></h3>
          <div class="big">${fmtPercent(v('host.cpu_busy_ratio'))}</div>
          <rw-heat-strip .values=${cores}></rw-heat-strip>
          <dl class="kv">
            <dt>Load 1/5/15</dt>
            <dd>${fmtNumber(v('host.load1_count'))} · ${fmtNumber(v('host.load5_count'))} · ${fmtNumber(v('host.load15_count'))}</dd>
          </dl>
        </article>
        <article class="card" aria-label="Memory">
          <h3>Memory</h3>
          <rw-meter
            label="RAM"
            .value=${v('host.memory_used_ratio') ?? ratio(memUsed, memTotal)}
            text=${fmtUsedTotal(memUsed, memTotal)}
            warn="0.85"
            crit="0.95"
          ></rw-meter>
          <rw-meter
            label="Swap"
            .value=${ratio(swapUsed, swapTotal)}
            text=${has(swapTotal) && swapTotal === 0 ? 'none' : fmtUsedTotal(swapUsed, swapTotal)}
          ></rw-meter>
          <dl class="kv">
            <dt>Available</dt>
            <dd>${fmtBytes(v('host.memory_available_bytes'))}</dd>
          </dl>
        </article>
        <article class="card" aria-label="Disks">
          <h3>Disks</h3>
          ${d.mounts.length === 0 ? html`<div class="muted">no mounts</div>` : nothing}
          ${d.mounts.map((m) => {
            const used = v(mountSeries(m.mount, 'used_bytes')) ?? m.usedBytes;
            const avail = v(mountSeries(m.mount, 'avail_bytes')) ?? m.availBytes;
            // As df computes it (used / (used + available)): bar, text, tree and alerts agree with `df`.
            const r = v(mountSeries(m.mount, 'used_ratio')) ?? dfUsedRatio(used, avail);
            return html`<rw-meter label=${m.mount} .value=${r} text=${`${fmtPercent(r)} · ${fmtBytes(avail)} free`} warn="0.8" crit="0.9"></rw-meter>`;
          })}
          <dl class="kv">
            <dt>Read / write</dt>
            <dd>${fmtRate(v('host.disk_read_bytes_per_second'))} · ${fmtRate(v('host.disk_write_bytes_per_second'))}</dd>
          </dl>
        </article>
        <article class="card" aria-label="Network">
          <h3>Network <span class="muted">${d.interfaces.filter((i) => i !== 'lo').join(', ')}</span></h3>
          <dl class="kv">
            <dt>Receive</dt>
            <dd>${fmtRate(v('host.net_rx_bytes_per_second'))}</dd>
            <dt>Transmit</dt>
            <dd>${fmtRate(v('host.net_tx_bytes_per_second'))}</dd>
          </dl>
        </article>
      </div>
      ${
        advanced
          ? html`<div class="charts">
              <rw-chart .store=${s} heading="CPU busy" .lines=${CPU_LINES} .fmt=${fmtPercent} .yMax=${1}></rw-chart>
              <rw-chart .store=${s} heading="Memory" .lines=${MEM_LINES} .fmt=${fmtBytes}></rw-chart>
              <rw-chart .store=${s} heading="Disk I/O" .lines=${DISK_LINES} .fmt=${fmtRate}></rw-chart>
              <rw-chart .store=${s} heading="Network" .lines=${NET_LINES} .fmt=${fmtRate}></rw-chart>
            </div>`
          : nothing
      }
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rw-host-row': RwHostRow;
  }
}
