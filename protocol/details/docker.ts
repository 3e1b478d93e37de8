/** One container. */
export interface DockerContainer {
  id: string;
  name: string;
  image: string;
  state: string;
  health: 'healthy' | 'unhealthy' | 'starting' | null;
  lastHealthOutput: string | null;
  restartCount: number | null;
  startedAt: number | null;
}

/** Docker source details. */
export interface DockerDetails {
  kind: 'docker';
  endpoint: string;
  containers: DockerContainer[];
}
