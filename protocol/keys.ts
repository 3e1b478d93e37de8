// Series keys two programs share: how a container, a mount point or a source instance appears inside a
// series name. The collector publishes them; clients read them from here (or from the published
// `seriesKey`) and never rebuild them from a display name.

import { seriesName } from './series';

/** Series segment for a mount point: `/` → `root`, `/data/x` → `data_x`. */
export function mountId(mount: string): string {
  if (mount === '/') return 'root';
  return mount
    .replace(/^\/+/, '')
    .replace(/\/+$/, '')
    .replace(/[^A-Za-z0-9_:@-]/g, '_');
}

/** A mount point's series: `host.mount.<mountId>.<metric>`. */
export function mountSeries(mount: string, metric: string): string {
  return `host.mount.${mountId(mount)}.${metric}`;
}

/** Length of the short container id that keeps clashing container keys apart. */
export const CONTAINER_SHORT_ID_CHARS = 12;

/**
 * Series keys for containers, in the given order: the sanitised name, and for a later container whose
 * name sanitises to a key already taken (`my.app` after `my_app`) the key plus `_<short id>`.
 */
export function containerSeriesKeys(containers: readonly { id: string; name: string }[]): string[] {
  const used = new Set<string>();
  return containers.map((c) => {
    let key = seriesName('docker', c.name).slice('docker.'.length);
    if (used.has(key)) key = `${key}_${c.id.slice(0, CONTAINER_SHORT_ID_CHARS)}`;
    used.add(key);
    return key;
  });
}

/** A container's series from its published key: `docker.<seriesKey>.<metric>`. */
export function containerSeries(container: { seriesKey: string }, metric: string): string {
  return `docker.${container.seriesKey}.${metric}`;
}

/** The instance part of a source id (`postgres.main` → `main`); the id itself when it has none. */
export function instanceOf(sourceId: string): string {
  const dot = sourceId.indexOf('.');
  return dot < 0 ? sourceId : sourceId.slice(dot + 1);
}

/** A source instance's series: `<sourceId>.<metric>` (`postgres.main.xact_per_second`). */
export function instanceSeries(sourceId: string, metric: string): string {
  return `${sourceId}.${metric}`;
}

/**
 * A model server's series, `models.<server>[.<model>].<metric>` (every part after `models` sanitised);
 * with no parts, `models.<server>`: the source id and the prefix of all its series. Server names are
 * config names (letters, digits, `_`, `-`, unique), so they never clash.
 */
export function modelServerSeries(server: string, ...parts: string[]): string {
  return seriesName('models', server, ...parts);
}

/**
 * One NVLink link's series: `<sourceId>.<gpu>.nvlink.<link>.<metric>` (`gpu.0.nvlink.3.link_rx_bytes_per_second`);
 * /metrics names it `rigwatch_gpu_nvlink_<metric>{gpu="0",nvlink="3"}`.
 */
export function gpuNvLinkSeries(sourceId: string, gpu: number, link: number, metric: string): string {
  return `${sourceId}.${gpu}.nvlink.${link}.${metric}`;
}

/**
 * One MIG GPU instance's series: `<sourceId>.<gpu>.mig.<gpuInstanceId>.<metric>` (`gpu.0.mig.1.memory_used_bytes`);
 * /metrics names it `rigwatch_gpu_mig_<metric>{gpu="0",mig="1"}`.
 */
export function gpuMigSeries(sourceId: string, gpu: number, gpuInstanceId: number, metric: string): string {
  return `${sourceId}.${gpu}.mig.${gpuInstanceId}.${metric}`;
}
