// Builds the three programs with esbuild: the extension (cjs, vscode external), the self-contained
// collector (runs with plain node, copied to remote boxes) and the webview bundle.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const watch = process.argv.includes('--watch');
const define = { RIGWATCH_VERSION: JSON.stringify(pkg.version) };
const common = { bundle: true, sourcemap: true, logLevel: 'warning', define, legalComments: 'none' };

// The webview is built first: the collector embeds it so a single copied file also serves the dashboard.
await build({
  ...common,
  entryPoints: ['webview/main.ts'],
  outfile: 'dist/webview.js',
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  minify: true,
  sourcemap: false,
});
if (!existsSync('dist/webview.css')) writeFileSync('dist/webview.css', '');

/** Resolves `rigwatch:webview-assets` to the built webview files as strings. */
const webviewAssets = {
  name: 'webview-assets',
  setup(b) {
    b.onResolve({ filter: /^rigwatch:webview-assets$/ }, () => ({ path: 'webview-assets', namespace: 'rigwatch' }));
    // Functions, not constants: V8 creates a string literal only when its function is compiled, so the
    // dashboard text (0.7 MB as a JS string) is on the heap only while it is being served, not for the
    // collector's whole life (its source text stays part of the bundle's, one byte a character).
    b.onLoad({ filter: /.*/, namespace: 'rigwatch' }, () => ({
      contents:
        `export function webviewJs() { return ${JSON.stringify(readFileSync('dist/webview.js', 'utf8'))}; }\n` +
        `export function webviewCss() { return ${JSON.stringify(readFileSync('dist/webview.css', 'utf8'))}; }\n`,
      loader: 'js',
    }));
  },
};

await Promise.all([
  build({
    ...common,
    entryPoints: ['extension/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    external: ['vscode'],
  }),
  build({
    ...common,
    entryPoints: ['collector/main.ts'],
    outfile: 'dist/collector.js',
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    // koffi is a native module: it is resolved at run time (next to the bundle, or from node_modules);
    // the GPU source falls back to nvidia-smi when it cannot be loaded.
    external: ['koffi', 'pg-native'],
    // Minified: a smaller file to copy to remote boxes and ~7 MB less resident memory at run time.
    minify: true,
    keepNames: true,
    banner: { js: '#!/usr/bin/env node' },
    plugins: [webviewAssets],
  }),
]);
chmodSync('dist/collector.js', 0o755);
koffiPrebuilds();

/**
 * koffi's prebuilt native modules that ship next to the collector (dist/koffi/<platform>_<arch>/koffi.node):
 * the remote deploy copies the one for the box's platform, and a packaged local collector loads its own.
 * Taken from the installed @koromix/koffi-* package, else fetched once with `npm pack` (the registry's
 * integrity check applies) into node_modules/.cache. Copied only when the bytes differ.
 */
function koffiPrebuilds() {
  const version = JSON.parse(readFileSync('node_modules/koffi/package.json', 'utf8')).version;
  for (const [pkg, triplet] of [
    ['linux-x64', 'linux_x64'],
    ['linux-arm64', 'linux_arm64'],
    ['win32-x64', 'win32_x64'],
  ]) {
    let src = join('node_modules', '@koromix', `koffi-${pkg}`, triplet, 'koffi.node');
    if (!existsSync(src) || JSON.parse(readFileSync(join('node_modules', '@koromix', `koffi-${pkg}`, 'package.json'), 'utf8')).version !== version) {
      const cache = join('node_modules', '.cache', 'rigwatch-koffi', `${pkg}-${version}`);
      src = join(cache, 'package', triplet, 'koffi.node');
      if (!existsSync(src)) {
        try {
          mkdirSync(cache, { recursive: true });
          const tgz = execFileSync('npm', ['pack', '--silent', `@koromix/koffi-${pkg}@${version}`, '--pack-destination', cache], {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'pipe'],
          })
            .trim()
            .split('\n')
            .pop();
          execFileSync('tar', ['xzf', join(cache, tgz), '-C', cache, `package/${triplet}/koffi.node`]);
        } catch (e) {
          console.warn(`koffi ${pkg} prebuilt not available (${e.message.split('\n')[0]}): remote ${pkg} boxes will use nvidia-smi`);
          continue;
        }
      }
    }
    const out = join('dist', 'koffi', triplet, 'koffi.node');
    const bytes = readFileSync(src);
    if (existsSync(out) && readFileSync(out).equals(bytes)) continue;
    mkdirSync(join('dist', 'koffi', triplet), { recursive: true });
    copyFileSync(src, out);
  }
}
if (watch) console.log('watch mode is not implemented; rerun npm run build');
