// Entry point VS Code loads with --extensionTestsPath (the @vscode/test-electron layout): runs the Mocha
// suites under suite/ inside the extension host, prints through the console (which the code-server
// runner receives via codeAutomationLog) and writes a results file for the runner.

import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

/** Suite results as written to RIGWATCH_TEST_RESULTS. */
interface Results {
  passed: number;
  failed: number;
  pending: number;
  failures: { title: string; error: string }[];
  extra: Record<string, unknown>;
}

/** Numbers a suite wants to report (benchmarks); written with the results. */
export const extraResults: Record<string, unknown> = {};
(globalThis as { __rigwatchExtra?: Record<string, unknown> }).__rigwatchExtra = extraResults;

/** Applies RIGWATCH_TEST_SETTINGS (JSON of "rigwatch.x": value) when the runner could not write settings.json itself. */
async function applyTestSettings(): Promise<void> {
  const raw = process.env.RIGWATCH_TEST_SETTINGS;
  if (!raw) return;
  // Loaded lazily: only the extension host has the vscode module.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- only the extension host has it
  const vscode = require('vscode') as typeof import('vscode');
  for (const [key, value] of Object.entries(JSON.parse(raw) as Record<string, unknown>)) {
    const i = key.indexOf('.');
    await vscode.workspace.getConfiguration(key.slice(0, i)).update(key.slice(i + 1), value, vscode.ConfigurationTarget.Global);
  }
}

/** Runs the suites; rejects when any test fails (VS Code then exits with code 1). */
export async function run(): Promise<void> {
  await applyTestSettings();
  return runMocha();
}

function runMocha(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec' });
  const dir = path.join(__dirname, 'suite');
  const only = (process.env.RIGWATCH_TEST_SUITES ?? '')
    .split(',')
    .map((s) => s.trim().replace(/\.ts$/, ''))
    .filter(Boolean);
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.test.js'))
    .filter((f) => (only.length ? only.includes(f.replace(/\.js$/, '')) : !f.startsWith('bench-')))
    .sort();
  if (files.length === 0) return Promise.reject(new Error(`no suite files in ${dir} match ${only.join(', ') || '*.test.js'}`));
  for (const f of files) mocha.addFile(path.join(dir, f));
  const results: Results = { passed: 0, failed: 0, pending: 0, failures: [], extra: extraResults };
  const write = (): void => {
    const file = process.env.RIGWATCH_TEST_RESULTS;
    if (file) fs.writeFileSync(file, JSON.stringify(results, null, 2));
  };
  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        write();
        if (failures > 0) reject(new Error(`${failures} test${failures > 1 ? 's' : ''} failed`));
        else resolve();
      });
      runner.on('pass', () => results.passed++);
      runner.on('pending', () => results.pending++);
      runner.on('fail', (test, err: Error) => {
        results.failed++;
        results.failures.push({ title: test.fullTitle(), error: `${err.message}\n${(err.stack ?? '').split('\n').slice(1, 4).join('\n')}` });
      });
    } catch (e) {
      results.failed++;
      results.failures.push({ title: 'loading the suites', error: String((e as Error).stack ?? e) });
      write();
      reject(e);
    }
  });
}
