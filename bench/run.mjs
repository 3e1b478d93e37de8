// Runs every benchmark under bench/ one after another and prints their numbers (nothing is asserted).
// Usage: npm run bench [-- name-filter]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const filter = process.argv[2] ?? '';
const files = [];
for (const dir of readdirSync('bench')) {
  const d = join('bench', dir);
  if (!statSync(d).isDirectory() || dir === 'out') continue;
  for (const f of readdirSync(d)) {
    // Files with a leading underscore or ending in -clients/-worker are helpers, not benchmarks.
    if (/\.ts$/.test(f) && !/^_|-(clients|worker|child)\.ts$/.test(f) && join(d, f).includes(filter)) files.push(join(d, f));
  }
}
let failed = 0;
for (const f of files.sort()) {
  console.log(`\n=== ${f}`);
  const r = spawnSync(process.execPath, ['-r', 'esbuild-register', f], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
