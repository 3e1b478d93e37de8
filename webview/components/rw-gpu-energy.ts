// <rw-gpu-energy>: the energy each NVIDIA GPU used over the selected time range, and the total — the
// increase of `gpu.<i>.energy_joules` (NVML's counter) in the range's history plus live samples.

import { css, html, nothing } from 'lit';
import { customElement } from 'lit/decorators.js';
import { formatInOneUnit } from '../../protocol/format';
import { counterIncrease } from '../../client/views/adapters/gpu';
import { RANGES } from '../state';
import type { SeriesBuffer } from '../series-buffer';
import { shared } from '../theme';
import { StoreElement } from './store-element';

/** Energy per GPU and in total over the selected range. */
@customElement('rw-gpu-energy')
export class RwGpuEnergy extends StoreElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
      }
      .energy {
        display: flex;
        flex-wrap: wrap;
        gap: 4px 14px;
        margin: 6px 0;
      }
      .total {
        font-weight: 600;
      }
    `,
  ];

  private watched = new Map<number, { buf: SeriesBuffer; unwatch: () => void }>();

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const w of this.watched.values()) w.unwatch();
    this.watched.clear();
  }

  /**
   * NVIDIA GPUs (their energy series is watched). By the device list, not by current values: a value
   * missing for a moment (a reconnect) must not unwatch and re-request the series.
   */
  private indices(): number[] {
    const devices = this.store.detailsOf('gpu').flatMap(([, g]) => g.devices);
    return devices.filter((d) => (d.vendor ?? 'nvidia') === 'nvidia').map((d) => d.index);
  }

  protected override willUpdate(changed: Map<PropertyKey, unknown>): void {
    super.willUpdate(changed);
    if (!this.store || !this.isConnected) return;
    const want = new Set(this.indices());
    for (const [i, w] of this.watched) {
      if (!want.has(i)) {
        w.unwatch();
        this.watched.delete(i);
      }
    }
    for (const i of want) {
      if (this.watched.has(i)) continue;
      const r = this.store.watch([`gpu.${i}.energy_joules`]);
      this.watched.set(i, { buf: r.buffers[0], unwatch: r.unwatch });
    }
  }

  override render() {
    if (this.watched.size === 0) return nothing;
    const s = this.store;
    const minT = s.now() - s.windowMs;
    const range = RANGES.find((r) => r.id === s.ui.range);
    const span = range?.id === 'live' ? 'last 2 min' : `last ${range?.label ?? ''}`;
    const per = [...this.watched]
      .sort(([a], [b]) => a - b)
      .map(([i, w]) => [i, counterIncrease(w.buf.points.filter((p) => p.x >= minT))] as const)
      // A GPU without an energy counter (not supported: null) shows nothing.
      .filter(([i, j]) => j !== null || typeof s.value(`gpu.${i}.energy_joules`) === 'number');
    if (per.length === 0) return nothing;
    const known = per.filter(([, j]) => j !== null);
    const total = known.length ? known.reduce((a, [, j]) => a + (j ?? 0), 0) : null;
    // One unit for the whole line, chosen by its largest value (the total): never `2 Wh` beside `1549 J`.
    const texts = formatInOneUnit('joules', [...per.map(([, j]) => j), per.length > 1 ? total : null]);
    return html`<div class="energy" data-control="gpu-energy" title="Increase of NVML's energy counter over the range (a driver reload restarts it from 0)">
      <span class="muted">Energy, ${span}:</span>
      ${per.map(([i], k) => html`<span data-gpu=${String(i)}>GPU ${i} ${texts[k]}</span>`)}
      ${per.length > 1 ? html`<span class="total">total ${texts[per.length]}</span>` : nothing}
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rw-gpu-energy': RwGpuEnergy;
  }
}
