// Runs the in-VS Code suite (test/extension/) in code-server's real extension host through Playwright and
// Chromium, against a real collector fed by the fake NVML. The first run installs Node 24 and
// code-server into .vscode-test/ (a few minutes); later runs reuse the cache (~1 min).

import { strict as assert } from 'node:assert';
import { fakeGpuEnv } from './fake-gpu-env';
import { runInCodeServer } from './run-code-server';

describe('VS Code extension inside code-server', function () {
  // First run installs Node 24 + code-server (≈2 min here); the suite itself takes about a minute.
  this.timeout(20 * 60_000);

  it('passes the in-VS Code suite (status bar, trees, alerts, reconnect, commands, panel)', async () => {
    const fake = fakeGpuEnv();
    try {
      const r = await runInCodeServer({
        env: fake.env,
        settings: fake.settings,
        log: (l) => console.log(`    [vscode] ${l}`),
        echo: !!process.env.RIGWATCH_E2E_VERBOSE,
      });
      const summary = `${r.passed} passed, ${r.failed} failed`;
      console.log(`    [vscode] suite: ${summary}`);
      for (const [k, v] of Object.entries(r.results?.extra ?? {})) console.log(`    [vscode] ${k} = ${JSON.stringify(v)}`);
      assert.ok(r.passed > 0, `the suite ran no tests; output:\n${r.output}`);
      assert.equal(r.failed, 0, `${summary}:\n${r.failures.map((f) => `- ${f.title}: ${f.error}`).join('\n')}\n--- suite output ---\n${r.output.slice(-6000)}`);
      assert.equal(r.exitCode, 0, `the suite reported exit code ${r.exitCode}`);
    } finally {
      fake.dispose();
    }
  });
});
