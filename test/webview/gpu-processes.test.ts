// The dashboard's GPU process table with attribution, in Chromium: the real collector reads the fake
// NVML's process list and a captured-format proc tree (RIGWATCH_PROC_ROOT) whose processes belong to a
// Docker container, a Kubernetes pod, a systemd unit and a login session, plus one pid that has exited.
// Owner and Started columns show what attribution found; the table scrolls inside itself at 420 px.
// Screenshots go to test-artifacts/gpu-processes-<theme>-<width>.png (the table alone: gpu-processes-table-…).

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildFakeNvml, makeFakeStateDir, writeFakeState } from '../fakes/nvml/build';
import { startCollector, type RunningCollector } from '../helpers/collector-process';
import { ARTIFACTS, launchBrowser, screenshot, type TestBrowser } from './browser';

const GIB = 1024 ** 3;
const FIRST_PID = 710000;
const CID = '3f1c2a9b7d6e5f40'.padEnd(64, 'a');
const POD_CID = '9e8d7c6b5a4f3e2d'.padEnd(64, 'b');
const GONE_PID = 4194100;

const THEMES: Record<string, { scheme: 'dark' | 'light'; vars: Record<string, string> }> = {
  dark: { scheme: 'dark', vars: {} },
  light: { scheme: 'light', vars: {} },
  'high-contrast': {
    scheme: 'dark',
    vars: {
      '--vscode-foreground': '#ffffff',
      '--vscode-editor-background': '#000000',
      '--vscode-contrastBorder': '#6fc3df',
      '--vscode-panel-border': '#6fc3df',
      '--vscode-descriptionForeground': '#ffffff',
    },
  },
};

const PROCS: { argv: string[]; cgroup: string; uid: number; startAgoS: number }[] = [
  {
    argv: ['/usr/bin/python3', '-u', 'train.py', '--config', 'configs/llama-7b-lora.yaml', '--output_dir', '/data/runs/llama-7b-lora-2026-12-05'],
    cgroup: `0::/system.slice/docker-${CID}.scope\n`,
    uid: 0,
    startAgoS: 3 * 3600,
  },
  {
    argv: ['/opt/conda/bin/python', 'serve.py', '--port', '8000'],
    cgroup: `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0c4a7d2e_9b1f_4e3a_8c6d_2f5e8a1b3c4d.slice/cri-containerd-${POD_CID}.scope\n`,
    uid: 0,
    startAgoS: 40 * 3600,
  },
  { argv: ['/usr/local/bin/ollama', 'serve'], cgroup: '0::/system.slice/ollama.service\n', uid: 0, startAgoS: 600 },
  { argv: ['/usr/bin/python3', 'notebook_kernel.py'], cgroup: '0::/user.slice/user-1000.slice/session-4.scope\n', uid: 0, startAgoS: 120 },
];

