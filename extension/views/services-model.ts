// Builds the Services tree (connection → GPUs, Host, Databases, Model servers, Containers, other
// sources) from connection snapshots. Pure.

import type { SourceStatus } from '../../protocol';
import type { DockerDetails, ModelsDetails, PostgresDetails, RedisDetails } from '../../protocol/details';
import { escapeMarkdown, formatBytes, formatNumber, formatPercent, formatSeconds, formatUsedTotal } from '../format';
import { gpuDetails, gpuReadings, hostDetails, hostReading, type ConnectionSnapshot } from './snapshot';
import type { TreeNode } from './tree-node';
import { ownerLabel } from '../../protocol/owner-label';

const STATE_ICON: Record<string, TreeNode['icon']> = {
  live: { id: 'vm-active', color: 'testing.iconPassed' },
  polling: { id: 'vm-active', color: 'list.warningForeground' },
  connecting: { id: 'loading~spin' },
  reconnecting: { id: 'sync~spin', color: 'list.warningForeground' },
  failed: { id: 'vm-outline', color: 'list.errorForeground' },
  disconnected: { id: 'debug-disconnect' },
};

const GROUP_ORDER = ['gpu', 'host', 'databases', 'models', 'docker', 'other'] as const;

/** Icon for a source's state. */
function sourceIcon(s: SourceStatus | undefined, readyIcon: string): TreeNode['icon'] {
  switch (s?.state) {
    case 'down':
      return { id: 'error', color: 'list.errorForeground' };
    case 'unavailable':
      return { id: 'circle-slash', color: 'disabledForeground' };
    case 'probing':
      return { id: 'loading~spin' };
    default:
      return { id: readyIcon, color: 'testing.iconPassed' };
  }
}

function notReady(id: string, label: string, s: SourceStatus): TreeNode {
  return {
    id,
    label,
    description: `${s.state}${s.reason ? ': ' + s.reason : ''}`,
    tooltip: `**${escapeMarkdown(label)}** — ${s.state}${s.reason ? `\n\n${escapeMarkdown(s.reason)}` : ''}${s.nextProbe ? `\n\nNext try at ${new Date(s.nextProbe).toLocaleTimeString()}` : ''}`,
    icon: sourceIcon(s, 'circle'),
    contextValue: `rigwatch.source.${s.state}`,
  };
}

/** The Services tree for every connection. */
export function servicesTree(conns: ConnectionSnapshot[]): TreeNode[] {
  return conns.map(connectionNode);
}

/** One connection's subtree. */
export function connectionNode(c: ConnectionSnapshot): TreeNode {
  const host = c.hello?.host;
  const base = `conn/${c.id}`;
  const children: TreeNode[] = [];
  if (c.state !== 'live' && c.state !== 'polling' && c.reason) {
    children.push({
      id: `${base}/error`,
      label: c.state === 'failed' ? 'Cannot connect' : 'Connection problem',
      description: c.reason,
      tooltip: `**${escapeMarkdown(c.name)}**: ${escapeMarkdown(c.reason)}`,
      icon: { id: 'error', color: 'list.errorForeground' },
      contextValue: 'rigwatch.error',
      ref: { connectionId: c.id },
    });
  }
  if (c.hello) children.push(...sourceGroups(c, base));
  const stateText = c.state === 'live' ? (host ? `${host.hostname}` : 'live') : c.state;
  return {
    id: base,
    label: c.name,
    description: stateText,
    tooltip: [
      `**${escapeMarkdown(c.name)}** — ${c.state}`,
      c.reason ? escapeMarkdown(c.reason) : '',
      host ? `${escapeMarkdown(host.hostname)} · ${host.platform}/${host.arch}${host.cpuCores ? ` · ${host.cpuCores} cores` : ''} · collector ${host.collectorVersion}` : '',
      c.hello ? `Interval ${formatSeconds(c.hello.intervalMs / 1000)}` : '',
    ].filter(Boolean).join('\n\n'),
    icon: STATE_ICON[c.state] ?? { id: 'circle' },
    contextValue: `rigwatch.connection.${c.kind}.${c.state}`,
    ref: { connectionId: c.id },
    children,
    expanded: true,
  };
}

function groupOf(kind: string): (typeof GROUP_ORDER)[number] {
  if (kind === 'gpu' || kind === 'host' || kind === 'docker' || kind === 'models') return kind;
  if (kind === 'postgres' || kind === 'redis') return 'databases';
  return 'other';
}

