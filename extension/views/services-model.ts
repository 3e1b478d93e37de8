// Builds the Services tree (connection → GPUs, Host, Databases, Model servers, Containers, other
// sources) from connection snapshots and the view adapters (client/views): one adapter per source kind
// says how its sources look; this file only arranges them. Pure.

import { groupSources, VIEW_ADAPTERS, viewFormat, type SourceViewAdapter, type ViewFormat, type ViewItem } from '../../client/views';
import { formatSeconds } from '../../protocol';
import { escapeMarkdown } from '../format';
import type { ConnectionSnapshot } from './snapshot';
import type { TreeNode } from './tree-node';

const STATE_ICON: Record<string, TreeNode['icon']> = {
  live: { id: 'vm-active', color: 'testing.iconPassed' },
  polling: { id: 'vm-active', color: 'list.warningForeground' },
  connecting: { id: 'loading~spin' },
  reconnecting: { id: 'sync~spin', color: 'list.warningForeground' },
  failed: { id: 'vm-outline', color: 'list.errorForeground' },
  disconnected: { id: 'debug-disconnect' },
};

/** The tree's text formatter. */
const TREE_FORMAT: ViewFormat = viewFormat(escapeMarkdown);

/** The Services tree for every connection. */
export function servicesTree(conns: ConnectionSnapshot[], adapters: readonly SourceViewAdapter[] = VIEW_ADAPTERS): TreeNode[] {
  return conns.map((c) => connectionNode(c, adapters));
}

/** One connection's subtree. */
export function connectionNode(c: ConnectionSnapshot, adapters: readonly SourceViewAdapter[] = VIEW_ADAPTERS): TreeNode {
  const host = c.hello?.host;
  const base = `conn/${c.id}`;
  const children: TreeNode[] = [];
  if (c.state !== 'live' && c.state !== 'polling' && c.reason) {
    children.push({
      id: `${base}/error`,
      label: c.state === 'failed' ? 'Cannot connect' : 'Connection problem',
      description: c.reason,
      tooltip: `**${escapeMarkdown(c.name)}**: ${escapeMarkdown(c.reason)}`,
      icon: { id: 'error', color: 'list.errorForeground' },
      contextValue: 'rigwatch.error',
      ref: { connectionId: c.id },
    });
  }
  if (c.hello) children.push(...sourceGroups(c, base, adapters));
  const stateText = c.state === 'live' ? (host ? `${host.hostname}` : 'live') : c.state;
  return {
    id: base,
    label: c.name,
    description: stateText,
    tooltip: [
      `**${escapeMarkdown(c.name)}** — ${c.state}`,
      c.reason ? escapeMarkdown(c.reason) : '',
      host
        ? `${escapeMarkdown(host.hostname)} · ${host.platform}/${host.arch}${host.cpuCores ? ` · ${host.cpuCores} cores` : ''} · collector ${host.collectorVersion}`
        : '',
      c.hello ? `Interval ${formatSeconds(c.hello.intervalMs / 1000)}` : '',
    ]
      .filter(Boolean)
      .join('\n\n'),
    icon: STATE_ICON[c.state] ?? { id: 'circle' },
    contextValue: `rigwatch.connection.${c.kind}.${c.state}`,
    ref: { connectionId: c.id },
    children,
    expanded: true,
  };
}

function toNode(item: ViewItem, base: string, connectionId: string): TreeNode {
  const node: TreeNode = { id: `${base}/${item.key}`, label: item.label, icon: item.icon };
  if (item.description !== undefined) node.description = item.description;
  if (item.tooltip !== undefined) node.tooltip = item.tooltip;
  if (item.contextValue !== undefined) node.contextValue = item.contextValue;
  if (item.ref) node.ref = { connectionId, ...item.ref };
  if (item.children) node.children = item.children.map((ch) => toNode(ch, base, connectionId));
  if (item.expanded !== undefined) node.expanded = item.expanded;
  return node;
}

function sourceGroups(c: ConnectionSnapshot, base: string, adapters: readonly SourceViewAdapter[]): TreeNode[] {
  const ctx = { host: c.hello?.host, sample: c.latest, alerts: c.alerts, fmt: TREE_FORMAT };
  const out: TreeNode[] = [];
  // Absence is quiet: sources that are simply not on this machine (`unavailable`; a configured source
  // that fails is `down` and stays loud) fold into one grey "Not found" line at the end.
  const absent: { label: string; reason?: string }[] = [];
  for (const { group, kinds } of groupSources(c.sources, adapters)) {
    const present = kinds
      .map(({ adapter, sources }) => {
        const here = sources.filter((x) => x.state !== 'unavailable');
        for (const x of sources) if (x.state === 'unavailable') absent.push({ label: adapter.label(x), reason: x.reason });
        return { adapter, sources: here };
      })
      .filter((k) => k.sources.length > 0);
    if (present.length === 0) continue;
    const items = present.flatMap(({ adapter, sources }) => adapter.describe(sources, ctx));
    const nodes = items.map((it) => toNode(it, base, c.id));
    if (!group.node) {
      out.push(...nodes);
      continue;
    }
    const sources = present.flatMap((k) => k.sources);
    out.push({
      id: `${base}/${group.id}`,
      label: group.node.label,
      icon: group.node.icon,
      children: nodes,
      expanded: group.node.expanded,
      description: group.node.summary?.(sources, items),
    });
  }
  if (absent.length > 0) {
    out.push({
      id: `${base}/not-found`,
      label: 'Not found',
      description: absent.map((a) => a.label).join(', '),
      tooltip: [
        '**Not found on this machine** (auto-detected; not an error)',
        absent.map((a) => `- ${escapeMarkdown(a.label)}${a.reason ? `: ${escapeMarkdown(a.reason)}` : ''}`).join('\n'),
        'To watch one, configure it under `rigwatch.localCollector.config` (e.g. `"postgres": [{ "name": "main", "url": "postgres://…" }]`); see docs/services.md.',
      ].join('\n\n'),
      icon: { id: 'circle-slash', color: 'disabledForeground' },
      contextValue: 'rigwatch.notFound',
    });
  }
  return out;
}
/** The command "Copy Kill Command" copies for a GPU process: a plain `kill` (SIGTERM) of its pid on the box. */
export function killCommand(pid: number): string {
  return `kill ${pid}`;
}
