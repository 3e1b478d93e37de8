// The explicit list of source kinds. Adding a source: one folder under sources/, one line here.

import type { SourceFactory } from '../source';
import { hostFactory } from './host';
import { dockerFactory } from './docker';
import { gpuFactory } from './gpu';
import { modelsFactory } from './models';
import { postgresFactory } from './postgres';
import { redisFactory } from './redis';
import { runsFactory } from './runs';

/** Every source kind the collector knows, in sampling order. */
export const SOURCE_FACTORIES: SourceFactory[] = [hostFactory, dockerFactory, gpuFactory, modelsFactory, postgresFactory, redisFactory, runsFactory];