function sourceGroups(c: ConnectionSnapshot, base: string): TreeNode[] {
  const out: TreeNode[] = [];
  const byGroup = new Map<string, SourceStatus[]>();
  for (const s of c.sources) {
    const g = groupOf(s.kind);
    byGroup.set(g, [...(byGroup.get(g) ?? []), s]);
  }
  for (const g of GROUP_ORDER) {
    const sources = byGroup.get(g);
    if (!sources) continue;
    switch (g) {
      case 'gpu':
        out.push(...gpuNodes(c, base, sources));
        break;
      case 'host':
        out.push(hostNode(c, base, sources[0]));
        break;
      case 'databases':
        out.push({ id: `${base}/databases`, label: 'Databases', icon: { id: 'database' }, children: sources.map((s) => databaseNode(c, base, s)), expanded: true, description: countUp(sources) });
        break;
      case 'models':
        out.push(modelsNode(c, base, sources));
        break;
      case 'docker':
        out.push(dockerNode(c, base, sources[0]));
        break;
      case 'other':
        out.push({
          id: `${base}/other`,
          label: 'Other sources',
          icon: { id: 'plug' },
          children: sources.map((s) => (s.state === 'ready' ? { id: `${base}/src/${s.id}`, label: s.id, description: s.description ?? 'ready', icon: sourceIcon(s, 'plug') } : notReady(`${base}/src/${s.id}`, s.id, s))),
        });
        break;
    }
  }
  return out;
}

function countUp(sources: SourceStatus[]): string {
  const up = sources.filter((s) => s.state === 'ready').length;
  return `${up}/${sources.length} up`;
}

function gpuNodes(c: ConnectionSnapshot, base: string, sources: SourceStatus[]): TreeNode[] {
  const s = sources[0];
  if (s.state !== 'ready') return [notReady(`${base}/gpus`, 'GPU', s)];
  const gpus = gpuReadings(c.latest);
  const det = gpuDetails(c.latest);
  if (gpus.length === 0) return [{ id: `${base}/gpus`, label: 'GPUs', description: s.description ?? 'no GPU found', icon: { id: 'circuit-board' } }];
  const children = gpus.map((g): TreeNode => {
    const dev = det?.devices.find((d) => d.index === g.index);
    const procs = (det?.processes ?? []).filter((p) => p.gpuIndex === g.index);
    const firing = c.alerts.some((a) => a.state === 'firing' && a.series.startsWith(`gpu.${g.index}.`));
    const desc = `${formatPercent(g.util)} · ${formatUsedTotal(g.memUsed, g.memTotal)}${g.temp !== null ? ` · ${formatNumber(g.temp, 0)} °C` : ''}`;
    return {
      id: `${base}/gpu/${g.index}`,
      label: `GPU ${g.index}${g.name ? `: ${g.name}` : ''}`,
      description: desc,
      tooltip: [
        `**GPU ${g.index}${g.name ? ` — ${escapeMarkdown(g.name)}` : ''}**`,
        `Utilisation ${formatPercent(g.util)} · VRAM ${formatUsedTotal(g.memUsed, g.memTotal)}`,
        `Temperature ${formatNumber(g.temp, 0, ' °C')} · Power ${formatNumber(g.power, 0)}${g.powerLimit !== null ? `/${formatNumber(g.powerLimit, 0)}` : ''} W`,
        dev ? `${escapeMarkdown(dev.pciBusId)}${dev.pstate ? ` · ${dev.pstate}` : ''}${dev.throttleReasons.length ? ` · throttled: ${escapeMarkdown(dev.throttleReasons.join(', '))}` : ''}` : '',
        det?.driverVersion ? `Driver ${escapeMarkdown(det.driverVersion)}${det.cudaVersion ? ` · CUDA ${escapeMarkdown(det.cudaVersion)}` : ''}` : '',
      ].filter(Boolean).join('\n\n'),
      icon: firing ? { id: 'circuit-board', color: 'list.warningForeground' } : { id: 'circuit-board', color: 'testing.iconPassed' },
      contextValue: 'rigwatch.gpu',
      ref: { connectionId: c.id, gpuIndex: g.index },
      children: procs.length
        ? procs.map((p): TreeNode => {
            const owner = ownerLabel(p.owner);
            const idle = p.smUtilRatio === 0 || (p.smUtilRatio === null && g.util === 0);
            return {
              id: `${base}/gpu/${g.index}/pid/${p.pid}`,
              label: `${p.name ?? 'process'} (${p.pid})`,
              description: [formatBytes(p.usedMemoryBytes), p.smUtilRatio !== null ? `SM ${formatPercent(p.smUtilRatio)}` : null, p.user, owner, p.alive === false ? 'exited' : null].filter(Boolean).join(' · '),
              tooltip: [
                `**${escapeMarkdown(p.name ?? 'process')}** · pid ${p.pid}${p.nvmlPid !== undefined ? ` (NVML pid ${p.nvmlPid})` : ''}${p.user ? ` · ${escapeMarkdown(p.user)}` : ''}`,
                p.command ? `\`${p.command.replace(/`/g, "'")}\`` : '',
                `VRAM ${formatBytes(p.usedMemoryBytes)} · SM ${formatPercent(p.smUtilRatio)}${p.startTime ? ` · started ${new Date(p.startTime).toISOString().replace('T', ' ').slice(0, 19)} UTC` : ''}`,
                owner ? escapeMarkdown(owner) : '',
                p.owner?.note ? escapeMarkdown(p.owner.note) : '',
              ].filter(Boolean).join('\n\n'),
              icon: p.alive === false ? { id: 'warning', color: 'list.warningForeground' } : idle ? { id: 'debug-pause' } : { id: 'symbol-event' },
              contextValue: p.alive === false ? 'rigwatch.gpuProcess.gone' : 'rigwatch.gpuProcess',
              ref: { connectionId: c.id, gpuIndex: g.index, pid: p.pid },
            };
          })
        : undefined,
      expanded: false,
    };
  });
  return [{ id: `${base}/gpus`, label: 'GPUs', description: s.description ?? `${gpus.length}`, icon: sourceIcon(s, 'circuit-board'), children, expanded: true }];
}

