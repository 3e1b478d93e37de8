// The training-runs source kind: one `runs` source (see runs-source.ts and docs/runs.md).

import type { Source, SourceContext, SourceFactory } from '../../source';
import { parseRunsConfig } from './config';
import { RunsSource, type RunsSourceOptions } from './runs-source';

export { RunsSource } from './runs-source';
export { parseRunsConfig } from './config';

/** Creates the runs source (exported for tests, which pass a clock). */
export function createRunsSource(ctx: SourceContext, opts: RunsSourceOptions = {}): RunsSource {
  return new RunsSource(parseRunsConfig(ctx.config, ctx.env), ctx.latest, ctx.log, opts);
}

/** Factory registered in sources/index.ts. */
export const runsFactory: SourceFactory = {
  kind: 'runs',
  create(ctx: SourceContext): Source[] {
    return [createRunsSource(ctx)];
  },
};
