// <rw-gpu-card>: one GPU at a glance — name, utilisation, VRAM, temperature, power vs limit, clocks, fan.

import { css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { GpuDevice } from '../../protocol/details/gpu';
import { fmtUsedTotal, fmtBytes, fmtCelsius, fmtHertz, fmtPercent, fmtWatts, has, NA } from '../format';
import { naTitle } from '../na-reason';
import { shared } from '../theme';
import { StoreElement } from './store-element';
import './rw-meter';

/** A GPU summary card. */
@customElement('rw-gpu-card')
export class RwGpuCard extends StoreElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
        min-width: 0;
      }
      .card.alerting {
        border-color: var(--vscode-editorWarning-foreground);
      }
      .card.critical {
        border-color: var(--vscode-editorError-foreground);
      }
      .card.selected {
        outline: 1px solid var(--vscode-focusBorder);
      }
      .top {
        display: flex;
        align-items: baseline;
        justify-content: space-between;
        gap: 8px;
      }
      .name {
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .notes {
        font-size: 0.85em;
        margin-top: 4px;
      }
      .health {
        font-size: 0.9em;
        margin: 2px 0 4px;
      }
      .health.degraded {
        color: var(--vscode-editorWarning-foreground);
      }
      .health.action-needed {
        color: var(--vscode-editorError-foreground);
        font-weight: 600;
      }
      .mig {
        width: 100%;
        font-size: 0.9em;
        margin-top: 4px;
        border-collapse: collapse;
      }
      .mig th,
      .mig td {
        text-align: left;
        padding: 1px 6px 1px 0;
        font-weight: normal;
        white-space: nowrap;
      }
      .mig .num {
        text-align: right;
        font-variant-numeric: tabular-nums;
      }
      .health ul {
        margin: 2px 0 0;
        padding-left: 1.2em;
        font-weight: normal;
      }
    `,
  ];

  @property({ type: Number }) index = 0;
  @property({ attribute: false }) device: GpuDevice | undefined;
  @property({ type: Boolean }) selected = false;

  override render() {
    const s = this.store;
    const i = this.index;
    const v = (m: string) => s.value(`gpu.${i}.${m}`);
    const util = v('utilization_ratio');
    const used = v('memory_used_bytes');
    const total = v('memory_total_bytes');
    const memRatio = v('memory_used_ratio') ?? (has(used) && has(total) && total > 0 ? used / total : null);
    const power = v('power_watts');
    const limit = v('power_limit_watts');
    const powerRatio = has(power) && has(limit) && limit > 0 ? power / limit : null;
    const d = this.device;
    const alerts = s.activeAlerts().filter((a) => a.series.startsWith(`gpu.${i}.`) && a.state === 'firing');
    const cls = alerts.some((a) => a.severity === 'critical') ? 'critical' : alerts.length ? 'alerting' : '';
    const advanced = s.ui.mode === 'advanced';
    return html`<article class="card ${cls} ${this.selected ? 'selected' : ''}" aria-label=${`GPU ${i}: ${d?.name ?? ''}`}>
      <h3><span class="muted">GPU ${i}</span> <span class="name" title=${d?.name ?? ''}>${d?.name ?? NA}</span></h3>
      ${
        d?.health
          ? html`<div class="health ${d.health.verdict}" role="status">
              ${d.health.verdict === 'healthy' ? '✓ healthy' : d.health.verdict === 'degraded' ? '⚠ degraded' : '✖ action needed'}
              ${
                d.health.reasons.length
                  ? html`<ul>
                      ${d.health.reasons.map((r) => html`<li>${r}</li>`)}
                    </ul>`
                  : nothing
              }
            </div>`
          : nothing
      }
      <div class="top">
        <span class="big" aria-label="utilisation" title=${naTitle(d, { utilization_ratio: util })}>${fmtPercent(util)}</span>
        <span class="num" title=${naTitle(d, { temperature_celsius: v('temperature_celsius') })}>${fmtCelsius(v('temperature_celsius'))}</span>
      </div>
      <rw-meter
        label="VRAM"
        .value=${memRatio}
        text=${fmtUsedTotal(used, total)}
        warn="0.99"
        crit="2"
        title=${naTitle(d, { memory_used_bytes: used, memory_total_bytes: total })}
      ></rw-meter>
      <rw-meter
        label="Power"
        .value=${powerRatio}
        text=${`${fmtWatts(power)} / ${fmtWatts(limit)}`}
        warn="2"
        crit="2"
        title=${naTitle(d, { power_watts: power, power_limit_watts: limit })}
      ></rw-meter>
      <dl class="kv">
        ${
          has(v('sm_activity_ratio'))
            ? html`<dt title="GPM: share of SMs busy (kernel time is the share of time any kernel ran)">SM active</dt>
                <dd>${fmtPercent(v('sm_activity_ratio'))} <span class="muted">· kernel time ${fmtPercent(util)}</span></dd>`
            : nothing
        }
        ${nvlinkRow(d, v('nvlink_rx_bytes_per_second'), v('nvlink_tx_bytes_per_second'))}
        <dt>SM clock</dt>
        <dd title=${naTitle(d, { sm_clock_hertz: v('sm_clock_hertz') })}>
          ${fmtHertz(v('sm_clock_hertz'))}${has(v('sm_clock_max_hertz')) ? html` <span class="muted">/ ${fmtHertz(v('sm_clock_max_hertz'))}</span>` : nothing}
        </dd>
        <dt>Mem clock</dt>
        <dd title=${naTitle(d, { memory_clock_hertz: v('memory_clock_hertz') })}>${fmtHertz(v('memory_clock_hertz'))}</dd>
        <dt>Fan</dt>
        <dd title=${naTitle(d, { fan_ratio: v('fan_ratio') })}>${fmtPercent(v('fan_ratio'))}</dd>
        ${
          advanced
            ? html`<dt>Mem util</dt>
                <dd title=${naTitle(d, { memory_utilization_ratio: v('memory_utilization_ratio') })}>${fmtPercent(v('memory_utilization_ratio'))}</dd>
                <dt>P-state</dt>
                <dd title=${d?.pstate ? nothing : naTitle(d, { pstate_count: v('pstate_count') })}>
                  ${d?.pstate ?? (has(v('pstate_count')) ? `P${v('pstate_count')}` : NA)}
                </dd>
                <dt>PCIe rx</dt>
                <dd title=${naTitle(d, { pcie_rx_bytes_per_second: v('pcie_rx_bytes_per_second') })}>${fmtBytes(v('pcie_rx_bytes_per_second'))}/s</dd>
                <dt>PCIe tx</dt>
                <dd title=${naTitle(d, { pcie_tx_bytes_per_second: v('pcie_tx_bytes_per_second') })}>${fmtBytes(v('pcie_tx_bytes_per_second'))}/s</dd>
                <dt>Enc/Dec</dt>
                <dd
                  title=${naTitle(d, { encoder_utilization_ratio: v('encoder_utilization_ratio'), decoder_utilization_ratio: v('decoder_utilization_ratio') })}
                >
                  ${fmtPercent(v('encoder_utilization_ratio'))} · ${fmtPercent(v('decoder_utilization_ratio'))}
                </dd>
                <dt>ECC errors</dt>
                <dd title=${naTitle(d, { ecc_volatile_errors_count: v('ecc_volatile_errors_count') })}>
                  ${has(v('ecc_volatile_errors_count')) ? String(v('ecc_volatile_errors_count')) : NA}
                </dd>
                <dt>HW slowdown</dt>
                <dd title=${naTitle(d, { hw_slowdown_ratio: v('hw_slowdown_ratio') })}>${fmtPercent(v('hw_slowdown_ratio'))}</dd>`
            : nothing
        }
      </dl>
      ${migTable(d)} ${d && d.throttleReasons.length ? html`<div class="notes muted">Throttle: ${d.throttleReasons.join(', ')}</div>` : nothing}
      ${throttleShares(d)} ${d && d.notes.length ? html`<div class="notes muted">${d.notes.join(' · ')}</div>` : nothing}
    </article>`;
  }
}

/** NVLink throughput of the GPU (the sum of its links) and links up; each link's rates in the title. Nothing without NVLink. */
function nvlinkRow(d: GpuDevice | undefined, rx: number | null, tx: number | null): unknown {
  const links = d?.nvlink?.links;
  if (!d || !links || links.length === 0) return nothing;
  const up = links.filter((l) => l.active === true).length;
  const perLink = links
    .filter((l) => l.rxBytesPerSecond != null || l.txBytesPerSecond != null)
    .map((l) => `link ${l.link}: rx ${fmtBytes(l.rxBytesPerSecond ?? null)}/s · tx ${fmtBytes(l.txBytesPerSecond ?? null)}/s`);
  const title = perLink.length ? perLink.join('\n') : (d.nvlink?.throughputUnavailable ?? naTitle(d, { nvlink_rx_bytes_per_second: rx }));
  const upTitle = `${up} of ${links.length} links up`;
  return html`<dt title=${upTitle}>NVLink rx</dt>
    <dd title=${title}>${has(rx) ? html`${fmtBytes(rx)}/s` : NA}</dd>
    <dt title=${upTitle}>NVLink tx</dt>
    <dd title=${title}>${has(tx) ? html`${fmtBytes(tx)}/s` : NA}${up < links.length ? html` <span class="muted">· ${upTitle}</span>` : nothing}</dd>`;
}

/** One row per MIG instance: GPU (/compute) instance, VRAM used of total, SM activity (GPM). Nothing without MIG. */
function migTable(d: GpuDevice | undefined): unknown {
  const mig = d?.mig;
  if (!mig) return nothing;
  if (mig.instances.length === 0) return html`<div class="notes muted">MIG enabled, no MIG instances found</div>`;
  const smNa = mig.smActivityUnavailable ?? 'no GPM sample yet';
  return html`<table class="mig" aria-label="MIG instances">
    <thead>
      <tr>
        <th class="muted">MIG</th>
        <th class="muted num">VRAM</th>
        <th class="muted num" title="GPM: share of the instance's SMs busy">SM active</th>
      </tr>
    </thead>
    <tbody>
      ${mig.instances.map(
        (m) =>
          html`<tr>
            <td>GI ${m.gpuInstanceId ?? '?'}${m.computeInstanceId ? html` <span class="muted">/ CI ${m.computeInstanceId}</span>` : nothing}</td>
            <td class="num">${fmtUsedTotal(m.memoryUsedBytes, m.memoryTotalBytes)}</td>
            <td class="num" title=${has(m.smActivityRatio ?? null) ? '' : smNa}>${fmtPercent(m.smActivityRatio ?? null)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

/** `Last 5 min: power cap 62 % · thermal 0 % · idle 30 %` (power cap and thermal always, others when they held). */
function throttleShares(d: GpuDevice | undefined): unknown {
  const th = d?.throttle;
  if (!th || th.reasons.length === 0) return nothing;
  const shown = th.reasons.filter((r) => r.reason === 'power_cap' || r.reason === 'thermal' || r.windowRatio > 0);
  const minutes = Math.max(1, Math.round(th.windowMs / 60_000));
  return html`<div class="notes muted throttle-shares" title="Share of the time each clock-event reason held (violation counters where the GPU has them)">
    Last ${minutes} min: ${shown.map((r) => `${r.label} ${fmtPercent(r.windowRatio)}`).join(' · ')}
  </div>`;
}

declare global {
  interface HTMLElementTagNameMap {
    'rw-gpu-card': RwGpuCard;
  }
}
