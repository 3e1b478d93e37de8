// The PostgreSQL source kind: one PostgresSource per configured (or detected) instance.

import type { Source, SourceContext, SourceFactory } from '../../source';
import { resolvePostgresInstances } from './config';
import { PostgresSource } from './postgres-source';

/** Creates `postgres.<name>` sources from the `postgres` config section, DATABASE_URL or the local default. */
export const postgresFactory: SourceFactory = {
  kind: 'postgres',
  create(ctx: SourceContext): Source[] {
    return resolvePostgresInstances(ctx.config, ctx.env).map((instance) => new PostgresSource(instance, ctx));
  },
};
