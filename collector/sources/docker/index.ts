// The `docker` source kind: one source (`docker`) for the engine found from config, DOCKER_HOST or the default socket.

import { SourceError, type Source, type SourceContext, type SourceFactory } from '../../source';
import { containerFilter, parseDockerConfig, resolveEndpoint } from './config';
import { createEngineClient } from './engine-client';
import { DockerSource } from './docker-source';

/** A source whose endpoint cannot be used (e.g. ssh:// in DOCKER_HOST): probes say why, never retry. */
class UnusableDockerSource implements Source {
  readonly id = 'docker';
  readonly kind = 'docker';
  constructor(private readonly reason: string) {}
  async probe(): Promise<{ status: 'unavailable'; reason: string; retry: boolean }> {
    return { status: 'unavailable', reason: this.reason, retry: false };
  }
  async sample(): Promise<never> {
    throw new SourceError(this.reason, false);
  }
  close(): void {}
}

/** Creates the Docker source; throws ConfigError for a bad `docker` section. */
export const dockerFactory: SourceFactory = {
  kind: 'docker',
  create(ctx: SourceContext): Source[] {
    const config = parseDockerConfig(ctx.config);
    const choice = resolveEndpoint(config, ctx.env);
    const log = ctx.log.child('docker');
    if ('error' in choice) return [new UnusableDockerSource(choice.error)];
    return [
      new DockerSource({
        api: createEngineClient(choice.endpoint),
        origin: choice.origin,
        statsIntervalMs: config.statsIntervalMs,
        filter: containerFilter(config.containers),
        log,
      }),
    ];
  },
};

export { DockerSource } from './docker-source';
