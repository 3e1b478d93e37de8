// Runs the same in-VS Code suite with @vscode/test-electron on machines that can download VS Code
// desktop (not this one: see test/e2e/vscode for the code-server runner used here and in CI).
// Usage: node build.mjs && node -r esbuild-register test/extension/run-electron.ts

import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { bundleSuite } from '../e2e/vscode/run-code-server';
import { fakeGpuEnv } from '../e2e/vscode/fake-gpu-env';
import { REPO_ROOT } from '../e2e/vscode/install';

async function main(): Promise<void> {
  const fake = fakeGpuEnv();
  try {
    const extensionTestsPath = await bundleSuite(path.join(REPO_ROOT, '.vscode-test'));
    const code = await runTests({
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath,
      // Settings cannot be passed as flags; the suite's local collector gets the fake GPU from this env.
      extensionTestsEnv: { ...fake.env, RIGWATCH_TEST_SETTINGS: JSON.stringify(fake.settings) },
      launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
    });
    process.exitCode = code;
  } finally {
    fake.dispose();
  }
}

main().catch((e: Error) => {
  console.error(`run-electron: ${e.message}`);
  process.exit(1);
});
