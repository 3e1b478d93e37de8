// Two containers whose names sanitise to the same series segment (`my.app` and `my_app`), keyed the way
// the Docker source keys them (protocol/keys.ts), each with its own numbers: what a client must show.

import type { DockerDetails, SampleMessage, SeriesMap } from '../../protocol';
import type { DockerContainer } from '../../protocol/details/docker';
import { containerSeries, containerSeriesKeys } from '../../protocol/keys';

const GIB = 1024 ** 3;

/** The two containers, in the Docker source's order (by name): `my.app` then `my_app`. */
export const CLASHING = [
  { id: 'a1'.repeat(32), name: 'my.app', image: 'nginx:1.27', cpuRatio: 0.11, memoryUsedBytes: 1 * GIB },
  { id: 'b2'.repeat(32), name: 'my_app', image: 'redis:7', cpuRatio: 0.73, memoryUsedBytes: 3 * GIB },
] as const;

/** Docker details and series for the two containers, as the collector publishes them. */
export function clashingDocker(): { details: DockerDetails; series: SeriesMap } {
  const keys = containerSeriesKeys(CLASHING);
  const series: SeriesMap = { 'docker.containers_running_count': 2, 'docker.containers_count': 2 };
  const containers = CLASHING.map((c, i): DockerContainer => {
    const ct: DockerContainer = {
      id: c.id,
      name: c.name,
      seriesKey: keys[i],
      image: c.image,
      state: 'running',
      status: 'Up 5 minutes',
      health: null,
      lastHealthOutput: null,
      lastHealthExitCode: null,
      lastHealthAt: null,
      healthFailingStreak: null,
      restartCount: i,
      startedAt: 1_700_000_000_000 - 300_000,
      exitCode: null,
      cpuRatio: c.cpuRatio,
      memoryUsedBytes: c.memoryUsedBytes,
      memoryLimitBytes: 16 * GIB,
      statsAt: 1_700_000_000_000,
    };
    series[containerSeries(ct, 'running_state')] = 1;
    series[containerSeries(ct, 'health_state')] = null;
    series[containerSeries(ct, 'restart_count')] = i;
    series[containerSeries(ct, 'uptime_seconds')] = 300;
    series[containerSeries(ct, 'cpu_ratio')] = c.cpuRatio;
    series[containerSeries(ct, 'memory_used_bytes')] = c.memoryUsedBytes;
    return ct;
  });
  return { details: { kind: 'docker', endpoint: 'unix:///var/run/docker.sock', engineVersion: '26.1.5', statsIntervalMs: 2000, containers }, series };
}

/** A sample with only the two containers. */
export function clashingSample(t: number): SampleMessage {
  const { details, series } = clashingDocker();
  return { type: 'sample', t, series, details: { docker: details } };
}
