// The groups sources are shown in, in view order. An adapter names its group; a new group is one entry.

import type { ViewGroup } from './adapter';
import { countUp } from './source-items';

/** GPUs first: what most users open Rigwatch for. */
export const GPU_GROUP: ViewGroup = { id: 'gpu', order: 10 };
/** The machine the collector runs on. */
export const HOST_GROUP: ViewGroup = { id: 'host', order: 20 };
/** PostgreSQL, Redis, … under one "Databases" node. */
export const DATABASES_GROUP: ViewGroup = {
  id: 'databases',
  order: 30,
  node: { label: 'Databases', icon: { id: 'database' }, summary: (sources) => countUp(sources), expanded: true },
};
/** Model servers (vLLM, TGI, Triton, …). */
export const MODELS_GROUP: ViewGroup = {
  id: 'models',
  order: 40,
  node: { label: 'Model servers', icon: { id: 'hubot' }, summary: (_sources, items) => `${items.length}`, expanded: true },
};
/** Docker containers. */
export const DOCKER_GROUP: ViewGroup = { id: 'docker', order: 50 };
/** Sources of a kind no adapter describes, and adapters that choose no group of their own. */
export const OTHER_GROUP: ViewGroup = { id: 'other', order: 1000, node: { label: 'Other sources', icon: { id: 'plug' } } };