describe('GPU process table: owner and start time (Chromium)', function () {
  this.timeout(180_000);
  let collector: RunningCollector;
  let gpuState: ReturnType<typeof makeFakeStateDir>;
  let proc: string;

  before(async function () {
    this.timeout(60_000);
    proc = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-webview-proc-'));
    const nowS = Math.floor(Date.now() / 1000);
    const bootS = nowS - 3 * 24 * 3600;
    fs.writeFileSync(path.join(proc, 'stat'), `cpu 1 2 3\nbtime ${bootS}\n`);
    fs.mkdirSync(path.join(proc, '1'));
    fs.writeFileSync(path.join(proc, '1', 'status'), 'Name:\tinit\nUid:\t0\t0\t0\t0\nNSpid:\t1\n');
    fs.symlinkSync('1', path.join(proc, 'self'));
    const list: string[] = [];
    const util: string[] = [];
    PROCS.forEach((p, i) => {
      const pid = FIRST_PID + i;
      const d = path.join(proc, String(pid));
      fs.mkdirSync(d);
      const ticks = (nowS - p.startAgoS - bootS) * 100;
      fs.writeFileSync(path.join(d, 'stat'), `${pid} (x) S 1 ${pid} ${pid} 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 ${ticks} 1000 10 1`);
      fs.writeFileSync(path.join(d, 'cmdline'), p.argv.join('\0') + '\0');
      fs.writeFileSync(path.join(d, 'status'), `Name:\tx\nUid:\t${p.uid}\t0\t0\t0\nNSpid:\t${pid}\n`);
      fs.writeFileSync(path.join(d, 'cgroup'), p.cgroup);
      list.push(`${pid}:${(20 - 4 * i) * GIB}`);
      util.push(`${pid}:${i === 3 ? 0 : 60 + i}`);
    });
    list.push(`${GONE_PID}:${2 * GIB}`);
    gpuState = makeFakeStateDir();
    writeFakeState(gpuState.stateFile, {
      count: 2,
      'gpu.*.name': 'NVIDIA H100 80GB HBM3',
      'gpu.*.mem_total': 80 * GIB,
      'gpu.0.mem_used': 60 * GIB,
      'gpu.0.compute': list.join(';'),
      'gpu.0.putil': util.join(';'),
    });
    collector = await startCollector({
      interval: 0.5,
      config: { postgres: false, redis: false, docker: false, models: false, gpu: { kubeletUrl: false } },
      env: { RIGWATCH_NVML_PATH: buildFakeNvml(), FAKE_NVML_STATE: gpuState.stateFile, RIGWATCH_PROC_ROOT: proc },
    });
  });
  after(async () => {
    await collector?.stop();
    gpuState?.dispose();
    fs.rmSync(proc, { recursive: true, force: true });
  });

  for (const [name, theme] of Object.entries(THEMES)) {
    it(`${name}: owners, start times and the exited pid at 1400 and 420 px`, async () => {
      let b: TestBrowser | undefined;
      try {
        b = await launchBrowser({ colorScheme: theme.scheme, width: 1400, height: 1000 });
        const page = b.page;
        await page.goto(`${collector.url}/#token=${collector.token}`);
        await page.locator('rw-header .conn[data-state="live"]').waitFor({ timeout: 15_000 });
        await page.evaluate((vars) => {
          for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
        }, theme.vars);
        const table = page.locator('rw-gpu-processes');
        await table.locator('tbody tr').nth(PROCS.length).waitFor({ timeout: 15_000 });
        const rows = await table
          .locator('tbody tr')
          .evaluateAll((trs) =>
            trs.map((tr) =>
              [...tr.querySelectorAll('td')].map((td) => ({ text: (td.textContent ?? '').replace(/\s+/g, ' ').trim(), title: td.getAttribute('title') ?? '' })),
            ),
          );
        const byPid = new Map(rows.map((r) => [Number(r[0]?.text), r]));
        const owner = (pid: number): { text: string; title: string } => byPid.get(pid)![5]!;
        assert.equal(owner(FIRST_PID).text, `container ${CID.slice(0, 12)}`);
        assert.match(owner(FIRST_PID).title, new RegExp(`^container ${CID.slice(0, 12)} — container name unknown: the Docker source is not running$`));
        assert.equal(owner(FIRST_PID + 1).text, `pod 0c4a7d2e-9b1f-4e3a-8c6d-2f5e8a1b3c4d container ${POD_CID.slice(0, 12)}`);
        assert.match(
          owner(FIRST_PID + 1).title,
          /^pod 0c4a7d2e-9b1f-4e3a-8c6d-2f5e8a1b3c4d container 9e8d7c6b5a4f — .*kubelet lookup is off/,
          'full label and the note on hover',
        );
        assert.equal(owner(FIRST_PID + 2).text, 'unit ollama.service');
        assert.equal(owner(FIRST_PID + 3).text, 'session 4');
        assert.equal(byPid.get(FIRST_PID)![1]!.title, PROCS[0]!.argv.join(' '), 'full command on hover');
        assert.match(byPid.get(GONE_PID)![1]!.text, /\(exited\)/);
        assert.match(byPid.get(FIRST_PID + 1)![7]!.text, /^\d{4}-\d\d-\d\d$/, 'started 40 h ago: a date');
        assert.match(byPid.get(FIRST_PID + 3)![7]!.text, /^(\d\d:\d\d|\d{4}-\d\d-\d\d)$/);
        for (const width of [1400, 420]) {
          await page.setViewportSize({ width, height: 1000 });
          await page.waitForTimeout(400);
          await table.scrollIntoViewIfNeeded();
          await screenshot(page, `gpu-processes-${name}-${width}`);
          await table.screenshot({ path: path.join(ARTIFACTS, `gpu-processes-table-${name}-${width}.png`) });
          if (width === 420) {
            // VRAM comes into view without scrolling the table (process and owner give up width).
            const vram = await table.locator('thead th').nth(3).boundingBox();
            assert.ok(vram && vram.x + vram.width <= width, `${name}: the VRAM column starts off-screen at 420 px (x = ${vram?.x})`);
          }
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          assert.ok(overflow <= 0, `${name} at ${width} px: the page scrolls sideways by ${overflow} px (the table must scroll inside itself)`);
        }
        assert.deepEqual(b.problems, []);
      } finally {
        await b?.close();
      }
    });
  }
});
