// Rows every adapter shares: the icon for a source's state and the row of a source that is not ready.

import type { SourceStatus } from '../../protocol';
import type { ViewFormat, ViewIcon, ViewItem } from './adapter';

/** Icon for a source's state; `readyIcon` when it is ready. */
export function sourceIcon(s: SourceStatus | undefined, readyIcon: string): ViewIcon {
  switch (s?.state) {
    case 'down':
      return { id: 'error', color: 'list.errorForeground' };
    case 'unavailable':
      return { id: 'circle-slash', color: 'disabledForeground' };
    case 'probing':
      return { id: 'loading~spin' };
    default:
      return { id: readyIcon, color: 'testing.iconPassed' };
  }
}

/** The row of a source that is down, unavailable or probing: its state and reason. */
export function notReadyItem(key: string, label: string, s: SourceStatus, fmt: ViewFormat): ViewItem {
  return {
    key,
    label,
    description: `${s.state}${s.reason ? ': ' + s.reason : ''}`,
    tooltip: `**${fmt.markdown(label)}** — ${s.state}${s.reason ? `\n\n${fmt.markdown(s.reason)}` : ''}${s.nextProbe ? `\n\nNext try at ${new Date(s.nextProbe).toLocaleTimeString()}` : ''}`,
    icon: sourceIcon(s, 'circle'),
    contextValue: `rigwatch.source.${s.state}`,
  };
}

/** "2/3 up" for a group of sources. */
export function countUp(sources: readonly SourceStatus[]): string {
  const up = sources.filter((s) => s.state === 'ready').length;
  return `${up}/${sources.length} up`;
}
