// The read-only view of one connection that pure view builders take (status text, trees, notifications).
// Mirrors what a Connection exposes, without the vscode module or sockets.

import type { ConnectionState } from '../../protocol/bridge';
import type { AlertInstance, HelloMessage, SampleMessage, SourceStatus } from '../../protocol';

/** One connection's state, as the views see it. */
export interface ConnectionSnapshot {
  id: string;
  name: string;
  kind: string;
  state: ConnectionState;
  reason?: string;
  hello?: HelloMessage;
  latest?: SampleMessage;
  sources: SourceStatus[];
  alerts: AlertInstance[];
}

/** GPU and host readings live in the client core; re-exported for the extension's view builders. */
export { gpuDetails, gpuReadings, hostDetails, hostReading, type GpuReading } from '../../client/views/readings';

/** Severity order: higher is worse. */
export function severityRank(a: AlertInstance): number {
  if (a.state !== 'firing') return 0;
  return a.severity === 'critical' ? 2 : 1;
}

/** The worst firing severity among alerts, or undefined. */
export function worstSeverity(alerts: AlertInstance[]): 'warning' | 'critical' | undefined {
  let r = 0;
  for (const a of alerts) r = Math.max(r, severityRank(a));
  return r === 2 ? 'critical' : r === 1 ? 'warning' : undefined;
}
