// The status-bar item: the primary connection's GPU (or host) readout, coloured by the worst firing
// alert. Recomputed at most once per sample/state change, and the item is only touched when a value
// actually changed, so it never flickers.

import * as vscode from 'vscode';
import type { ConnectionManager } from '../connection-manager';
import { ConnectionManager as CM } from '../connection-manager';
import { statusView, type StatusView } from './status-text';

/** Owns the status bar item. */
export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subs: vscode.Disposable[] = [];
  private last: StatusView | undefined;
  private firstTextAt: number | undefined;
  /** Number of times the item was actually changed (for tests and the benchmark). */
  updates = 0;

  constructor(
    private readonly manager: ConnectionManager,
    private readonly onFirstData?: () => void,
  ) {
    this.item = vscode.window.createStatusBarItem('rigwatch.status', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'Rigwatch GPU';
    this.item.command = 'rigwatch.openMonitor';
    this.subs.push(
      manager.onDidChangeConnection((e) => {
        // Only what changes the readout: samples, hello, alerts, state — not history/result replies.
        const t = e.message?.type;
        if (e.state || t === 'sample' || t === 'hello' || t === 'alert' || t === 'status') this.refresh();
      }),
      manager.onDidChangeConnections(() => this.refresh()),
    );
    this.refresh();
  }

  /** What the item currently shows. */
  get view(): StatusView | undefined {
    return this.last;
  }

  /** Epoch ms when the first real readout (numbers, not a state) was shown. */
  get firstDataAt(): number | undefined {
    return this.firstTextAt;
  }

  /** Recomputes the view and applies what changed. */
  refresh(): void {
    const s = this.manager.currentSettings;
    if (!s.statusBarEnabled) {
      this.item.hide();
      return;
    }
    const conn = this.manager.primary();
    const v = statusView(conn ? CM.snapshot(conn) : undefined, s.statusBarGpu);
    const prev = this.last;
    if (!prev || prev.text !== v.text) this.item.text = v.text;
    if (!prev || prev.accessibilityLabel !== v.accessibilityLabel) this.item.accessibilityInformation = { label: v.accessibilityLabel, role: 'button' };
    if (!prev || prev.tooltip !== v.tooltip) {
      const md = new vscode.MarkdownString(v.tooltip, true);
      md.isTrusted = false;
      this.item.tooltip = md;
    }
    if (!prev || prev.severity !== v.severity) {
      this.item.backgroundColor =
        v.severity === 'critical'
          ? new vscode.ThemeColor('statusBarItem.errorBackground')
          : v.severity === 'warning'
            ? new vscode.ThemeColor('statusBarItem.warningBackground')
            : undefined;
    }
    if (!prev || prev.text !== v.text || prev.tooltip !== v.tooltip || prev.severity !== v.severity) this.updates++;
    this.last = v;
    if (this.firstTextAt === undefined && v.text.startsWith('$(pulse) ') && v.text !== '$(pulse) Rigwatch') {
      this.firstTextAt = Date.now();
      this.onFirstData?.();
    }
    this.item.show();
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.item.dispose();
  }
}
