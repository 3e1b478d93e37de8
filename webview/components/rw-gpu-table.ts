// <rw-gpu-table>: the dense, nvitop-like GPU view shown first — one row per GPU with index, short name,
// utilisation bar, VRAM bar with used/total, temperature, power/limit and the top process with its
// owner. Readable at 400 px (name and power fold away) and on 8+ GPUs at a glance.

import { css, html, nothing } from 'lit';
import { customElement } from 'lit/decorators.js';
import type { GpuDevice, GpuProcess } from '../../protocol/details/gpu';
import { fmtBytes, fmtCelsius, fmtPercent, fmtUsedTotal, fmtWatts, has, NA, type Maybe } from '../format';
import { naTitle } from '../na-reason';
import { styleProps } from '../style-props';
import { shared } from '../theme';
import { StoreElement } from './store-element';

/** A GPU's name without the vendor prefix (`NVIDIA H100 80GB HBM3` → `H100 80GB HBM3`). */
export function shortName(name: string): string {
  return name
    .replace(/^NVIDIA\s+/i, '')
    .replace(/^(GeForce|Tesla|Quadro)\s+/i, '')
    .trim();
}

/** The process holding the most VRAM on a GPU. */
export function topProcess(procs: readonly GpuProcess[], gpu: number): GpuProcess | undefined {
  let top: GpuProcess | undefined;
  for (const p of procs) if (p.gpuIndex === gpu && (!top || (p.usedMemoryBytes ?? -1) > (top.usedMemoryBytes ?? -1))) top = p;
  return top;
}

/** The GPU table. */
@customElement('rw-gpu-table')
export class RwGpuTable extends StoreElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
        margin: 6px 0 10px;
      }
      .t {
        display: grid;
        grid-template-columns: auto minmax(0, 10em) minmax(7em, 1fr) minmax(10em, 1.4fr) auto auto minmax(0, 1.2fr);
        gap: 2px 10px;
        align-items: center;
        font-size: 0.92em;
      }
      .h {
        font-size: 0.85em;
        text-transform: uppercase;
        letter-spacing: 0.04em;
      }
      .row {
        display: contents;
        cursor: pointer;
      }
      .num {
        font-variant-numeric: tabular-nums;
        white-space: nowrap;
        text-align: right;
      }
      .idx {
        font-weight: 700;
        white-space: nowrap;
      }
      .name,
      .proc {
        min-width: 0;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .bar {
        display: grid;
        grid-template-columns: minmax(2em, 1fr) auto;
        gap: 6px;
        align-items: center;
        min-width: 0;
      }
      .track {
        height: 6px;
        border-radius: 3px;
        overflow: hidden;
        background: color-mix(in srgb, var(--vscode-foreground, #888) 16%, transparent);
        outline: 1px solid var(--vscode-contrastBorder, transparent);
      }
      .fill {
        height: 100%;
        background: var(--vscode-charts-blue, #3794ff);
      }
      .hot {
        color: var(--vscode-errorForeground, #f14c4c);
        font-weight: 600;
      }
      .sel .idx {
        text-decoration: underline;
      }
      /* Narrow (a sidebar, a phone): the name and power fold away; the numbers stay. */
      @media (max-width: 560px) {
        .t {
          grid-template-columns: auto minmax(6em, 1fr) minmax(8.5em, 1.3fr) auto minmax(0, 1fr);
        }
        .name,
        .pw {
          display: none;
        }
      }
    `,
  ];

  private bar(ratio: Maybe, text: string) {
    const r = has(ratio) ? Math.max(0, Math.min(1, ratio)) : 0;
    return html`<span class="bar" role="meter" aria-valuemin="0" aria-valuemax="100" aria-valuenow=${Math.round(r * 100)} aria-valuetext=${text}>
      <span class="track"><span class="fill" .style=${styleProps({ display: 'block', width: `${(r * 100).toFixed(1)}%` })}></span></span>
      <span class="num">${text}</span>
    </span>`;
  }

  override render() {
    const s = this.store;
    const gpus = s.detailsOf('gpu');
    const devices: GpuDevice[] = gpus.flatMap(([, g]) => g.devices);
    if (devices.length === 0) return nothing;
    const procs = gpus.flatMap(([, g]) => g.processes);
    const hot = new Set(
      s
        .activeAlerts()
        .filter((a) => a.ruleId.startsWith('gpu-temperature'))
        .map((a) => a.series),
    );
    return html`<div class="t" role="table" aria-label="GPUs">
      <div class="row h muted" role="row">
        <span role="columnheader">GPU</span><span class="name" role="columnheader">Name</span><span role="columnheader">Util</span>
        <span role="columnheader">VRAM</span><span class="num" role="columnheader">Temp</span><span class="num pw" role="columnheader">Power</span>
        <span role="columnheader">Top process</span>
      </div>
      ${devices.map((d) => {
        const v = (m: string): number | null => s.value(`gpu.${d.index}.${m}`);
        const used = v('memory_used_bytes');
        const total = v('memory_total_bytes');
        const power = v('power_watts');
        const limit = v('power_limit_watts');
        const top = topProcess(procs, d.index);
        const temp = `gpu.${d.index}.temperature_celsius`;
        return html`<div
          class="row ${s.ui.gpu === d.index ? 'sel' : ''}"
          role="row"
          data-gpu=${d.index}
          title=${`GPU ${d.index}: ${d.name}`}
          @click=${() => s.setUi({ gpu: d.index, gpuView: 'single' })}
        >
          <span class="idx" role="cell">${d.index}</span>
          <span class="name" role="cell">${shortName(d.name)}</span>
          <span role="cell" title=${naTitle(d, { utilization_ratio: v('utilization_ratio') })}
            >${this.bar(v('utilization_ratio'), fmtPercent(v('utilization_ratio')))}</span
          >
          <span role="cell" title=${naTitle(d, { memory_used_bytes: used, memory_total_bytes: total })}
            >${this.bar(has(used) && has(total) && total > 0 ? used / total : null, fmtUsedTotal(used, total))}</span
          >
          <span class="num ${hot.has(temp) ? 'hot' : ''}" role="cell" title=${naTitle(d, { temperature_celsius: v('temperature_celsius') })}
            >${fmtCelsius(v('temperature_celsius'))}</span
          >
          <span class="num pw" role="cell" title=${naTitle(d, { power_watts: power })}
            >${has(power) ? `${fmtWatts(power)}${has(limit) ? ` / ${fmtWatts(limit)}` : ''}` : NA}</span
          >
          <span class="proc" role="cell"
            >${top ? `${top.name ?? top.pid}${top.user ? ` (${top.user})` : ''} · ${fmtBytes(top.usedMemoryBytes)}` : html`<span class="muted">—</span>`}</span
          >
        </div>`;
      })}
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rw-gpu-table': RwGpuTable;
  }
}
