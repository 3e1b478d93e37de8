// A protocol-speaking stand-in for the collector, for the dashboard benchmark only: it serves the
// built dashboard and answers `history` with synthetic series of any length (24 h for 8 GPUs, which a
// real collector would need a day to accumulate), and pushes samples when and as fast as told.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeClientMessage } from '../../protocol/guards';
import { PROTOCOL_VERSION, type HelloMessage, type HistoryPoint, type SampleMessage, type SeriesMap, type SourceStatus } from '../../protocol/messages';
import type { GpuDetails, HostDetails, SourceDetails } from '../../protocol/details';
import { dashboardHtml } from '../../webview/html';

const ROOT = path.resolve(__dirname, '..', '..');

/** Options of the synthetic collector. */
export interface SyntheticOptions {
  gpus: number;
  cores: number;
  /** Answer history requests with data (true) or with empty series (false). */
  history: boolean;
  intervalMs: number;
  /** More sources (databases, model servers, Docker, runs…) with fixed series values and details. */
  extra?: { sources: SourceStatus[]; series: SeriesMap; details: Record<string, SourceDetails> };
}

const GPU_METRICS = [
  'utilization_ratio',
  'memory_utilization_ratio',
  'memory_used_bytes',
  'memory_total_bytes',
  'memory_used_ratio',
  'temperature_celsius',
  'power_watts',
  'power_limit_watts',
  'fan_ratio',
  'sm_clock_hertz',
  'memory_clock_hertz',
  'pcie_rx_bytes_per_second',
  'pcie_tx_bytes_per_second',
  'encoder_utilization_ratio',
  'decoder_utilization_ratio',
  'pstate_count',
  'ecc_volatile_errors_count',
];

/** A deterministic, smooth-ish value for a series at time t. */
function valueAt(name: string, t: number): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) | 0;
  const phase = (h % 1000) / 159;
  const wave = 0.5 + 0.35 * Math.sin(t / 600_000 + phase) + 0.1 * Math.sin(t / 7_000 + phase * 3);
  if (name.endsWith('_ratio')) return Math.max(0, Math.min(1, wave));
  if (name.endsWith('memory_total_bytes')) return 80 * 2 ** 30;
  if (name.endsWith('_bytes')) return wave * 60 * 2 ** 30;
  if (name.endsWith('_celsius')) return 40 + wave * 40;
  if (name.endsWith('power_limit_watts')) return 400;
  if (name.endsWith('_watts')) return 60 + wave * 300;
  if (name.endsWith('_hertz')) return 1.2e9 + wave * 5e8;
  if (name.endsWith('_bytes_per_second')) return wave * 5e8;
  return Math.round(wave * 4);
}

/** The synthetic collector. */
export class SyntheticCollector {
  readonly token = randomBytes(8).toString('hex');
  private server = http.createServer((req, res) => this.http(req, res));
  private wss = new WebSocketServer({ noServer: true });
  private clients = new Set<WebSocket>();
  private names: string[] = [];
  private lastT = Date.now();
  port = 0;

