// <rw-container-timeline>: one health tracker per container over the selected range, coloured by
// state (healthy/running, starting, unhealthy, stopped, no data), with its current numbers.

import { css, html, nothing } from 'lit';
import { customElement } from 'lit/decorators.js';
import type { DockerContainer } from '../../protocol/details/docker';
import { containerSeries } from '../../protocol/keys';
import { fmtBytes, fmtCount, fmtPercent, fmtSeconds, has } from '../format';
import type { SeriesBuffer } from '../series-buffer';
import { styleProps } from '../style-props';
import { shared } from '../theme';
import { valueList } from '../wrap-text';
import { StoreElement } from './store-element';

/** A state in the tracker. */
export type TrackState = 'ok' | 'starting' | 'unhealthy' | 'stopped' | 'unknown';

/** A run of one state, as fractions of the window. */
export interface TrackRun {
  state: TrackState;
  from: number;
  to: number;
}

const LABEL: Record<TrackState, string> = {
  ok: 'running',
  starting: 'starting',
  unhealthy: 'unhealthy',
  stopped: 'stopped',
  unknown: 'no data',
};

function stateOf(running: number | null, health: number | null): TrackState {
  if (running === null) return 'unknown';
  if (running < 0.5) return 'stopped';
  if (health !== null && health >= 1.5) return 'unhealthy';
  if (health !== null && health >= 0.5) return 'starting';
  return 'ok';
}

/** Turns the running/health buffers into runs over [start, end]. */
export function trackRuns(running: SeriesBuffer, health: SeriesBuffer, start: number, end: number): TrackRun[] {
  const span = end - start;
  const runs: TrackRun[] = [];
  const pts = running.points;
  const hp = health.points;
  let j = 0;
  for (let i = 0; i < pts.length; i++) {
    const t0 = Math.max(start, pts[i].x);
    const t1 = i + 1 < pts.length ? Math.min(end, pts[i + 1].x) : end;
    if (t1 <= t0) continue;
    while (j + 1 < hp.length && hp[j + 1].x <= pts[i].x) j++;
    const h = hp[j] && hp[j].x <= pts[i].x ? hp[j].y : null;
    const st = stateOf(pts[i].y, h);
    const from = (t0 - start) / span;
    const to = (t1 - start) / span;
    const last = runs[runs.length - 1];
    if (last && last.state === st && Math.abs(last.to - from) < 1e-9) last.to = to;
    else runs.push({ state: st, from, to });
  }
  return runs;
}

