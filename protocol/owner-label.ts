// One plain-text label of a GPU process's owner, shared by alert messages, the tree and the dashboard.

import type { ProcessOwner } from './details/gpu';

/** A short label of an owner for messages and tables: `container trainer (pytorch:2.3)`, `pod default/web`, `unit nginx.service`. */
export function ownerLabel(o: ProcessOwner | null | undefined): string | null {
  if (!o) return null;
  switch (o.kind) {
    case 'container': {
      const name = o.containerName ?? (o.containerId ? o.containerId.slice(0, 12) : '?');
      return `container ${name}${o.image ? ` (${o.image})` : ''}`;
    }
    case 'pod':
      if (o.podNamespace && o.podName) return `pod ${o.podNamespace}/${o.podName}`;
      return `pod ${o.podUid ?? '?'}${o.containerId ? ` container ${o.containerId.slice(0, 12)}` : ''}`;
    case 'unit':
      return `unit ${o.unit}`;
    case 'session':
      return `session ${o.session}`;
    case 'host':
      return null;
  }
}
