// What the System Monitor panel shows, decided without vscode (unit-tested): the connection it was opened
// on while it exists; the local collector's stopped state (with a Start button) after Stop Local
// Collector, instead of silently switching to another connection; else the primary connection.

/** What the panel shows. */
export type PanelTarget = { kind: 'connection'; id: string } | { kind: 'local-stopped' } | { kind: 'none' };

/** The connections as the panel sees them. */
export interface PanelChoices {
  /** Ids of the current connections. */
  ids: readonly string[];
  /** The primary connection's id (status bar's), if any. */
  primaryId: string | undefined;
  /** Id of the local connection. */
  localId: string;
  /** The user stopped the local collector; also true while it is being started again (the panel waits for it). */
  localStopped: boolean;
}

/** The panel's target given the connection it shows (`shownId`, undefined before it showed any). */
export function panelTarget(shownId: string | undefined, c: PanelChoices): PanelTarget {
  if (shownId && c.ids.includes(shownId)) return { kind: 'connection', id: shownId };
  // The local collector was stopped while shown (or nothing else is there): stay on it, offer Start.
  if (c.localStopped && (shownId === c.localId || !c.primaryId)) return { kind: 'local-stopped' };
  return c.primaryId ? { kind: 'connection', id: c.primaryId } : { kind: 'none' };
}
