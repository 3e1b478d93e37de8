// The object `activate` returns: lets tests (and other extensions) observe what Rigwatch shows.

import type { ConnectionManager } from './connection-manager';
import type { ShownNotification } from './notifications';
import type { MonitorPanel } from './panel/monitor-panel';
import type { StatusView } from './views/status-text';
import type { TreeNode } from './views/tree-node';

/** Timings of activation, epoch ms. */
export interface ActivationTimes {
  activatedAt: number;
  /** First status-bar text with numbers (GPU or host), once a collector delivered a sample. */
  firstDataAt?: number;
}

/** Rigwatch's extension API. */
export interface RigwatchApi {
  readonly manager: ConnectionManager;
  readonly panel: MonitorPanel;
  statusBar(): StatusView | undefined;
  /** Number of status-bar changes applied so far. */
  statusBarUpdates(): number;
  servicesTree(): TreeNode[];
  /** Scrolls the Services tree to the row with this id (without selecting it); false when there is no such row. */
  revealServiceRow(id: string): Promise<boolean>;
  /** Whether a Services row keeps its text because its tooltip opened (VS Code resolved it on hover). */
  serviceRowHeld(id: string): boolean;
  alertsTree(): TreeNode[];
  treeRefreshes(): number;
  notifications(): readonly ShownNotification[];
  readonly times: ActivationTimes;
}
