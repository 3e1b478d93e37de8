// PostgreSQL and Redis: one row per instance with its key numbers.

import type { PostgresDetails, RedisDetails, SourceStatus } from '../../../protocol';
import { instanceOf, instanceSeries } from '../../../protocol/keys';
import { detailsOf, seriesValue, type SourceViewAdapter, type ViewContext, type ViewItem } from '../adapter';
import { DATABASES_GROUP } from '../groups';
import { notReadyItem, sourceIcon } from '../source-items';

function databaseItem(s: SourceStatus, label: string, ctx: ViewContext, describeReady: (v: (metric: string) => number | null) => string): ViewItem {
  const key = `src/${s.id}`;
  if (s.state !== 'ready') return notReadyItem(key, label, s, ctx.fmt);
  const det = detailsOf(ctx.sample, s.id) as PostgresDetails | RedisDetails | undefined;
  const md = ctx.fmt.markdown;
  return {
    key,
    label,
    description: describeReady((metric) => seriesValue(ctx.sample, instanceSeries(s.id, metric))),
    tooltip: `**${md(label)}**${det && 'target' in det ? `\n\n${md(det.target)}` : ''}${s.description ? `\n\n${md(s.description)}` : ''}`,
    icon: sourceIcon(s, 'database'),
    contextValue: `rigwatch.source.${s.kind}`,
  };
}

/** PostgreSQL instances. */
export const postgresAdapter: SourceViewAdapter = {
  kind: 'postgres',
  group: DATABASES_GROUP,
  icon: 'database',
  section: 'rw-db-cards',
  label: (s) => `PostgreSQL ${instanceOf(s.id)}`,
  describe(sources, ctx) {
    const { fmt } = ctx;
    return sources.map((s) =>
      databaseItem(
        s,
        postgresAdapter.label(s),
        ctx,
        (v) =>
          `${fmt.number(v('connections_total_count'), 0)}/${fmt.number(v('max_connections_count'), 0)} conn · hit ${fmt.percent(v('cache_hit_ratio'))} · ${fmt.number(v('xact_per_second'), 0)} tx/s`,
      ),
    );
  },
  charts: (s) => [
    { title: 'Transactions/s', lines: [{ series: instanceSeries(s.id, 'xact_per_second'), label: 'Transactions/s' }] },
    {
      title: 'Connections',
      lines: [
        { series: instanceSeries(s.id, 'connections_active_count'), label: 'Active' },
        { series: instanceSeries(s.id, 'connections_idle_count'), label: 'Idle' },
      ],
    },
  ],
};

/** Redis instances. */
export const redisAdapter: SourceViewAdapter = {
  kind: 'redis',
  group: DATABASES_GROUP,
  icon: 'database',
  section: 'rw-db-cards',
  label: (s) => `Redis ${instanceOf(s.id)}`,
  describe(sources, ctx) {
    const { fmt } = ctx;
    return sources.map((s) =>
      databaseItem(
        s,
        redisAdapter.label(s),
        ctx,
        (v) => `${fmt.bytes(v('memory_used_bytes'))} · ${fmt.number(v('ops_per_second'), 0)} ops/s · hit ${fmt.percent(v('hit_ratio'))}`,
      ),
    );
  },
  charts: (s) => [
    { title: 'Ops/s', lines: [{ series: instanceSeries(s.id, 'ops_per_second'), label: 'Ops/s' }] },
    { title: 'Memory used', lines: [{ series: instanceSeries(s.id, 'memory_used_bytes'), label: 'Memory used' }] },
  ],
};
