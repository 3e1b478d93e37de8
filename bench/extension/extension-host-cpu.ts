// Benchmark: activation → first status-bar text with a local collector (fake GPU), and the extension
// host's CPU over 60 s with the status bar and trees live at 1 Hz, against an idle baseline measured in
// the same code-server run. Prints numbers; asserts nothing. Target: Rigwatch adds < 1 % of a core.
// Usage: node build.mjs && node -r esbuild-register bench/extension/extension-host-cpu.ts
// (RIGWATCH_BENCH_WINDOW_S=20 for a quicker, noisier run)

import { fakeGpuEnv } from '../../test/e2e/vscode/fake-gpu-env';
import { runInCodeServer } from '../../test/e2e/vscode/run-code-server';

async function main(): Promise<void> {
  const fake = fakeGpuEnv(1);
  try {
    const r = await runInCodeServer({
      suites: ['bench-cpu.test'],
      env: { ...fake.env, ...(process.env.RIGWATCH_BENCH_WINDOW_S ? { RIGWATCH_BENCH_WINDOW_S: process.env.RIGWATCH_BENCH_WINDOW_S } : {}) },
      settings: { ...fake.settings, 'rigwatch.interval': 1 },
      log: (l) => console.log(`[vscode] ${l}`),
      timeoutMs: 15 * 60_000,
    });
    if (r.failed > 0 || !r.results?.extra) {
      console.error(`benchmark suite failed: ${r.failures.map((f) => `${f.title}: ${f.error}`).join('\n')}\n${r.output.slice(-3000)}`);
      process.exitCode = 1;
      return;
    }
    const x = r.results.extra;
    console.log('extension (code-server extension host, 2-core VM, interval 1 s, 2 fake GPUs)');
    console.log(`  activation → first status-bar text:   ${x.activation_to_first_status_ms} ms`);
    console.log(`  ext host CPU, Rigwatch disconnected:  ${x.idle_ext_host_cpu_percent_of_core} % of a core`);
    console.log(`  ext host CPU, live at 1 Hz:           ${x.live_ext_host_cpu_percent_of_core} % of a core`);
    console.log(`  added by Rigwatch:                    ${x.rigwatch_added_cpu_percent_of_core} % of a core (target < 1 %)`);
    console.log(`  live/idle ratio:                      ${x.live_to_idle_ratio}×`);
    console.log(`  status-bar updates/s: ${x.status_bar_updates_per_second}, tree refreshes/s: ${x.tree_refreshes_per_second}, window ${x.window_seconds} s`);
  } finally {
    fake.dispose();
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
