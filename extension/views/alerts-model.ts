// Builds the Alerts tree: firing first (critical before warning), then pending, then recently resolved,
// each with "since" times and acknowledge/mute actions on active ones. Pure.

import { formatCompared, type AlertInstance } from '../../protocol';
import { escapeMarkdown, formatClock } from '../format';
import type { TreeNode } from './tree-node';

/** An alert together with the connection it came from. */
export interface ConnectionAlert {
  connectionId: string;
  connectionName: string;
  alert: AlertInstance;
}

/** Sort key: firing critical, firing warning, pending, resolved (newest first within each). */
function rank(a: AlertInstance): number {
  if (a.state === 'firing') return a.severity === 'critical' ? 0 : 1;
  if (a.state === 'pending') return 2;
  return 3;
}

/** Orders alerts for display. */
export function sortAlerts(list: ConnectionAlert[]): ConnectionAlert[] {
  const t = (a: AlertInstance) => (a.state === 'resolved' ? (a.resolvedAt ?? 0) : (a.firingSince ?? a.activeSince));
  return [...list].sort((x, y) => rank(x.alert) - rank(y.alert) || t(y.alert) - t(x.alert) || x.alert.id.localeCompare(y.alert.id));
}

/** The tree rows (flat) for the Alerts view (`now` decides whether a mute is still in effect). */
export function alertsTree(list: ConnectionAlert[], now: number, showConnection: boolean): TreeNode[] {
  return sortAlerts(list).map(({ connectionId, connectionName, alert: a }) => {
    const since = a.state === 'resolved' ? (a.resolvedAt ?? a.activeSince) : a.state === 'firing' ? (a.firingSince ?? a.activeSince) : a.activeSince;
    const verb = a.state === 'resolved' ? 'resolved' : a.state === 'firing' ? 'since' : 'pending since';
    const extras: string[] = [];
    if (a.acknowledged) extras.push('acknowledged');
    if (a.mutedUntil && a.mutedUntil > now) extras.push(`muted until ${formatClock(a.mutedUntil)}`);
    // Clock times, not "n s ago": a ticking description would refresh the tree every second for nothing.
    const description = [
      `${a.state === 'resolved' ? 'resolved' : a.severity}`,
      `${verb} ${formatClock(since)}`,
      ...extras,
      showConnection ? connectionName : '',
    ]
      .filter(Boolean)
      .join(' · ');
    const icon: TreeNode['icon'] =
      a.state === 'resolved'
        ? { id: 'pass', color: 'testing.iconPassed' }
        : a.state === 'pending'
          ? { id: 'clock', color: 'list.warningForeground' }
          : a.severity === 'critical'
            ? { id: 'error', color: 'list.errorForeground' }
            : { id: 'warning', color: 'list.warningForeground' };
    return {
      id: `alert/${connectionId}/${a.id}`,
      label: a.message,
      description,
      tooltip: [
        `**${escapeMarkdown(a.message)}**`,
        `${a.state} · ${a.severity} · rule \`${a.ruleId}\` · series \`${a.series}\``,
        `Value ${formatCompared(a.unit ?? a.series, a.value, a.threshold).join(' · threshold ')}`,
        `Active since ${new Date(a.activeSince).toLocaleString()}${a.resolvedAt ? ` · resolved ${new Date(a.resolvedAt).toLocaleString()}` : ''}`,
        showConnection ? `Collector: ${escapeMarkdown(connectionName)}` : '',
      ]
        .filter(Boolean)
        .join('\n\n'),
      icon,
      ref: { connectionId, alertId: a.id },
      contextValue: a.state === 'resolved' ? 'rigwatch.alert.resolved' : a.acknowledged ? 'rigwatch.alert.active.acked' : 'rigwatch.alert.active',
    };
  });
}
