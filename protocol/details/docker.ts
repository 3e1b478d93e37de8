/** Container health as Docker reports it; null when the container has no health check. */
export type DockerHealth = 'healthy' | 'unhealthy' | 'starting';

/** One container. */
export interface DockerContainer {
  /** Full container id. */
  id: string;
  /** Name without the leading `/`. */
  name: string;
  /** The container's name as used in its series (`docker.<seriesKey>.cpu_ratio`). */
  seriesKey: string;
  /** Image reference the container was created from (e.g. `redis:7`). */
  image: string;
  /** Engine state: created, running, paused, restarting, removing, exited, dead. */
  state: string;
  /** The engine's human status line, e.g. "Up 3 minutes (healthy)". */
  status: string;
  /** Health while running or paused; null without a health check and for stopped containers (as `docker ps`). */
  health: DockerHealth | null;
  /** Output of the most recent health check (trimmed, capped), null without a health check; kept after a stop. */
  lastHealthOutput: string | null;
  /** Exit code of the most recent health check. */
  lastHealthExitCode: number | null;
  /** Epoch ms when the most recent health check ended. */
  lastHealthAt: number | null;
  /** Consecutive failed health checks. */
  healthFailingStreak: number | null;
  /** Restarts done by the engine's restart policy. */
  restartCount: number | null;
  /** Epoch ms the container last started; null when never started. */
  startedAt: number | null;
  /** Exit code of the last run (meaningful when exited). */
  exitCode: number | null;
  /** CPU used over the last stats window, 1 = one core; null before the first stats or when stopped. */
  cpuRatio: number | null;
  /** Memory used (usage minus inactive file cache, as `docker stats` shows), bytes. */
  memoryUsedBytes: number | null;
  /** Memory limit in bytes (the host's memory when the container has no limit). */
  memoryLimitBytes: number | null;
  /** Epoch ms of the stats reading the three values above come from. */
  statsAt: number | null;
}

/** Docker source details. */
export interface DockerDetails {
  kind: 'docker';
  /** Where the engine is reached, e.g. `unix:///var/run/docker.sock`. */
  endpoint: string;
  /** Engine version from `/version`, e.g. "20.10.24". */
  engineVersion: string | null;
  /** Cadence of the background stats readings, ms. */
  statsIntervalMs: number;
  containers: DockerContainer[];
}
