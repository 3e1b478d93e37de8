// Activation wires the pieces together and starts connecting; nothing heavy happens here (the
// activation event is onStartupFinished, and connecting is asynchronous).

import * as vscode from 'vscode';
import type { RigwatchApi } from './api';
import { registerCommands } from './commands';
import { ConnectionManager } from './connection-manager';
import { GPU_SCHEME, GpuDetailsProvider } from './gpu-details';
import { Notifier } from './notifications';
import { MonitorPanel } from './panel/monitor-panel';
import { RemoteConnections } from './remote-connections';
import { SECTION } from './settings';
import { alertsTree } from './views/alerts-model';
import { NodeTreeProvider } from './views/node-tree-provider';
import { refreshPolicy, type TreeRefreshPolicy } from './views/row-refresh';
import type { TreeNode } from './views/tree-node';
import { servicesTree } from './views/services-model';
import { needsAttention } from './views/snapshot';
import { StatusBar } from './views/status-bar';

let manager: ConnectionManager | undefined;

/** Called by VS Code once startup finished. */
export function activate(ctx: vscode.ExtensionContext): RigwatchApi {
  const activatedAt = Date.now();
  const log = vscode.window.createOutputChannel('Rigwatch', { log: true });
  const collectorLog = vscode.window.createOutputChannel('Rigwatch Collector', { log: true });
  const m = new ConnectionManager(ctx, log, collectorLog);
  manager = m;
  const times: RigwatchApi['times'] = { activatedAt };
  const statusBar = new StatusBar(m, () => {
    times.firstDataAt = Date.now();
    log.info(`first status-bar readout ${times.firstDataAt - activatedAt} ms after activation`);
  });

  // Live rows refresh no faster than a tooltip can open (workbench.hover.delay), so hovers work on them.
  const treePolicy = (): TreeRefreshPolicy => refreshPolicy(vscode.workspace.getConfiguration('workbench').get('hover.delay'));
  const services = new NodeTreeProvider(() => servicesTree(m.list().map(ConnectionManager.snapshot)), treePolicy());
  const alerts = new NodeTreeProvider(
    () =>
      alertsTree(
        m.list().flatMap((c) => c.model.alertList().map((alert) => ({ connectionId: c.id, connectionName: c.name, alert }))),
        Date.now(),
        m.list().length > 1,
      ),
    treePolicy(),
  );
  const servicesView = vscode.window.createTreeView('rigwatch.services', { treeDataProvider: services, showCollapseAll: true });
  const alertsView = vscode.window.createTreeView('rigwatch.alerts', { treeDataProvider: alerts });
  const updateContext = (): void => {
    void vscode.commands.executeCommand('setContext', 'rigwatch.hasConnections', m.list().length > 0);
    // Acknowledged and muted alerts have been seen: they leave the badge (they stay listed in the tree).
    const now = Date.now();
    const firing = m.list().reduce((n, c) => n + c.model.alertList().filter((a) => needsAttention(a, now)).length, 0);
    alertsView.badge = firing > 0 ? { value: firing, tooltip: `${firing} firing alert${firing > 1 ? 's' : ''} not acknowledged or muted` } : undefined;
  };
  const refreshTrees = (): void => {
    // Invisible trees are rebuilt when they become visible; no work at 1 Hz while hidden.
    if (servicesView.visible) services.update();
    if (alertsView.visible) alerts.update();
  };
  const panel = new MonitorPanel(ctx, m, log);
  const notifier = new Notifier(m);
  const gpuDocs = new GpuDetailsProvider(m);

  ctx.subscriptions.push(
    log,
    collectorLog,
    m,
    statusBar,
    services,
    alerts,
    servicesView,
    alertsView,
    panel,
    notifier,
    gpuDocs,
    vscode.workspace.registerTextDocumentContentProvider(GPU_SCHEME, gpuDocs),
    servicesView.onDidChangeVisibility(() => servicesView.visible && services.update()),
    alertsView.onDidChangeVisibility(() => alertsView.visible && alerts.update()),
    m.onDidChangeConnections(() => {
      updateContext();
      services.update();
      alerts.update();
    }),
    m.onDidChangeConnection((e) => {
      const t = e.message?.type;
      if (t === 'alert' || t === 'hello') updateContext();
      if (e.state || t === 'sample' || t === 'hello' || t === 'status' || t === 'alert') refreshTrees();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('workbench.hover.delay')) {
        services.setPolicy(treePolicy());
        alerts.setPolicy(treePolicy());
      }
      if (!e.affectsConfiguration(SECTION)) return;
      void m.onSettingsChanged(e).then(() => statusBar.refresh());
    }),
  );
  registerCommands(ctx, m, panel, collectorLog);
  // SSH remote hosts and the Prometheus fleet view: their commands, settings and connections (issue 9).
  ctx.subscriptions.push(new RemoteConnections(ctx, m, log));
  updateContext();
  m.start().catch((e: Error) => log.error(`start: ${e.message}`));

  return {
    manager: m,
    panel,
    statusBar: () => statusBar.view,
    statusBarUpdates: () => statusBar.updates,
    servicesTree: () => {
      services.update();
      return services.nodes;
    },
    alertsTree: () => {
      alerts.update();
      return alerts.nodes;
    },
    revealServiceRow: async (id) => {
      const find = (nodes: TreeNode[]): TreeNode | undefined => {
        for (const n of nodes) {
          if (n.id === id) return n;
          const c = find(n.children ?? []);
          if (c) return c;
        }
        return undefined;
      };
      const node = find(services.nodes);
      if (!node) return false;
      await servicesView.reveal(node, { select: false, focus: false });
      return true;
    },
    serviceRowHeld: (id) => services.isHeld(id),
    treeRefreshes: () => services.refreshes + alerts.refreshes,
    notifications: () => notifier.shown,
    times,
  };
}

/** Called by VS Code on shutdown: stops the collector this window started. */
export async function deactivate(): Promise<void> {
  const m = manager;
  manager = undefined;
  await m?.shutdown();
}
