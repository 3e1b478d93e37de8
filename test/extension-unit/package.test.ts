// The .vsix ships only what runs: the three bundles, media, the manifest, README/CHANGELOG/LICENSE and
// koffi's native NVML binding prebuilts (linux x64/arm64, win32 x64) in dist/koffi. Packs it offline and prints its size.

import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const VSCE = path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');

describe('extension packaging (.vsix)', function () {
  this.timeout(120_000);

  it('contains only the bundles, media, manifest, docs and the NVML binding', () => {
    assert.ok(fs.existsSync(path.join(ROOT, 'dist', 'extension.js')), 'dist/extension.js missing: run node build.mjs');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-vsix-'));
    try {
      const out = path.join(dir, 'rigwatch.vsix');
      execFileSync(process.execPath, [VSCE, 'package', '--no-dependencies', '--out', out], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], input: 'y\n' });
      const size = fs.statSync(out).size;
      console.log(`      .vsix size: ${(size / 1024).toFixed(0)} KiB`);
      const listing = execFileSync('unzip', ['-Z1', out], { encoding: 'utf8' }).trim().split('\n');
      const files = listing.filter((f) => f.startsWith('extension/')).map((f) => f.slice('extension/'.length));
      for (const f of [
        'package.json',
        'dist/extension.js',
        'dist/collector.js',
        'dist/webview.js',
        'dist/webview.css',
        'media/rigwatch.svg',
        'media/icon.png',
        'readme.md',
      ]) {
        assert.ok(files.includes(f), `${f} is in the .vsix (files: ${files.join(', ')})`);
      }
      const allowed =
        /^(package\.json|readme\.md|changelog\.md|license(\.md|\.txt)?|dist\/(extension|collector|webview)\.(js|css)|media\/[^/]+|dist\/koffi\/(linux_x64|linux_arm64|win32_x64)\/koffi\.node)$/i;
      const extra = files.filter((f) => !allowed.test(f));
      assert.deepEqual(extra, [], 'nothing else ships (sources, maps, tests, node_modules)');
      for (const t of ['linux_x64', 'linux_arm64']) assert.ok(files.includes(`dist/koffi/${t}/koffi.node`), `koffi ${t} prebuilt ships (remote deploys)`);
      assert.ok(size < 4 * 1024 * 1024, `.vsix under 4 MiB (${size} bytes)`);
      assert.ok(!files.some((f) => f.endsWith('.map') || f.endsWith('.ts')), 'no source maps or TypeScript');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
