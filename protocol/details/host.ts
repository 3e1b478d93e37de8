/** One process in the host's top lists. */
export interface HostProcess {
  pid: number;
  name: string;
  user: string | null;
  /** CPU busy as a ratio of one core (1 = one full core). */
  cpuRatio: number | null;
  rssBytes: number | null;
  command?: string;
}

/** One mounted filesystem. */
export interface HostMount {
  mount: string;
  device: string;
  fsType: string;
  totalBytes: number;
  usedBytes: number;
  availBytes: number;
}

/** Host source details (series carry the numbers; this carries lists and names). */
export interface HostDetails {
  kind: 'host';
  cores: number;
  mounts: HostMount[];
  interfaces: string[];
  disks: string[];
  /** The latest lists, refreshed every 5 s; absent until the first refresh. */
  topCpu?: HostProcess[];
  topMem?: HostProcess[];
}
