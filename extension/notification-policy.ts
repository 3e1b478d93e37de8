// Decides which alert events become VS Code notifications: firing (or escalated) at or above the
// configured severity, once per alert instance until it resolves, never for muted/quiet events. Pure.

import type { AlertEvent, AlertSeverity } from '../protocol';
import { plainText } from '../protocol/plain-text';

/** Longest alert text in a notification, in characters (the collector's message quotes remote text). */
export const NOTIFICATION_MAX_CHARS = 300;

/** Notification settings. */
export interface NotificationSettings {
  enabled: boolean;
  minSeverity: AlertSeverity;
}

/** A notification to show. */
export interface NotificationRequest {
  key: string;
  severity: AlertSeverity;
  message: string;
  target: string;
}

const RANK: Record<AlertSeverity, number> = { warning: 1, critical: 2 };

/** Remembers which alert instances (per connection) have been announced, so repeats stay quiet. */
export class NotificationPolicy {
  /** Instance key → the severity already announced. */
  private readonly announced = new Map<string, AlertSeverity>();

  /** The notifications to show for these events from one connection. */
  decide(connectionId: string, connectionName: string, events: AlertEvent[], settings: NotificationSettings): NotificationRequest[] {
    const out: NotificationRequest[] = [];
    for (const e of events) {
      const key = `${connectionId}\u0000${e.alert.id}`;
      if (e.transition === 'resolved') {
        this.announced.delete(key);
        continue;
      }
      if (e.transition !== 'firing' && e.transition !== 'escalated') continue;
      if (!settings.enabled || !e.notify) continue;
      if (e.alert.mutedUntil && e.alert.mutedUntil > e.t) continue;
      if (RANK[e.alert.severity] < RANK[settings.minSeverity]) continue;
      const prev = this.announced.get(key);
      // Escalation from warning to critical is news; anything else for the same instance is a repeat.
      if (prev && RANK[prev] >= RANK[e.alert.severity]) continue;
      this.announced.set(key, e.alert.severity);
      // The message quotes what a monitored server said: plain text, never a link VS Code would run.
      const message = plainText(e.alert.message, NOTIFICATION_MAX_CHARS);
      out.push({ key, severity: e.alert.severity, message: connectionName ? `${message} (${plainText(connectionName, 80)})` : message, target: e.alert.id });
    }
    return out;
  }

  /** Forgets a connection's instances (disconnected). */
  forget(connectionId: string): void {
    for (const k of [...this.announced.keys()]) if (k.startsWith(`${connectionId}\u0000`)) this.announced.delete(k);
  }
}

/** The exact text given to showWarningMessage/showErrorMessage for a request (inert plain text). */
export function notificationText(r: NotificationRequest): string {
  return `Rigwatch: ${plainText(r.message, NOTIFICATION_MAX_CHARS + 100)}`;
}

/** The text of a "could not mute" notification; `reason` may come from the collector. */
export function muteFailureText(reason: string): string {
  return `Rigwatch: could not mute: ${plainText(reason, NOTIFICATION_MAX_CHARS)}`;
}
