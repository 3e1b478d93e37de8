// What a process belongs to, from the text of /proc/<pid>/cgroup (cgroup v1 and v2; Docker, containerd,
// CRI-O and Podman; Kubernetes with the systemd and cgroupfs drivers; systemd units and login sessions).
// Pure: text in, owner out. Shared by every GPU backend (NVIDIA, DRM) — not a source of its own.

import type { ProcessOwner } from '../../../protocol/details/gpu';

const HEX64 = /^[0-9a-f]{64}$/;
// kubepods-burstable-pod<uid with _>.slice (systemd) or pod<uid> (cgroupfs).
const POD_SYSTEMD = /^kubepods(?:-(besteffort|burstable))?-pod([0-9a-f_]{36})\.slice$/;
const POD_CGROUPFS = /^pod([0-9a-f-]{36})$/;
// <runtime prefix>-<64 hex>.scope (systemd driver).
const SCOPE = /^(docker|cri-containerd|crio|libpod|nerdctl)-([0-9a-f]{64})\.scope$/;
const SESSION = /^session-([A-Za-z0-9]+)\.scope$/;
const RUNTIMES: Record<string, NonNullable<ProcessOwner['runtime']>> = {
  docker: 'docker',
  'cri-containerd': 'containerd',
  crio: 'cri-o',
  libpod: 'podman',
  nerdctl: 'containerd',
};

/** The cgroup paths of a /proc/<pid>/cgroup text, v2 (`0::`) first, then `name=systemd`, then the rest. */
export function cgroupPaths(text: string): string[] {
  const v2: string[] = [];
  const systemd: string[] = [];
  const rest: string[] = [];
  for (const line of text.split('\n')) {
    // hierarchy-ID:controller-list:path — the path may itself contain ':'.
    const a = line.indexOf(':');
    const b = a < 0 ? -1 : line.indexOf(':', a + 1);
    if (b < 0) continue;
    const path = line.slice(b + 1).trim();
    if (!path.startsWith('/')) continue;
    const controllers = line.slice(a + 1, b);
    if (line.slice(0, a) === '0' && controllers === '') v2.push(path);
    else if (controllers === 'name=systemd') systemd.push(path);
    else rest.push(path);
  }
  return [...v2, ...systemd, ...rest];
}

/** Owner of one cgroup path, or null when the path names nothing more specific than the host. */
export function ownerOfPath(path: string): ProcessOwner | null {
  const segs = path.split('/').filter((s) => s.length > 0);
  const kube = segs.findIndex((s) => s === 'kubepods' || s.startsWith('kubepods.slice') || s.startsWith('kubepods-'));
  if (kube >= 0) return podOwner(segs.slice(kube));
  for (let i = segs.length - 1; i >= 0; i--) {
    const s = segs[i];
    const scope = SCOPE.exec(s);
    if (scope) return { kind: 'container', runtime: RUNTIMES[scope[1]], containerId: scope[2] };
    // cgroupfs driver: /docker/<id>, /libpod_parent/libpod-<id>, /default/<id> (containerd namespace).
    if (HEX64.test(s) && i > 0) {
      const parent = segs[i - 1];
      if (parent === 'docker') return { kind: 'container', runtime: 'docker', containerId: s };
      if (parent === 'libpod_parent') return { kind: 'container', runtime: 'podman', containerId: s };
      return { kind: 'container', runtime: 'containerd', containerId: s };
    }
  }
  // Innermost unit wins: user@1000.service/app.slice/foo.service → foo.service.
  for (let i = segs.length - 1; i >= 0; i--) {
    const s = segs[i];
    const session = SESSION.exec(s);
    if (session) return { kind: 'session', session: session[1] };
    if (s.endsWith('.service')) return { kind: 'unit', unit: s };
    if (s.endsWith('.scope') && s !== 'init.scope') return { kind: 'unit', unit: s };
  }
  return null;
}

function podOwner(segs: string[]): ProcessOwner {
  let podUid: string | undefined;
  let qos = 'guaranteed';
  let containerId: string | undefined;
  let runtime: ProcessOwner['runtime'];
  for (const s of segs) {
    if (s === 'besteffort' || s === 'burstable') qos = s;
    const q = /^kubepods-(besteffort|burstable)\.slice$/.exec(s);
    if (q) qos = q[1];
    const sd = POD_SYSTEMD.exec(s);
    if (sd) {
      podUid = sd[2].replace(/_/g, '-');
      if (sd[1]) qos = sd[1];
    }
    const fs = POD_CGROUPFS.exec(s);
    if (fs) podUid = fs[1];
    const scope = SCOPE.exec(s);
    if (scope) {
      containerId = scope[2];
      runtime = RUNTIMES[scope[1]];
    } else if (HEX64.test(s)) containerId = s;
  }
  const o: ProcessOwner = { kind: 'pod', qos };
  if (podUid) o.podUid = podUid;
  if (containerId) o.containerId = containerId;
  if (runtime) o.runtime = runtime;
  return o;
}

/**
 * Owner of a process from its /proc/<pid>/cgroup text: the most specific answer any of its paths gives
 * (a container or pod beats a unit, which beats a session); `host` when none names anything.
 */
export function parseCgroupOwner(text: string): ProcessOwner {
  let best: ProcessOwner | null = null;
  for (const p of cgroupPaths(text)) {
    const o = ownerOfPath(p);
    if (o && (best === null || rank(o) > rank(best))) best = o;
  }
  return best ?? { kind: 'host' };
}

function rank(o: ProcessOwner): number {
  return o.kind === 'pod' ? 4 : o.kind === 'container' ? 3 : o.kind === 'unit' ? 2 : o.kind === 'session' ? 1 : 0;
}

/** A short label of an owner for messages and tables: `container trainer (pytorch:2.3)`, `pod default/web`, `unit nginx.service`. */
export function ownerLabel(o: ProcessOwner | null | undefined): string | null {
  if (!o) return null;
  switch (o.kind) {
    case 'container': {
      const name = o.containerName ?? (o.containerId ? o.containerId.slice(0, 12) : '?');
      return `container ${name}${o.image ? ` (${o.image})` : ''}`;
    }
    case 'pod':
      if (o.podNamespace && o.podName) return `pod ${o.podNamespace}/${o.podName}`;
      return `pod ${o.podUid ?? '?'}${o.containerId ? ` container ${o.containerId.slice(0, 12)}` : ''}`;
    case 'unit':
      return `unit ${o.unit}`;
    case 'session':
      return `session ${o.session}`;
    case 'host':
      return null;
  }
}
