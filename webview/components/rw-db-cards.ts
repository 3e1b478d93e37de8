// <rw-db-cards>: a card per PostgreSQL and Redis instance with its key numbers; charts in advanced view.

import { css, html, nothing } from 'lit';
import { customElement } from 'lit/decorators.js';
import { instanceOf } from '../../protocol/keys';
import { fmtBytes, fmtCount, fmtNumber, fmtPercent, fmtPerSecond, fmtSeconds, has, NA } from '../format';
import { shared } from '../theme';
import { urlText, valueList } from '../wrap-text';
import { StoreElement } from './store-element';
import { sourceState } from './rw-source-state';
import './rw-chart';
import './rw-meter';

/** Database cards. */
@customElement('rw-db-cards')
export class RwDbCards extends StoreElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
      }
      .db {
        display: flex;
        flex-direction: column;
        gap: 4px;
      }
      .db rw-chart {
        --rw-chart-height: 110px;
        margin-top: 6px;
      }
      .q {
        font-family: var(--vscode-editor-font-family);
        font-size: 0.85em;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
    `,
  ];

  private postgres(id: string) {
    const s = this.store;
    const name = instanceOf(id);
    const p = `${id}.`;
    const v = (m: string) => s.value(p + m);
    const d = s.detailsOf('postgres').find(([sid]) => sid === id)?.[1];
    const active = v('connections_active_count');
    const idle = v('connections_idle_count');
    const total = v('connections_total_count');
    const max = v('max_connections_count');
    const advanced = s.ui.mode === 'advanced';
    return html`<article class="card db" aria-label=${`PostgreSQL ${name}`} data-source=${id}>
      <h3>PostgreSQL <span>${name}</span> ${sourceState(s.sources.get(id), v('up_state'))}</h3>
      <div class="muted target">
        ${d?.target ? urlText(d.target) : ''}${d?.serverVersion ? html` · <span class="nb">${d.serverVersion}</span>` : ''}${d?.isReplica ? ' · replica' : ''}
      </div>
      <rw-meter
        label="Connections"
        .value=${v('connections_used_ratio') ?? (has(total) && has(max) && max > 0 ? total / max : null)}
        text=${`${fmtNumber(active)} active · ${fmtNumber(idle)} idle / ${fmtNumber(max)}`}
      ></rw-meter>
      <dl class="kv">
        <dt>Latency</dt>
        <dd>${fmtSeconds(v('query_latency_seconds') ?? v('connect_latency_seconds'))}</dd>
        <dt>Cache hit</dt>
        <dd>${fmtPercent(v('cache_hit_ratio'))}</dd>
        <dt>Transactions</dt>
        <dd>${fmtNumber(v('xact_per_second'), '/s')}</dd>
        <dt>Rows returned</dt>
        <dd>${fmtNumber(v('rows_returned_per_second'), '/s')}</dd>
        <dt>Deadlocks</dt>
        <dd>${fmtNumber(v('deadlocks_per_second'), '/s')}</dd>
        <dt>Size</dt>
        <dd>${fmtBytes(v('database_size_bytes'))}</dd>
        <dt>Longest query</dt>
        <dd>${fmtSeconds(v('longest_query_seconds'))}</dd>
        <dt>Blocked</dt>
        <dd>${fmtNumber(v('blocked_count'))}</dd>
        ${
          has(v('replication_lag_seconds'))
            ? html`<dt>Replication lag</dt>
                <dd>${fmtSeconds(v('replication_lag_seconds'))}</dd>`
            : nothing
        }
      </dl>
      ${d?.longestQuery ? html`<div class="q" title=${d.longestQuery}>${d.longestQuery}</div>` : nothing}
      ${
        advanced
          ? html`<rw-chart
                .store=${s}
                heading="Transactions/s"
                .lines=${[{ name: p + 'xact_per_second', label: 'Transactions/s' }]}
                .fmt=${fmtPerSecond}
              ></rw-chart>
              <rw-chart
                .store=${s}
                heading="Connections"
                .lines=${[
                  { name: p + 'connections_active_count', label: 'Active' },
                  { name: p + 'connections_idle_count', label: 'Idle' },
                ]}
                .fmt=${fmtCount}
              ></rw-chart>`
          : nothing
      }
    </article>`;
  }

  private redis(id: string) {
    const s = this.store;
    const name = instanceOf(id);
    const p = `${id}.`;
    const v = (m: string) => s.value(p + m);
    const d = s.detailsOf('redis').find(([sid]) => sid === id)?.[1];
    const used = v('memory_used_bytes');
    const max = v('maxmemory_bytes');
    const advanced = s.ui.mode === 'advanced';
    return html`<article class="card db" aria-label=${`Redis ${name}`} data-source=${id}>
      <h3>Redis <span>${name}</span> ${sourceState(s.sources.get(id), v('up_state'))}</h3>
      <div class="muted target">
        ${d?.target ? urlText(d.target) : ''}${d?.version ? html` · <span class="nb">${d.version}</span>` : ''}${d?.role ? ` · ${d.role}` : ''}
      </div>
      <rw-meter
        label="Memory"
        .value=${v('memory_used_ratio')}
        text=${`${fmtBytes(used)} / ${has(max) && max > 0 ? fmtBytes(max) : 'no maxmemory'}`}
      ></rw-meter>
      <dl class="kv">
        <dt>Latency</dt>
        <dd>${fmtSeconds(v('ping_latency_seconds'))}</dd>
        <dt>Clients</dt>
        <dd class="wrap">${valueList([fmtNumber(v('clients_connected_count')), `${fmtNumber(v('clients_blocked_count'))} blocked`])}</dd>
        <dt>Hit ratio</dt>
        <dd>${has(v('hit_ratio')) ? fmtPercent(v('hit_ratio')) : `${NA} (no traffic)`}</dd>
        <dt>Ops</dt>
        <dd>${fmtNumber(v('ops_per_second'), '/s')}</dd>
        <dt>Evicted / expired</dt>
        <dd class="wrap">${valueList([fmtNumber(v('evicted_keys_per_second'), '/s'), fmtNumber(v('expired_keys_per_second'), '/s')])}</dd>
        <dt>Keys (db0)</dt>
        <dd>${fmtNumber(v('db0_keys_count') ?? (v('up_state') === 1 ? 0 : null))}</dd>
      </dl>
      ${
        advanced
          ? html`<rw-chart .store=${s} heading="Ops/s" .lines=${[{ name: p + 'ops_per_second', label: 'Ops/s' }]} .fmt=${fmtPerSecond}></rw-chart>
              <rw-chart .store=${s} heading="Memory used" .lines=${[{ name: p + 'memory_used_bytes', label: 'Memory used' }]} .fmt=${fmtBytes}></rw-chart>`
          : nothing
      }
    </article>`;
  }

  override render() {
    // Instances that never answered are listed (with the reason) under Sources; cards are for the rest.
    const shown = (x: { state: string }) => x.state === 'ready' || x.state === 'down';
    const pg = this.store.sourcesOf('postgres').filter(shown);
    const rd = this.store.sourcesOf('redis').filter(shown);
    if (pg.length + rd.length === 0) return nothing;
    return html`<section aria-labelledby="db-h">
      <h2 id="db-h">Databases</h2>
      <div class="cards wide">${pg.map((x) => this.postgres(x.id))}${rd.map((x) => this.redis(x.id))}</div>
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rw-db-cards': RwDbCards;
  }
}
