// Every "Rigwatch: …" command. Each accepts the tree row it was invoked on (TreeNode with `ref`), a plain
// argument object (for keybindings, tests and other extensions), or nothing (then it asks).

import * as vscode from 'vscode';
import { killCommand } from './views/services-model';
import type { Connection } from './connection/connection';
import { LOCAL_ID, type ConnectionManager } from './connection-manager';
import { parseCollectorUrl } from './connection/collector-client';
import { gpuReportUri } from './gpu-details';
import { formatClock, validateWith } from './format';
import type { MonitorPanel } from './panel/monitor-panel';
import { SECTION } from './settings';
import { runDescription, runsOf } from './views/runs-model';
import { gpuReadings } from './views/snapshot';
import type { TreeNode } from './views/tree-node';
import { plainText } from '../protocol/plain-text';
import { viewFormat } from '../client/views';

/** Quick picks show plain text (no Markdown to escape). */
const PLAIN_FORMAT = viewFormat((t) => t);
/** Longest quick-pick label or description quoting monitored text, in characters. */
const QUICK_PICK_MAX_CHARS = 200;

/** Time ranges offered by Export Metrics, in ms. */
export const EXPORT_RANGES_MS: Record<string, number> = {
  '5m': 5 * 60_000,
  '15m': 15 * 60_000,
  '1h': 3600_000,
  '6h': 6 * 3600_000,
  '24h': 24 * 3600_000,
  '7d': 7 * 24 * 3600_000,
};
/** Mute durations offered by Mute Alert…, in ms. */
const MUTE_CHOICES: [string, number][] = [
  ['15 minutes', 15 * 60_000],
  ['1 hour', 3600_000],
  ['4 hours', 4 * 3600_000],
  ['24 hours', 24 * 3600_000],
  ['Unmute', 0],
];

/** Arguments commands accept instead of a tree row. */
export interface CommandArgs {
  connectionId?: string;
  gpuIndex?: number;
  alertId?: string;
  pid?: number;
  name?: string;
  url?: string;
  token?: string;
  format?: 'csv' | 'json';
  range?: string;
  series?: string[];
  uri?: string;
  durationMs?: number;
  /** Mute this instance only, or every instance of its rule (all GPUs). */
  scope?: 'instance' | 'rule';
  enabled?: boolean;
  gpu?: string;
  /** A training run (`RunInfo.id`) of the connection. */
  runId?: string;
}

function argsOf(a: unknown): CommandArgs {
  if (typeof a === 'string') return { connectionId: a };
  if (typeof a !== 'object' || a === null) return {};
  const n = a as TreeNode & CommandArgs;
  if (n.ref) return { ...n.ref };
  return n;
}