function hostNode(c: ConnectionSnapshot, base: string, s: SourceStatus): TreeNode {
  if (s.state !== 'ready') return notReady(`${base}/host`, 'Host', s);
  const h = hostReading(c.latest);
  const d = hostDetails(c.latest);
  const ser = c.latest?.series ?? {};
  const num = (k: string): number | null => (typeof ser[k] === 'number' ? (ser[k] as number) : null);
  const children: TreeNode[] = [
    { id: `${base}/host/cpu`, label: 'CPU', description: `${formatPercent(h.cpu)} · load ${formatNumber(num('host.load1_count'), 2)}`, icon: { id: 'pulse' } },
    { id: `${base}/host/mem`, label: 'Memory', description: `${formatUsedTotal(h.memUsed, h.memTotal)}${num('host.swap_total_bytes') ? ` · swap ${formatBytes(num('host.swap_used_bytes'))}` : ''}`, icon: { id: 'server' } },
  ];
  for (const m of d?.mounts ?? []) {
    children.push({ id: `${base}/host/mount/${m.mount}`, label: m.mount, description: `${formatPercent(m.totalBytes ? m.usedBytes / m.totalBytes : null)} · ${formatBytes(m.availBytes)} free`, icon: { id: 'database' }, tooltip: `${escapeMarkdown(m.device)} (${escapeMarkdown(m.fsType)})` });
  }
  return {
    id: `${base}/host`,
    label: `Host${c.hello ? `: ${c.hello.host.hostname}` : ''}`,
    description: `CPU ${formatPercent(h.cpu)} · RAM ${formatUsedTotal(h.memUsed, h.memTotal)}`,
    tooltip: `**${escapeMarkdown(c.hello?.host.hostname ?? 'Host')}**${c.hello?.host.cpuModel ? `\n\n${escapeMarkdown(c.hello.host.cpuModel)}` : ''}`,
    icon: sourceIcon(s, 'vm'),
    contextValue: 'rigwatch.host',
    children,
    expanded: false,
  };
}

function databaseNode(c: ConnectionSnapshot, base: string, s: SourceStatus): TreeNode {
  const id = `${base}/src/${s.id}`;
  const inst = s.id.includes('.') ? s.id.slice(s.id.indexOf('.') + 1) : s.id;
  const label = `${s.kind === 'postgres' ? 'PostgreSQL' : s.kind === 'redis' ? 'Redis' : s.kind} ${inst}`;
  if (s.state !== 'ready') return notReady(id, label, s);
  const ser = c.latest?.series ?? {};
  const num = (k: string): number | null => (typeof ser[k] === 'number' ? (ser[k] as number) : null);
  const det = c.latest?.details[s.id] as PostgresDetails | RedisDetails | undefined;
  let description: string;
  if (s.kind === 'postgres') {
    description = `${formatNumber(num(`${s.id}.connections_total_count`), 0)}/${formatNumber(num(`${s.id}.max_connections_count`), 0)} conn · hit ${formatPercent(num(`${s.id}.cache_hit_ratio`))} · ${formatNumber(num(`${s.id}.xact_per_second`), 0)} tx/s`;
  } else if (s.kind === 'redis') {
    description = `${formatBytes(num(`${s.id}.memory_used_bytes`))} · ${formatNumber(num(`${s.id}.ops_per_second`), 0)} ops/s · hit ${formatPercent(num(`${s.id}.hit_ratio`))}`;
  } else {
    description = s.description ?? 'ready';
  }
  return {
    id,
    label,
    description,
    tooltip: `**${escapeMarkdown(label)}**${det && 'target' in det ? `\n\n${escapeMarkdown(det.target)}` : ''}${s.description ? `\n\n${escapeMarkdown(s.description)}` : ''}`,
    icon: sourceIcon(s, 'database'),
    contextValue: `rigwatch.source.${s.kind}`,
  };
}

