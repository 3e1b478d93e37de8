// The data dir (issue 17): files the collector writes there are 0600 even when the directory already
// existed with mode 0755 (or an older version left a 0644 file), and a data dir it cannot write stops
// it with exit code 2 and one line naming the directory — not a stack trace.

import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SourceStatus } from '../../protocol';
import { RuleAlertEngine } from '../../collector/alerts/engine';
import { parseAlertsConfig } from '../../collector/alerts/rules';
import { silentLogger } from '../../collector/log';
import { startCollector, type RunningCollector } from '../helpers/collector-process';

const COLLECTOR_JS = path.join(__dirname, '..', '..', 'dist', 'collector.js');
const mode = (f: string): number => fs.statSync(f).mode & 0o777;

describe('collector data dir', function () {
  this.timeout(60_000);
  let dir: string;
  let collector: RunningCollector | undefined;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-datadir-'));
    fs.chmodSync(dir, 0o755);
  });
  afterEach(async () => {
    await collector?.stop();
    collector = undefined;
    fs.chmodSync(dir, 0o755);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes CSV files (and everything else it writes) 0600 inside a pre-existing 0755 data dir', async () => {
    const csvDir = path.join(dir, 'csv');
    fs.mkdirSync(csvDir, { mode: 0o755 });
    collector = await startCollector({
      dataDir: dir,
      config: { gpu: false, docker: false, postgres: false, redis: false, models: false, logging: { enabled: true } },
      interval: 0.25,
    });
    const deadline = Date.now() + 20_000;
    let files: string[] = [];
    while ((files = fs.readdirSync(csvDir).filter((f) => f.endsWith('.csv'))).length === 0) {
      if (Date.now() > deadline) throw new Error('no CSV file within 20 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const f = path.join(csvDir, files[0]!);
    assert.equal(mode(f), 0o600, `CSV file mode ${mode(f).toString(8)}`);
    for (const name of fs.readdirSync(dir)) {
      if (name === 'test-config.json') continue; // written by the test helper
      const p = path.join(dir, name);
      if (fs.statSync(p).isFile()) assert.equal(mode(p), 0o600, `${name} is ${mode(p).toString(8)}`);
    }
  });

  it('saves alerts.json 0600 even over an older 0644 file', async () => {
    const file = path.join(dir, 'alerts.json');
    fs.writeFileSync(`${file}.tmp`, 'left over', { mode: 0o644 });
    fs.chmodSync(`${file}.tmp`, 0o644);
    const engine = new RuleAlertEngine(parseAlertsConfig(undefined).rules, 100, file, silentLogger);
    const down: SourceStatus[] = [{ id: 'redis.main', kind: 'redis', state: 'down', reason: 'connection refused' }];
    for (let t = 1_000_000; t <= 1_040_000; t += 1000) engine.evaluate(t, {}, down);
    await engine.flush();
    assert.ok(fs.existsSync(file));
    assert.equal(mode(file), 0o600, `alerts.json mode ${mode(file).toString(8)}`);
  });

  it('exits with code 2 and one line naming a data dir it cannot write', async () => {
    const ro = path.join(dir, 'ro');
    fs.mkdirSync(ro, { mode: 0o555 });
    fs.chmodSync(ro, 0o555);
    // Root ignores directory modes: run as nobody then (the dir stays root's and read-only to others).
    const asRoot = process.getuid?.() === 0;
    const node = process.execPath;
    const cmd = asRoot ? 'runuser' : node;
    const args = [...(asRoot ? ['-u', 'nobody', '--', node] : []), COLLECTOR_JS, '--port', '0', '--data-dir', ro, '--interval', '1'];
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir } });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 2, err);
    const lines = err.trim().split('\n');
    assert.equal(lines.length, 1, `one line, no stack trace:\n${err}`);
    assert.match(lines[0]!, new RegExp(`data dir ${ro.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&')} is not usable: this user may not write in it \\(EACCES\\)`));
  });
});
