// <rw-gpu-processes>: who is using the GPUs — pid, name (full command on hover), user, owner (container,
// pod, unit, session), start time, GPU, VRAM, SM utilisation; sortable.

import { css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import type { GpuProcess } from '../../protocol/details/gpu';
import { fmtBytes, fmtPercent, NA } from '../format';
import { ownerLabel } from '../../protocol/owner-label';

/** `HH:MM` today, else `YYYY-MM-DD`, in local time. */
function fmtStart(t: number | null | undefined): string {
  if (t === null || t === undefined) return NA;
  const d = new Date(t);
  const now = new Date();
  if (d.toDateString() === now.toDateString()) return d.toTimeString().slice(0, 5);
  return d.toISOString().slice(0, 10);
}
import { shared } from '../theme';
import { formatValue } from '../../protocol/format';
import { StoreElement } from './store-element';

type Key =
  'pid' | 'name' | 'user' | 'owner' | 'startTime' | 'gpuIndex' | 'usedMemoryBytes' | 'smUtilRatio' | 'memUtilRatio' | 'encoderUtilRatio' | 'energyJoules';

const COLUMNS: { key: Key; label: string; numeric: boolean }[] = [
  // Who and how much first ("who is eating my VRAM?"): a narrow panel shows these before it scrolls.
  { key: 'pid', label: 'PID', numeric: true },
  { key: 'name', label: 'Process', numeric: false },
  { key: 'gpuIndex', label: 'GPU', numeric: true },
  { key: 'usedMemoryBytes', label: 'VRAM', numeric: true },
  { key: 'smUtilRatio', label: 'SM', numeric: true },
  { key: 'owner', label: 'Owner', numeric: false },
  { key: 'user', label: 'User', numeric: false },
  { key: 'startTime', label: 'Started', numeric: true },
  { key: 'memUtilRatio', label: 'Mem', numeric: true },
  { key: 'encoderUtilRatio', label: 'Enc/Dec', numeric: true },
  { key: 'energyJoules', label: 'Energy (est.)', numeric: true },
];

/** Sorts processes; missing values always sort last. */
export function sortProcesses(list: GpuProcess[], key: Key, dir: 1 | -1): GpuProcess[] {
  const val = (p: GpuProcess): string | number | null | undefined => (key === 'owner' ? ownerLabel(p.owner) : p[key]);
  return [...list].sort((a, b) => {
    const x = val(a);
    const y = val(b);
    if (x === null || x === undefined) return y === null || y === undefined ? a.pid - b.pid : 1;
    if (y === null || y === undefined) return -1;
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return c === 0 ? a.pid - b.pid : c * dir;
  });
}

/** The GPU process table. */
@customElement('rw-gpu-processes')
export class RwGpuProcesses extends StoreElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
        margin-top: 10px;
      }
      .scroll {
        overflow-x: auto;
      }
      table {
        border-collapse: collapse;
        width: 100%;
        font-variant-numeric: tabular-nums;
      }
      caption {
        text-align: left;
        font-weight: 600;
        margin-bottom: 4px;
      }
      th,
      td {
        padding: 3px 8px;
        border-bottom: 1px solid var(--vscode-panel-border);
        white-space: nowrap;
      }
      td.name {
        max-width: 240px;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      /* Narrow panels: process and owner give up width (ellipsis, full text on hover) so VRAM and SM
         come into view before the table has to scroll. */
      @media (max-width: 600px) {
        td.name {
          max-width: 9em;
        }
      }
      th {
        text-align: left;
        font-weight: 600;
      }
      .r {
        text-align: right;
      }
      th button {
        all: unset;
        cursor: pointer;
        display: inline-flex;
        gap: 4px;
      }
      th button:focus-visible {
        outline: 1px solid var(--vscode-focusBorder);
      }
      tbody tr:hover {
        background: var(--vscode-list-hoverBackground);
      }
    `,
  ];

  @state() private key: Key = 'usedMemoryBytes';
  @state() private sortDir: 1 | -1 = -1;

  private sortBy(k: Key): void {
    if (this.key === k) this.sortDir = this.sortDir === 1 ? -1 : 1;
    else {
      this.key = k;
      this.sortDir = COLUMNS.find((c) => c.key === k)?.numeric ? -1 : 1;
    }
  }

  override render() {
    const procs = this.store.detailsOf('gpu').flatMap(([, d]) => d.processes);
    const rows = sortProcesses(procs, this.key, this.sortDir);
    return html`<div class="scroll">
      <table>
        <caption>
          GPU processes
          <span class="muted">(${procs.length})</span>
        </caption>
        <thead>
          <tr>
            ${COLUMNS.map((c) => {
              const active = c.key === this.key;
              const sort = active ? (this.sortDir === 1 ? 'ascending' : 'descending') : 'none';
              return html`<th class=${c.numeric ? 'r' : ''} aria-sort=${sort} scope="col">
                <button data-sort=${c.key} @click=${() => this.sortBy(c.key)} aria-label=${`Sort by ${c.label}`}>
                  ${c.label}${active ? (this.sortDir === 1 ? ' ▲' : ' ▼') : nothing}
                </button>
              </th>`;
            })}
          </tr>
        </thead>
        <tbody>
          ${
            rows.length === 0
              ? html`<tr>
                  <td colspan=${COLUMNS.length} class="muted">No processes are using a GPU.</td>
                </tr>`
              : rows.map(
                  (p) =>
                    html`<tr>
                      <td class="r">${p.pid}</td>
                      <td class="name" title=${p.command ?? p.name ?? ''}>
                        ${p.name ?? NA}${p.alive === false ? html` <span class="muted">(exited)</span>` : nothing}
                      </td>
                      <td class="r">${p.gpuIndex}${p.gpuInstanceId !== undefined ? html` <span class="muted">GI ${p.gpuInstanceId}</span>` : nothing}</td>
                      <td class="r">${fmtBytes(p.usedMemoryBytes)}</td>
                      <td class="r">${fmtPercent(p.smUtilRatio)}</td>
                      <td class="name" title=${[ownerLabel(p.owner), p.owner?.note].filter((x) => !!x).join(' — ')}>${ownerLabel(p.owner) ?? NA}</td>
                      <td>${p.user ?? NA}</td>
                      <td class="r" title=${p.startTime ? new Date(p.startTime).toString() : ''}>${fmtStart(p.startTime)}</td>
                      <td class="r">${fmtPercent(p.memUtilRatio ?? null)}</td>
                      <td class="r">${fmtPercent(p.encoderUtilRatio ?? null)} · ${fmtPercent(p.decoderUtilRatio ?? null)}</td>
                      <td class="r" title="Estimate since first seen: the GPU's energy split by SM share">${formatValue('joules', p.energyJoules ?? null)}</td>
                    </tr>`,
                )
          }
        </tbody>
      </table>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rw-gpu-processes': RwGpuProcesses;
  }
}
