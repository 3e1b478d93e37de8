// Runs for the extension's status bar and notifications (the tree reads the runs view adapter).

import { runsInSample } from '../../client/views/adapters/runs';
import type { RunInfo } from '../../protocol/details/runs';
import type { ConnectionSnapshot } from './snapshot';

export { runAlertMessage, runDescription } from '../../client/views/adapters/runs';

/** The runs of a connection's latest snapshot, newest first. */
export function runsOf(c: Pick<ConnectionSnapshot, 'latest'>): RunInfo[] {
  return runsInSample(c.latest);
}
