// Joins cgroup owners with names: container id → name and image from the Docker source's latest details
// (read through the collector's snapshot, so no source imports another), pod UID → namespace/name from
// the kubelet. Enriched owners are cached per raw owner and rebuilt only when the names change.

import type { ProcessOwner } from '../../../protocol/details/gpu';
import type { KubeletPods } from './kubelet';

/** What the join needs of a container. */
export interface ContainerInfo {
  id: string;
  name: string;
  image: string;
}

/** Shortest interval between two rebuilds of the container index, in ms. */
const REINDEX_MS = 2000;

/** Owner enrichment with container and pod names. */
export class ContainerNames {
  private byId = new Map<string, ContainerInfo>();
  private signature = '';
  private version = 0;
  private indexedAt = -Infinity;
  private lastList: readonly ContainerInfo[] | null = null;
  private readonly enriched = new WeakMap<ProcessOwner, { version: number; owner: ProcessOwner }>();

  constructor(
    /** The containers the Docker source saw last, or null when it does not run. */
    private readonly containers: () => readonly ContainerInfo[] | null,
    private readonly kubelet: KubeletPods | null = null,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Re-reads the container list when due (at most every REINDEX_MS) and returns the index version. */
  refresh(): number {
    this.reindex();
    return this.version;
  }

  /**
   * The owner with container name/image and pod namespace/name filled in where known. `reindex: false`
   * skips the clock check (the caller called refresh() once for the whole tick).
   */
  enrich(o: ProcessOwner | null, reindex = true): ProcessOwner | null {
    if (o === null || (o.kind !== 'container' && o.kind !== 'pod')) return o;
    if (reindex) this.reindex();
    const hit = this.enriched.get(o);
    // Pods are looked up every time until named (the kubelet answer arrives asynchronously).
    if (hit && hit.version === this.version && (o.kind !== 'pod' || hit.owner.podName || !this.kubelet)) return hit.owner;
    const out: ProcessOwner = { ...o };
    if (o.containerId) {
      const c = this.byId.get(o.containerId);
      if (c) {
        out.containerName = c.name;
        out.image = c.image;
      } else if (o.kind === 'container' && o.runtime === 'docker') {
        out.note = this.lastList === null ? 'container name unknown: the Docker source is not running' : "container not in the Docker source's list";
      }
    }
    if (o.kind === 'pod' && o.podUid) {
      if (this.kubelet) {
        const p = this.kubelet.lookup(o.podUid);
        if ('name' in p) {
          out.podNamespace = p.namespace;
          out.podName = p.name;
        } else out.note = p.missing;
      } else out.note = 'pod name unknown: kubelet lookup is off';
    }
    this.enriched.set(o, { version: this.version, owner: out });
    return out;
  }

  private reindex(): void {
    const t = this.now();
    // At most once per REINDEX_MS: enrich() runs per process per tick.
    if (t - this.indexedAt < REINDEX_MS) return;
    this.indexedAt = t;
    const list = this.containers();
    if (list === this.lastList && this.version > 0) return;
    this.lastList = list;
    let sig = '';
    for (const c of list ?? []) sig += `${c.id}\u0000${c.name}\u0000${c.image}\u0001`;
    if (sig === this.signature && this.version > 0) return;
    this.signature = sig;
    this.byId = new Map((list ?? []).map((c) => [c.id, c]));
    this.version++;
  }
}
