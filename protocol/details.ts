// Structured per-source data carried in `sample.details[sourceId]`, discriminated by `kind`.
// Each kind's shape lives in its own file under details/ and is owned by that source.

import type { HostDetails } from './details/host';
import type { GpuDetails } from './details/gpu';
import type { PostgresDetails } from './details/postgres';
import type { RedisDetails } from './details/redis';
import type { DockerDetails } from './details/docker';
import type { ModelsDetails } from './details/models';
import type { RunsDetails } from './details/runs';

export type { HostDetails, GpuDetails, PostgresDetails, RedisDetails, DockerDetails, ModelsDetails, RunsDetails };

/** Any source's details; switch on `kind`. */
export type SourceDetails = HostDetails | GpuDetails | PostgresDetails | RedisDetails | DockerDetails | ModelsDetails | RunsDetails;
