// Builds the enabled sources from the configuration and a list of source kinds (sources/index.ts).

import { ConfigError } from './config-error';
import type { CollectorConfig } from './config';
import type { Logger } from './log';
import type { SampleMessage } from '../protocol';
import type { Source, SourceFactory } from './source';
import { SOURCE_FACTORIES } from './sources/index';

/** Builds every enabled source; a factory's ConfigError is re-thrown naming the config file. */
export function createSources(
  config: CollectorConfig,
  log: Logger,
  latest: () => SampleMessage | undefined,
  factories: readonly SourceFactory[] = SOURCE_FACTORIES,
): Source[] {
  const out: Source[] = [];
  for (const f of factories) {
    const section = config.sources[f.kind];
    if (section === false) {
      log.info(`${f.kind}: disabled by configuration`);
      continue;
    }
    try {
      out.push(...f.create({ config: section, env: process.env, intervalMs: config.intervalMs, dataDir: config.dataDir, log: log.child(f.kind), latest }));
    } catch (e) {
      if (e instanceof ConfigError && !e.file)
        throw new ConfigError(e.key.startsWith(f.kind) ? e.key : `${f.kind}.${e.key}`, e.value, e.expected, config.configFile ?? 'configuration');
      throw e;
    }
  }
  return out;
}
