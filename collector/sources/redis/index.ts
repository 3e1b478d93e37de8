// The Redis source kind: one RedisSource per configured (or detected) instance.

import type { Source, SourceContext, SourceFactory } from '../../source';
import { resolveRedisInstances } from './config';
import { RedisSource } from './redis-source';

/** Creates `redis.<name>` sources from the `redis` config section, REDIS_URL or the local default. */
export const redisFactory: SourceFactory = {
  kind: 'redis',
  create(ctx: SourceContext): Source[] {
    return resolveRedisInstances(ctx.config, ctx.env).map((instance) => new RedisSource(instance, ctx));
  },
};
