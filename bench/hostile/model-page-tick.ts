// Benchmark (prints, never asserts): tick time of the real collector reading a hostile vLLM page of
// 8,000 `model_name` values on a discovered port, against the same collector reading a normal page
// (one model) in the same run. Tick time is the collector's own `collector.tick_duration_seconds`
// (and the models source's sample duration), median and max over the window after the endpoint is up.
// Target (issue 17): the hostile tick within 2× the normal one.
// Needs dist/collector.js (`node build.mjs`). Run: node -r esbuild-register bench/hostile/model-page-tick.ts
// (BENCH_SAMPLES=N for more or fewer ticks per case, default 20).

import type { SampleMessage, ServerMessage } from '../../protocol';
import { seriesName } from '../../protocol/series';
import { startCollector } from '../../test/helpers/collector-process';
import { startFakeModelServer } from '../../test/fakes/model-servers/fake-server';
import { manyModelsVllmPage } from '../../test/fakes/model-servers/many-models';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 20);
const isSample = (m: ServerMessage): m is SampleMessage => m.type === 'sample';

interface Result {
  tickMs: number[];
  sourceMs: number[];
  pageBytes: number;
}

async function run(models: number): Promise<Result> {
  const body = manyModelsVllmPage(models);
  const fake = await startFakeModelServer({ '/metrics': { body }, '/version': { body: '{"version":"0.6.1"}' } });
  const c = await startCollector({
    config: { gpu: false, docker: false, postgres: false, redis: false },
    env: { RIGWATCH_MODELS_DISCOVERY: `127.0.0.1:${fake.port}` },
    interval: 1,
  });
  try {
    const ws = await c.ws();
    const id = `models.localhost_${fake.port}`;
    const up = `${id}.up_state`;
    const dur = seriesName('collector', id, 'sample_duration_seconds');
    const tickMs: number[] = [];
    const sourceMs: number[] = [];
    // Skip the first sample with the endpoint up (its detection read the page just before).
    await ws.waitFor<SampleMessage>((m) => isSample(m) && m.series[up] === 1, 120_000, 'the endpoint up');
    while (tickMs.length < SAMPLES) {
      const s = await ws.waitFor<SampleMessage>(isSample, 30_000, 'a sample');
      ws.messages.length = 0;
      const t = s.series['collector.tick_duration_seconds'];
      if (typeof t === 'number') tickMs.push(t * 1000);
      const d = s.series[dur];
      if (typeof d === 'number') sourceMs.push(d * 1000);
    }
    return { tickMs, sourceMs, pageBytes: body.length };
  } finally {
    await c.stop();
    await fake.close();
  }
}

const median = (a: number[]): number => {
  const s = a.slice().sort((x, y) => x - y);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
};
const max = (a: number[]): number => Math.max(...a);

async function main(): Promise<void> {
  const normal = await run(1);
  const hostile = await run(8000);
  const line = (label: string, r: Result): string =>
    `${label}: page ${(r.pageBytes / 1024).toFixed(0)} KB; tick median ${median(r.tickMs).toFixed(1)} ms, max ${max(r.tickMs).toFixed(1)} ms; models sample median ${median(r.sourceMs).toFixed(1)} ms (${r.tickMs.length} ticks)`;
  console.log(line('normal page (1 model)    ', normal));
  console.log(line('hostile page (8000 models)', hostile));
  console.log(
    `ratio hostile / normal tick: median ${(median(hostile.tickMs) / median(normal.tickMs)).toFixed(2)}×, max ${(max(hostile.tickMs) / max(normal.tickMs)).toFixed(2)}× (target ≤ 2×)`,
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
