// The host source kind: /proc + statfs on the tick path, systeminformation once for the inventory.
export { hostFactory, HostSource, parseHostConfig, type HostConfig, type HostSourceOptions, type FsUsage } from './host-source';
export { hostInventory, type HostInventory } from './inventory';
export { PortableHostSource, PORTABLE_SLOW_INTERVAL_MS, type PortableHostOptions } from './portable/portable-source';
