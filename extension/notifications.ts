// Turns firing alerts into VS Code notifications (warning/error) with "Open Monitor" and "Mute 1 h";
// the policy (severity threshold, once per instance until resolved, quiet when muted) is pure.

import * as vscode from 'vscode';
import type { ConnectionManager } from './connection-manager';
import { NotificationPolicy, muteFailureText, notificationText, type NotificationRequest } from './notification-policy';
import { runAlertMessage, runsOf } from './views/runs-model';

/** Duration of the notification's "Mute 1 h" action, in ms. */
export const MUTE_ONE_HOUR_MS = 60 * 60_000;

/** A notification that was shown (kept for tests and diagnostics). */
export interface ShownNotification extends NotificationRequest {
  connectionId: string;
  t: number;
}

/** Listens to alert events of every connection. */
export class Notifier implements vscode.Disposable {
  private readonly policy = new NotificationPolicy();
  private readonly sub: vscode.Disposable;
  /** Most recent notifications, newest last (bounded). */
  readonly shown: ShownNotification[] = [];

  constructor(private readonly manager: ConnectionManager) {
    this.sub = manager.onDidChangeConnection((e) => {
      if (e.message?.type !== 'alert') return;
      const s = manager.currentSettings;
      // Run alerts read as sentences about the run ("Run train.py finished after 3 h 12 min — loss 0.41").
      const runs = runsOf(e.connection.model);
      const events =
        runs.length === 0
          ? e.message.events
          : e.message.events.map((ev) => ({
              ...ev,
              alert: { ...ev.alert, message: runAlertMessage(ev.alert.ruleId, ev.alert.series, ev.alert.message, runs) },
            }));
      const reqs = this.policy.decide(e.connection.id, manager.list().length > 1 ? e.connection.name : '', events, {
        enabled: s.notificationsEnabled,
        minSeverity: s.minSeverity,
      });
      for (const r of reqs) this.show(e.connection.id, r);
    });
  }

  private show(connectionId: string, r: NotificationRequest): void {
    this.shown.push({ ...r, connectionId, t: Date.now() });
    if (this.shown.length > 100) this.shown.shift();
    const fn = r.severity === 'critical' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
    void fn(notificationText(r), 'Open Monitor', 'Mute 1 h').then(async (choice) => {
      const conn = this.manager.get(connectionId);
      if (choice === 'Open Monitor') await vscode.commands.executeCommand('rigwatch.openMonitor', conn?.id);
      else if (choice === 'Mute 1 h' && conn) {
        try {
          const reply = await conn.request({ type: 'mute', target: r.target, durationMs: MUTE_ONE_HOUR_MS });
          if (reply.type === 'result' && !reply.ok) void vscode.window.showWarningMessage(muteFailureText(reply.error ?? 'unknown error'));
        } catch (e) {
          void vscode.window.showWarningMessage(muteFailureText((e as Error).message));
        }
      }
    });
  }

  dispose(): void {
    this.sub.dispose();
  }
}