/** Container health timelines. */
@customElement('rw-container-timeline')
export class RwContainerTimeline extends StoreElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
      }
      .rows {
        display: grid;
        gap: 8px;
      }
      .row {
        display: grid;
        /* The same name column in every row (so the tracks line up), wide enough for the numbers at 1400 px. */
        grid-template-columns: minmax(120px, 360px) 1fr;
        gap: 4px 12px;
        align-items: center;
      }
      @media (max-width: 560px) {
        .row {
          grid-template-columns: 1fr;
        }
      }
      .name {
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .meta {
        font-size: 0.85em;
      }
      .track {
        position: relative;
        height: 16px;
        border-radius: 3px;
        border: 1px solid var(--vscode-panel-border);
        overflow: hidden;
      }
      .run {
        position: absolute;
        top: 0;
        bottom: 0;
      }
      .ok {
        background: var(--vscode-charts-green);
      }
      .starting {
        background: var(--vscode-charts-yellow);
      }
      .unhealthy {
        background: var(--vscode-charts-red);
      }
      .stopped {
        background: repeating-linear-gradient(45deg, var(--vscode-descriptionForeground) 0 3px, transparent 3px 6px);
      }
      .unknown {
        background: transparent;
      }
      .legend {
        display: flex;
        gap: 12px;
        flex-wrap: wrap;
        font-size: 0.85em;
        margin-top: 6px;
      }
      .legend span {
        display: inline-flex;
        gap: 4px;
        align-items: center;
      }
      .sw {
        width: 10px;
        height: 10px;
        border-radius: 2px;
        display: inline-block;
      }
    `,
  ];

  private watched = new Map<string, { running: SeriesBuffer; health: SeriesBuffer; unwatch: () => void }>();

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const w of this.watched.values()) w.unwatch();
    this.watched.clear();
  }

  // Keyed by the collector's published series key: names that sanitise alike have different keys.
  private sync(containers: DockerContainer[]): void {
    const keys = new Set(containers.map((c) => c.seriesKey));
    for (const [k, w] of this.watched) {
      if (!keys.has(k)) {
        w.unwatch();
        this.watched.delete(k);
      }
    }
    for (const c of containers) {
      if (this.watched.has(c.seriesKey)) continue;
      const r = this.store.watch([containerSeries(c, 'running_state'), containerSeries(c, 'health_state')]);
      this.watched.set(c.seriesKey, { running: r.buffers[0], health: r.buffers[1], unwatch: r.unwatch });
    }
  }

  protected override willUpdate(changed: Map<PropertyKey, unknown>): void {
    super.willUpdate(changed);
    // Watch the running/health series of exactly the containers on screen.
    if (this.store && this.isConnected) this.sync(this.store.detailsOf('docker').flatMap(([, d]) => d.containers));
  }

  override render() {
    const s = this.store;
    const containers = s.detailsOf('docker').flatMap(([, d]) => d.containers);
    // Without a reachable engine the sources list says why; an empty section would only add noise.
    if (containers.length === 0 && !s.sourcesOf('docker').some((x) => x.state === 'ready')) return nothing;
    const end = s.now();
    const start = end - s.windowMs;
    return html`<section aria-labelledby="ct-h">
      <h2 id="ct-h">Containers <span class="muted">${fmtCount(s.value('docker.containers_running_count'))} running</span></h2>
      ${containers.length === 0 ? html`<div class="muted">No containers.</div>` : nothing}
      <div class="rows">
        ${containers.map((c) => {
          const w = this.watched.get(c.seriesKey);
          const runs = w ? trackRuns(w.running, w.health, start, end) : [];
          const share = (st: TrackState) => runs.filter((r) => r.state === st).reduce((a, r) => a + r.to - r.from, 0);
          const summary = (['ok', 'starting', 'unhealthy', 'stopped'] as TrackState[])
            .map((st) => [st, share(st)] as const)
            .filter(([, x]) => x > 0)
            .map(([st, x]) => `${LABEL[st]} ${Math.round(x * 100)} %`)
            .join(', ');
          const v = (m: string) => s.value(containerSeries(c, m));
          const health = c.health ?? (c.state === 'running' ? 'no health check' : '');
          return html`<div class="row" data-container=${c.name}>
            <div>
              <div class="name" title=${`${c.name} (${c.image})`}>${c.name}</div>
              <div class="meta muted">
                ${valueList(
                  [
                    c.state,
                    health,
                    `restarts ${fmtCount(c.restartCount)}`,
                    has(v('cpu_ratio')) ? `CPU ${fmtPercent(v('cpu_ratio'))}` : '',
                    has(v('memory_used_bytes')) ? fmtBytes(v('memory_used_bytes')) : '',
                    has(v('uptime_seconds')) ? `up ${fmtSeconds(v('uptime_seconds'))}` : '',
                  ].filter(Boolean),
                )}
              </div>
            </div>
            <div class="track" role="img" aria-label=${`${c.name} over the selected range: ${summary || 'no data'}`}>
              ${runs.map(
                (r) =>
                  html`<div
                    class="run ${r.state}"
                    title=${LABEL[r.state]}
                    .style=${styleProps({ left: `${(r.from * 100).toFixed(2)}%`, width: `${((r.to - r.from) * 100).toFixed(2)}%` })}
                  ></div>`,
              )}
            </div>
          </div>`;
        })}
      </div>
      ${
        containers.length
          ? html`<div class="legend" aria-hidden="true">
              ${(['ok', 'starting', 'unhealthy', 'stopped'] as TrackState[]).map((st) => html`<span><i class="sw ${st}"></i>${LABEL[st]}</span>`)}
            </div>`
          : nothing
      }
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rw-container-timeline': RwContainerTimeline;
  }
}