  constructor(private readonly o: SyntheticOptions) {
    for (let i = 0; i < o.gpus; i++) for (const m of GPU_METRICS) this.names.push(`gpu.${i}.${m}`);
    this.names.push('host.cpu_busy_ratio', 'host.load1_count', 'host.load5_count', 'host.load15_count', 'host.uptime_seconds');
    for (let c = 0; c < o.cores; c++) this.names.push(`host.cpu.${c}.busy_ratio`);
    for (const m of ['memory_total_bytes', 'memory_used_bytes', 'memory_available_bytes', 'memory_used_ratio', 'swap_total_bytes', 'swap_used_bytes'])
      this.names.push(`host.${m}`);
    for (const id of ['root', 'data']) for (const m of ['total_bytes', 'used_bytes', 'avail_bytes', 'used_ratio']) this.names.push(`host.mount.${id}.${m}`);
    for (const m of ['disk_read_bytes_per_second', 'disk_write_bytes_per_second', 'net_rx_bytes_per_second', 'net_tx_bytes_per_second'])
      this.names.push(`host.${m}`);
    this.server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/ws' || url.searchParams.get('token') !== this.token) return socket.destroy();
      this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws));
    });
  }

  /** Starts listening on a free loopback port. */
  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
    return `http://127.0.0.1:${this.port}/#token=${this.token}`;
  }

  /** Number of series in each sample. */
  get seriesCount(): number {
    return this.names.length;
  }

  private http(req: http.IncomingMessage, res: http.ServerResponse): void {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    if (p === '/') {
      const nonce = randomBytes(16).toString('base64');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(dashboardHtml({ nonce, scriptUri: '/webview.js', styleUri: '/webview.css', cspSource: "'self'", connectSrc: "'self'", mode: 'browser' }));
    } else if (p === '/webview.js' || p === '/webview.css') {
      res.writeHead(200, { 'content-type': p.endsWith('.js') ? 'text/javascript' : 'text/css' });
      res.end(fs.readFileSync(path.join(ROOT, 'dist', p.slice(1))));
    } else {
      res.writeHead(404).end();
    }
  }

  private details(): { gpu: GpuDetails; host: HostDetails } {
    return {
      gpu: {
        kind: 'gpu',
        backend: 'nvml',
        driverVersion: '550.54.15',
        cudaVersion: '12.4',
        devices: Array.from({ length: this.o.gpus }, (_, i) => ({
          index: i,
          name: 'NVIDIA H100 80GB HBM3',
          uuid: `GPU-${i}`,
          pciBusId: `00000000:${(i + 16).toString(16)}:00.0`,
          computeCapability: '9.0',
          migMode: false,
          throttleReasons: [],
          pstate: 'P0',
          notes: [],
        })),
        processes: Array.from({ length: this.o.gpus * 2 }, (_, k) => ({
          pid: 1000 + k,
          name: `python train_${k}.py`,
          user: 'ml',
          gpuIndex: k % this.o.gpus,
          usedMemoryBytes: (k + 1) * 2 ** 30,
          smUtilRatio: null,
          type: 'compute' as const,
        })),
      },
      host: {
        kind: 'host',
        cores: this.o.cores,
        mounts: [
          { mount: '/', device: '/dev/nvme0n1p2', fsType: 'ext4', totalBytes: 2e12, usedBytes: 1e12, availBytes: 1e12 },
          { mount: '/data', device: '/dev/nvme1n1', fsType: 'xfs', totalBytes: 8e12, usedBytes: 6e12, availBytes: 2e12 },
        ],
        interfaces: ['eth0'],
        disks: ['nvme0n1', 'nvme1n1'],
      },
    };
  }

  /** A sample at time t. */
  sample(t: number): SampleMessage {
    const series: SeriesMap = {};
    for (const n of this.names) series[n] = valueAt(n, t);
    Object.assign(series, this.o.extra?.series);
    return { type: 'sample', t, series, details: { ...this.details(), ...this.o.extra?.details } };
  }

  private connected(ws: WebSocket): void {
    this.clients.add(ws);
    ws.on('close', () => this.clients.delete(ws));
    const now = Date.now();
    const hello: HelloMessage = {
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      intervalMs: this.o.intervalMs,
      serverTime: now,
      host: {
        hostname: 'bench-box',
        platform: 'linux',
        arch: 'x64',
        collectorVersion: 'bench',
        pid: process.pid,
        startedAt: now - 86_400_000,
        cpuCores: this.o.cores,
      },
      sources: [
        { id: 'host', kind: 'host', state: 'ready', description: 'synthetic' },
        { id: 'gpu', kind: 'gpu', state: 'ready', description: `${this.o.gpus} × synthetic` },
        ...(this.o.extra?.sources ?? []),
      ],
      alerts: [],
      logging: { enabled: false },
      latest: this.sample(now),
    };
    ws.send(JSON.stringify(hello));
    ws.on('message', (data) => {
      const m = decodeClientMessage(data.toString());
      if (m.type !== 'history') return;
      const to = m.to ?? Date.now();
      const from = m.since ?? m.from ?? to - 3_600_000;
      const points = m.points ?? 600;
      const stepMs = Math.max(this.o.intervalMs, Math.ceil((to - from) / points));
      const series = m.series.map((name) => {
        const pts: HistoryPoint[] = [];
        if (this.o.history) {
          for (let t = Math.floor(from / stepMs) * stepMs; t <= to; t += stepMs) {
            const v = this.o.extra?.series[name] ?? valueAt(name, t);
            pts.push([t, v * 0.9, v, v * 1.1]);
          }
        }
        return { name, stepMs, points: pts };
      });
      ws.send(JSON.stringify({ type: 'history', id: m.id, from, to, series }));
    });
  }

  /** Sends one sample at time t to every client; resolves when the socket buffers drained. */
  async push(t: number): Promise<void> {
    this.lastT = t;
    const text = JSON.stringify(this.sample(t));
    for (const c of this.clients) c.send(text);
    // Back-pressure: never queue more than a few MB in the socket (like the real server's slow-client rule).
    for (const c of this.clients) while (c.bufferedAmount > 4_000_000) await new Promise((r) => setTimeout(r, 5));
  }

  /** Time of the last pushed sample. */
  get lastSampleT(): number {
    return this.lastT;
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.terminate();
    this.wss.close();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