/** Registers all commands. */
export function registerCommands(ctx: vscode.ExtensionContext, manager: ConnectionManager, panel: MonitorPanel, collectorLog: vscode.LogOutputChannel): void {
  const reg = (id: string, fn: (a: CommandArgs) => unknown): void => {
    ctx.subscriptions.push(
      vscode.commands.registerCommand(id, async (raw: unknown) => {
        try {
          return await fn(argsOf(raw));
        } catch (e) {
          void vscode.window.showErrorMessage(`Rigwatch: ${(e as Error).message}`);
          return undefined;
        }
      }),
    );
  };

  /** The connection named by args, the only one, or the user's pick. */
  const pickConnection = async (a: CommandArgs, placeHolder: string, filter: (c: Connection) => boolean = () => true): Promise<Connection | undefined> => {
    if (a.connectionId) {
      const c = manager.get(a.connectionId);
      if (!c) throw new Error(`no connection "${a.connectionId}"`);
      return c;
    }
    const all = manager.list().filter(filter);
    if (all.length === 0) throw new Error('no collector is connected (run "Rigwatch: Start Local Collector" or "Rigwatch: Connect to Collector…")');
    if (all.length === 1) return all[0];
    const pick = await vscode.window.showQuickPick(
      all.map((c) => ({ label: c.name, description: c.state, c })),
      { placeHolder },
    );
    return pick?.c;
  };

  const requireLive = (c: Connection): void => {
    if (c.state !== 'live' && c.state !== 'polling') throw new Error(`${c.name} is ${c.state}${c.reason ? `: ${c.reason}` : ''}`);
  };

  reg('rigwatch.openMonitor', async (a) => {
    const c = a.connectionId ? manager.get(a.connectionId) : undefined;
    panel.show(c);
  });

  reg('rigwatch.openRun', async (a) => {
    const c = await pickConnection(a, 'Open a run of which collector?');
    if (!c) return undefined;
    const runs = runsOf(c.model);
    let runId = a.runId;
    if (runId === undefined) {
      if (runs.length === 0) throw new Error(`${c.name} lists no training runs (see docs/runs.md for how runs are found)`);
      const pick = await vscode.window.showQuickPick(
        runs.map((r) => ({
          label: plainText(r.name, QUICK_PICK_MAX_CHARS),
          description: plainText(runDescription(r, PLAIN_FORMAT), QUICK_PICK_MAX_CHARS),
          id: r.id,
        })),
        { placeHolder: 'Open which run?' },
      );
      if (!pick) return undefined;
      runId = pick.id;
    }
    panel.show(c, { runId });
    return runId;
  });

  reg('rigwatch.connectCollector', async (a) => {
    let url = a.url;
    if (!url) {
      url = await vscode.window.showInputBox({
        title: 'Connect to Collector',
        prompt: 'Collector URL (as printed by rigwatch-collector; a #token=… part is stored securely)',
        placeHolder: 'http://127.0.0.1:9123',
        ignoreFocusOut: true,
        validateInput: validateWith(parseCollectorUrl),
      });
      if (!url) return undefined;
    }
    const parsed = parseCollectorUrl(url);
    let name = a.name;
    if (!name) {
      name = await vscode.window.showInputBox({
        title: 'Connect to Collector',
        prompt: 'Name shown in Rigwatch',
        value: parsed.base.host,
        ignoreFocusOut: true,
        validateInput: (v) => (v.trim() ? undefined : 'a name is required'),
      });
      if (!name) return undefined;
    }
    let token = a.token ?? parsed.token;
    if (token === undefined && a.url === undefined) {
      token = await vscode.window.showInputBox({
        title: 'Connect to Collector',
        prompt: "Token (leave empty if the collector has none); stored in VS Code's secret storage",
        password: true,
        ignoreFocusOut: true,
      });
      if (token === undefined) return undefined;
      if (token === '') token = undefined;
    }
    const conn = await manager.addCollector(name.trim(), url, token);
    return conn.id;
  });

  reg('rigwatch.disconnect', async (a) => {
    const c = await pickConnection(a, 'Disconnect which collector?');
    if (c) await manager.disconnect(c.id);
  });

  reg('rigwatch.reconnect', async (a) => {
    const c = await pickConnection(a, 'Reconnect which collector?');
    if (c?.id === LOCAL_ID && c.state === 'failed') await manager.startLocal();
    else c?.reconnect();
  });

  reg('rigwatch.startLocalCollector', async () => {
    await manager.startLocal();
    return manager.localCollector?.url;
  });

  reg('rigwatch.stopLocalCollector', async () => {
    const owned = manager.localCollector?.owned;
    await manager.stopLocal();
    if (owned === false)
      void vscode.window.showInformationMessage(
        'Rigwatch: disconnected from the shared local collector (another window or process started it, so it keeps running).',
      );
  });

  reg('rigwatch.toggleLogging', async (a) => {
    const c = await pickConnection(a, 'Toggle CSV logging on which collector?');
    if (!c) return undefined;
    requireLive(c);
    const enabled = a.enabled ?? !(c.model.logging?.enabled ?? false);
    const reply = await c.request({ type: 'logging', enabled });
    if (reply.type === 'result' && !reply.ok) throw new Error(`could not switch CSV logging: ${reply.error ?? 'unknown error'}`);
    const data = reply.type === 'result' ? (reply.data as { file?: string; logging?: { file?: string } } | undefined) : undefined;
    const file = data?.file ?? data?.logging?.file;
    const dir = file ? file.replace(/[/\\][^/\\]*$/, '') : undefined;
    const text = `Rigwatch: CSV logging ${enabled ? 'on' : 'off'}${enabled && dir ? ` — writing to ${dir}` : ''} (${c.name})`;
    // The folder is on the collector's machine: "Open Folder" only where that is this machine.
    if (enabled && dir && c.kind === 'local') {
      void vscode.window.showInformationMessage(text, 'Open Folder').then((pick) => {
        if (pick === 'Open Folder') void vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(file as string));
      });
    } else {
      void vscode.window.showInformationMessage(text);
    }
    return enabled;
  });

  reg('rigwatch.exportMetrics', async (a) => {
    const c = await pickConnection(a, 'Export from which collector?');
    if (!c) return undefined;
    let range = a.range;
    if (!range) {
      const p = await vscode.window.showQuickPick(
        Object.keys(EXPORT_RANGES_MS).map((r) => ({ label: `Last ${r}`, r })),
        { placeHolder: 'Time range to export' },
      );
      if (!p) return undefined;
      range = p.r;
    }
    const span = EXPORT_RANGES_MS[range];
    if (!span) throw new Error(`unknown range "${range}" (use one of ${Object.keys(EXPORT_RANGES_MS).join(', ')})`);
    let format = a.format;
    if (!format) {
      const p = await vscode.window.showQuickPick(
        [
          { label: 'CSV', f: 'csv' as const },
          { label: 'JSON', f: 'json' as const },
        ],
        { placeHolder: 'File format' },
      );
      if (!p) return undefined;
      format = p.f;
    }
    let uri = a.uri ? vscode.Uri.parse(a.uri) : undefined;
    if (!uri) {
      const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
      const dir = vscode.workspace.workspaceFolders?.[0]?.uri;
      const file = `rigwatch-${c.name.replace(/[^A-Za-z0-9_-]+/g, '_')}-${stamp}.${format}`;
      uri = await vscode.window.showSaveDialog({
        defaultUri: dir ? vscode.Uri.joinPath(dir, file) : undefined,
        filters: format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
        saveLabel: 'Export',
      });
      if (!uri) return undefined;
    }
    const to = Date.now();
    const reply = await c.request({ type: 'export', format, series: a.series ?? ['*'], from: to - span, to });
    if (reply.type !== 'result' || !reply.ok)
      throw new Error(`export failed: ${reply.type === 'result' ? (reply.error ?? 'unknown error') : 'unexpected reply'}`);
    const text = typeof reply.data === 'string' ? reply.data : JSON.stringify(reply.data, null, 2);
    await vscode.workspace.fs.writeFile(uri, Buffer.from(text, 'utf8'));
    void vscode.window.showInformationMessage(`Rigwatch: exported ${range} of ${c.name} to ${uri.fsPath}`);
    return uri.toString();
  });

  // A GPU process row (e.g. an idle holder): copies `kill <pid>` for the user to run where they choose;
  // nothing is killed from the UI.
  reg('rigwatch.copyKillCommand', async (a) => {
    if (typeof a.pid !== 'number' || !Number.isInteger(a.pid) || a.pid < 2) throw new Error('pick a GPU process in the Services view');
    const text = killCommand(a.pid);
    await vscode.env.clipboard.writeText(text);
    void vscode.window.showInformationMessage(`Rigwatch: copied "${text}" (run it on the GPU box; add sudo if the process belongs to another user)`);
    return text;
  });

  reg('rigwatch.showGpuDetails', async (a) => {
    const c = await pickConnection(a, 'Which collector?', (x) => gpuReadings(x.model.latest).length > 0);
    if (!c) return undefined;
    let index = a.gpuIndex;
    if (index === undefined) {
      const gpus = gpuReadings(c.model.latest);
      if (gpus.length === 0) throw new Error(`${c.name} reports no GPU`);
      if (gpus.length === 1) index = gpus[0].index;
      else {
        const p = await vscode.window.showQuickPick(
          gpus.map((g) => ({ label: `GPU ${g.index}`, description: plainText(g.name ?? '', QUICK_PICK_MAX_CHARS), i: g.index })),
          { placeHolder: 'Which GPU?' },
        );
        if (!p) return undefined;
        index = p.i;
      }
    }
    const uri = gpuReportUri(c.id, c.name, index);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { preview: true });
    return uri.toString();
  });

  const alertTarget = async (a: CommandArgs, verb: string): Promise<{ c: Connection; alertId: string } | undefined> => {
    if (a.connectionId && a.alertId) {
      const c = manager.get(a.connectionId);
      if (!c) throw new Error(`no connection "${a.connectionId}"`);
      return { c, alertId: a.alertId };
    }
    const items = manager.list().flatMap((c) =>
      c.model
        .alertList()
        .filter((x) => x.state !== 'resolved')
        .map((x) => ({
          label: plainText(x.message, QUICK_PICK_MAX_CHARS),
          description: `${x.severity} · since ${formatClock(x.firingSince ?? x.activeSince)}${manager.list().length > 1 ? ` · ${c.name}` : ''}`,
          c,
          alertId: x.id,
        })),
    );
    if (items.length === 0) throw new Error('there are no active alerts');
    return vscode.window.showQuickPick(items, { placeHolder: `${verb} which alert?` });
  };

  reg('rigwatch.muteAlert', async (a) => {
    const t = await alertTarget(a, 'Mute');
    if (!t) return undefined;
    const alert = t.c.model.alerts.get(t.alertId);
    const ruleId = alert?.ruleId ?? t.alertId.slice(0, t.alertId.indexOf(':'));
    let scope = a.scope;
    if (scope === undefined && a.durationMs === undefined) {
      const gpu = alert ? /^gpu\.(\d+)\./.exec(alert.series) : null;
      const p = await vscode.window.showQuickPick(
        [
          { label: gpu ? `This alert (GPU ${gpu[1]})` : 'This alert', description: alert?.message ?? t.alertId, v: 'instance' as const },
          { label: `Every "${ruleId}" alert`, description: gpu ? 'all GPUs' : 'every instance of the rule', v: 'rule' as const },
        ],
        { placeHolder: 'Mute what?' },
      );
      if (!p) return undefined;
      scope = p.v;
    }
    let durationMs = a.durationMs;
    if (durationMs === undefined) {
      const p = await vscode.window.showQuickPick(
        MUTE_CHOICES.map(([label, ms]) => ({ label, ms })),
        { placeHolder: 'Mute notifications for…' },
      );
      if (!p) return undefined;
      durationMs = p.ms;
    }
    const target = scope === 'rule' ? ruleId : t.alertId;
    const reply = await t.c.request({ type: 'mute', target, durationMs });
    if (reply.type === 'result' && !reply.ok) throw new Error(`could not mute: ${reply.error ?? 'unknown error'}`);
    // Confirm where the user is looking; the row itself shows "muted until …" once the event arrives.
    const what = scope === 'rule' ? `every "${ruleId}" alert` : (alert?.message ?? t.alertId);
    vscode.window.setStatusBarMessage(
      durationMs > 0 ? `$(bell-slash) Muted ${what} until ${formatClock(Date.now() + durationMs)}` : `$(bell) Unmuted ${what}`,
      5000,
    );
    return true;
  });

  reg('rigwatch.ackAlert', async (a) => {
    const t = await alertTarget(a, 'Acknowledge');
    if (!t) return undefined;
    const reply = await t.c.request({ type: 'ack', alertId: t.alertId });
    if (reply.type === 'result' && !reply.ok) throw new Error(`could not acknowledge: ${reply.error ?? 'unknown error'}`);
    vscode.window.setStatusBarMessage(`$(check) Acknowledged: ${t.c.model.alerts.get(t.alertId)?.message ?? t.alertId}`, 5000);
    return true;
  });

  reg('rigwatch.selectStatusBarGpu', async (a) => {
    let choice = a.gpu;
    if (choice === undefined) {
      const c = manager.primary();
      const gpus = c ? gpuReadings(c.model.latest) : [];
      const p = await vscode.window.showQuickPick(
        [
          { label: 'Busiest GPU', description: 'the GPU with the highest utilisation', v: 'busiest' },
          { label: 'All GPUs', description: 'a compact per-GPU list', v: 'all' },
          ...gpus.map((g) => ({ label: `GPU ${g.index}`, description: plainText(g.name ?? '', QUICK_PICK_MAX_CHARS), v: String(g.index) })),
        ],
        { placeHolder: 'Which GPU should the status bar show?' },
      );
      if (!p) return undefined;
      choice = p.v;
    }
    await vscode.workspace.getConfiguration(SECTION).update('statusBar.gpu', choice, vscode.ConfigurationTarget.Global);
    return choice;
  });

  reg('rigwatch.showCollectorLog', () => collectorLog.show(true));
}
