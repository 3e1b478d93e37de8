// Docker containers: one row per container with state, health, CPU and memory, read by the series key
// the collector published (two containers `my.app` and `my_app` have different keys).

import type { DockerDetails } from '../../../protocol';
import { containerSeries } from '../../../protocol/keys';
import { detailsOf, seriesValue, type SourceViewAdapter, type ViewItem } from '../adapter';
import { DOCKER_GROUP } from '../groups';
import { notReadyItem, sourceIcon } from '../source-items';

/** Largest container list that starts expanded. */
const EXPANDED_CONTAINERS_MAX = 10;

/** Docker containers. */
export const dockerAdapter: SourceViewAdapter = {
  kind: 'docker',
  group: DOCKER_GROUP,
  icon: 'package',
  section: 'rw-container-timeline',
  label: () => 'Containers',
  describe([s], { sample, fmt }) {
    if (s.state !== 'ready') return [notReadyItem('containers', 'Containers', s, fmt)];
    const det = detailsOf(sample, s.id) as DockerDetails | undefined;
    const containers = det?.kind === 'docker' ? det.containers : [];
    const children = containers.map((ct): ViewItem => {
      const bad = ct.health === 'unhealthy' || ct.state === 'restarting';
      const num = (metric: string): number | null => seriesValue(sample, containerSeries(ct, metric));
      return {
        key: `container/${ct.id}`,
        label: ct.name,
        description: `${ct.state}${ct.health ? ` · ${ct.health}` : ''}${ct.state === 'running' ? ` · CPU ${fmt.percent(num('cpu_ratio'))} · ${fmt.bytes(num('memory_used_bytes'))}` : ''}`,
        tooltip: `**${fmt.markdown(ct.name)}** — ${fmt.markdown(ct.image)}${ct.restartCount ? `\n\nRestarts: ${ct.restartCount}` : ''}${ct.lastHealthOutput ? `\n\nLast health check: ${fmt.markdown(ct.lastHealthOutput.slice(0, 300))}` : ''}`,
        icon: bad
          ? { id: 'error', color: 'list.errorForeground' }
          : ct.state === 'running'
            ? { id: 'package', color: 'testing.iconPassed' }
            : { id: 'package', color: 'disabledForeground' },
        contextValue: 'rigwatch.container',
      };
    });
    return [
      {
        key: 'containers',
        label: 'Containers',
        description: `${containers.filter((x) => x.state === 'running').length}/${containers.length} running`,
        icon: sourceIcon(s, 'package'),
        children,
        expanded: children.length <= EXPANDED_CONTAINERS_MAX,
      },
    ];
  },
  charts(s, { sample }) {
    const det = detailsOf(sample, s.id) as DockerDetails | undefined;
    const containers = det?.kind === 'docker' ? det.containers : [];
    return [
      { title: 'Container CPU', lines: containers.map((c) => ({ series: containerSeries(c, 'cpu_ratio'), label: c.name })) },
      { title: 'Container memory', lines: containers.map((c) => ({ series: containerSeries(c, 'memory_used_bytes'), label: c.name })) },
    ];
  },
};
