// Builds the three programs with esbuild: the extension (cjs, vscode external), the self-contained
// collector (runs with plain node, copied to remote boxes) and the webview bundle.
import { build } from 'esbuild';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

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
    b.onLoad({ filter: /.*/, namespace: 'rigwatch' }, () => ({
      contents: `export const WEBVIEW_JS = ${JSON.stringify(readFileSync('dist/webview.js', 'utf8'))};\n` +
        `export const WEBVIEW_CSS = ${JSON.stringify(readFileSync('dist/webview.css', 'utf8'))};\n`,
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
if (watch) console.log('watch mode is not implemented; rerun npm run build');
