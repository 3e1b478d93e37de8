// Issue 17 (collector RSS): a collector with the default configuration on a machine with no PostgreSQL,
// Redis or model server does not load the pg and ioredis clients or fetch's undici, nor the Node
// built-ins they bring in. Checked from outside the bundle: a `--require` preload records
// `process.moduleLoadList` (the Node built-ins this process has loaded) when the test sends SIGUSR2,
// after every auto-detected source has been probed and found absent. Build first (`node build.mjs`).

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SourceStatus } from '../../protocol';
import { startCollector, stopAllCollectors } from '../helpers/collector-process';

/** Built-ins that only these libraries load in the collector (each measured: present before the change). */
const MARKERS: Record<string, string> = {
  'internal/deps/undici/undici': "undici (fetch's HTTP client; pg touches the global Response when it loads)",
  assert: 'assert (ioredis, through redis-errors)',
  http2: 'http2 (undici)',
};

/** Resolves true when something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

describe('database clients and fetch load only when a server is there', function () {
  this.timeout(30_000);
  after(stopAllCollectors);

  it('a default-config collector with no PostgreSQL, Redis or model server has loaded none of them', async () => {
    for (const [port, what] of [
      [5432, 'PostgreSQL'],
      [6379, 'Redis'],
      [11434, 'Ollama'],
    ] as const) {
      assert.equal(await listening(port), false, `this test needs nothing on 127.0.0.1:${port} (${what}'s default port): stop it and rerun`);
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-lazy-'));
    const preload = path.join(dir, 'module-list.js');
    const out = path.join(dir, 'modules.json');
    fs.writeFileSync(
      preload,
      `process.on('SIGUSR2', () => require('fs').writeFileSync(process.env.RIGWATCH_TEST_MODULE_LIST, JSON.stringify(process.moduleLoadList)));\n`,
    );
    try {
      const col = await startCollector({ env: { NODE_OPTIONS: `--require ${preload}`, RIGWATCH_TEST_MODULE_LIST: out } });
      const client = await col.ws();
      // Wait until the auto-detected sources have been probed (found absent) — they are what would load the clients.
      let sources: SourceStatus[] = (await client.next('hello')).sources;
      const probed = (kind: string): boolean =>
        sources.some((s) => s.kind === kind) && sources.filter((s) => s.kind === kind).every((s) => s.state === 'unavailable');
      while (!['postgres', 'redis', 'models'].every(probed)) {
        sources = (await client.next('status', 20_000)).sources;
      }
      col.proc.kill('SIGUSR2');
      const deadline = Date.now() + 10_000;
      while (!fs.existsSync(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const loaded = new Set((JSON.parse(fs.readFileSync(out, 'utf8')) as string[]).filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)));
      assert.ok(loaded.has('net') && loaded.has('http'), 'the preload saw the collector’s own modules');
      const found = Object.entries(MARKERS)
        .filter(([m]) => loaded.has(m))
        .map(([, why]) => why);
      assert.deepEqual(found, [], `loaded at start with no server around: ${found.join('; ')}`);
      for (const s of sources.filter((x) => ['postgres', 'redis'].includes(x.kind)))
        assert.match(s.reason ?? '', /^no (PostgreSQL|Redis) at 127\.0\.0\.1:/, s.id);
    } finally {
      await stopAllCollectors();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
