// Shared test wiring for the model-server source: a SourceContext with a settable latest snapshot
// and a fake clock.

import type { SampleMessage } from '../../../../protocol';
import { silentLogger } from '../../../../collector/log';
import type { SourceContext } from '../../../../collector/source';
import { createModelSources } from '../../../../collector/sources/models';
import type { ModelEndpointSource } from '../../../../collector/sources/models/endpoint-source';

/** A test context plus a clock the test advances. */
export interface Harness {
  ctx: SourceContext;
  clock: { t: number };
  setLatest(s: SampleMessage | undefined): void;
  sources(): ModelEndpointSource[];
}

/** Builds sources from `config` with a fake clock starting at `t0`. */
export function harness(config: unknown, env: Record<string, string> = {}, t0 = 1_000_000): Harness {
  const clock = { t: t0 };
  let latest: SampleMessage | undefined;
  const ctx: SourceContext = {
    config,
    env,
    intervalMs: 1000,
    dataDir: '/nonexistent',
    log: silentLogger,
    latest: () => latest,
  };
  return {
    ctx,
    clock,
    setLatest: (s) => {
      latest = s;
    },
    sources: () => createModelSources(ctx, { now: () => clock.t }),
  };
}

/** A fresh, never-aborted signal. */
export function signal(): AbortSignal {
  return new AbortController().signal;
}

/** Asserts |a - b| < 1e-9 with a readable message. */
export function near(actual: number | null | undefined, expected: number, what: string): void {
  if (actual === null || actual === undefined || Math.abs(actual - expected) > 1e-9) {
    throw new Error(`${what}: expected ${expected}, got ${actual}`);
  }
}