function modelsNode(c: ConnectionSnapshot, base: string, sources: SourceStatus[]): TreeNode {
  const children: TreeNode[] = [];
  for (const s of sources) {
    const det = c.latest?.details[s.id] as ModelsDetails | undefined;
    if (s.state !== 'ready' && !det) {
      children.push(notReady(`${base}/src/${s.id}`, s.id, s));
      continue;
    }
    for (const srv of det?.kind === 'models' ? det.servers : []) {
      const key = `models.${srv.name}`;
      const ser = c.latest?.series ?? {};
      const num = (k: string): number | null => (typeof ser[k] === 'number' ? (ser[k] as number) : null);
      const running = num(`${key}.requests_running_count`) ?? num(`${key}.slots_busy_count`);
      children.push({
        id: `${base}/model/${srv.name}`,
        label: srv.name,
        description: srv.up ? `${srv.kind} · ${formatSeconds(num(`${key}.latency_seconds`))}${running !== null ? ` · ${running} running` : ''}${srv.models.length ? ` · ${srv.models.length} model${srv.models.length > 1 ? 's' : ''}` : ''}` : `down${srv.error ? ': ' + srv.error : ''}`,
        tooltip: `**${escapeMarkdown(srv.name)}** (${srv.kind}) — ${escapeMarkdown(srv.url)}${srv.models.length ? '\n\n' + srv.models.map((m) => `- ${escapeMarkdown(m.name)}${m.vramBytes !== null ? ` · ${formatBytes(m.vramBytes)} VRAM` : ''}`).join('\n') : ''}${srv.error ? `\n\n${escapeMarkdown(srv.error)}` : ''}`,
        icon: srv.up ? { id: 'hubot', color: 'testing.iconPassed' } : { id: 'error', color: 'list.errorForeground' },
        contextValue: 'rigwatch.model',
      });
    }
  }
  return { id: `${base}/models`, label: 'Model servers', icon: { id: 'hubot' }, children, expanded: true, description: `${children.length}` };
}

function dockerNode(c: ConnectionSnapshot, base: string, s: SourceStatus): TreeNode {
  if (s.state !== 'ready') return notReady(`${base}/containers`, 'Containers', s);
  const det = c.latest?.details[s.id] as DockerDetails | undefined;
  const ser = c.latest?.series ?? {};
  const num = (k: string): number | null => (typeof ser[k] === 'number' ? (ser[k] as number) : null);
  const containers = det?.kind === 'docker' ? det.containers : [];
  const children = containers.map((ct): TreeNode => {
    const bad = ct.health === 'unhealthy' || ct.state === 'restarting';
    const key = `docker.${ct.name.replace(/[^A-Za-z0-9_:@-]/g, '_')}`;
    return {
      id: `${base}/container/${ct.id}`,
      label: ct.name,
      description: `${ct.state}${ct.health ? ` · ${ct.health}` : ''}${ct.state === 'running' ? ` · CPU ${formatPercent(num(`${key}.cpu_ratio`))} · ${formatBytes(num(`${key}.memory_used_bytes`))}` : ''}`,
      tooltip: `**${escapeMarkdown(ct.name)}** — ${escapeMarkdown(ct.image)}${ct.restartCount ? `\n\nRestarts: ${ct.restartCount}` : ''}${ct.lastHealthOutput ? `\n\nLast health check: ${escapeMarkdown(ct.lastHealthOutput.slice(0, 300))}` : ''}`,
      icon: bad ? { id: 'error', color: 'list.errorForeground' } : ct.state === 'running' ? { id: 'package', color: 'testing.iconPassed' } : { id: 'package', color: 'disabledForeground' },
      contextValue: 'rigwatch.container',
    };
  });
  return { id: `${base}/containers`, label: 'Containers', description: `${containers.filter((x) => x.state === 'running').length}/${containers.length} running`, icon: sourceIcon(s, 'package'), children, expanded: children.length <= 10 };
}

/** The command "Copy Kill Command" copies for a GPU process: a plain `kill` (SIGTERM) of its pid on the box. */
export function killCommand(pid: number): string {
  return `kill ${pid}`;
}
