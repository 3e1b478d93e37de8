// A hostile vLLM page: the real 0.6 page with one model's lines repeated for `n` model names, the
// way a vLLM serving many models (or anything squatting on a discovered port) would print it.

import { fixture } from './fake-server';

/** The per-model gauges and counters of the 0.6 page (no histograms: they keep the page under the body cap). */
export const SCALAR_FAMILIES = [
  'vllm:num_requests_running',
  'vllm:num_requests_swapped',
  'vllm:num_requests_waiting',
  'vllm:gpu_cache_usage_perc',
  'vllm:cpu_cache_usage_perc',
  'vllm:num_preemptions_total',
  'vllm:prompt_tokens_total',
  'vllm:generation_tokens_total',
];

/** Builds a vLLM 0.6 page with `n` models named `prefix0…`, each with the lines of `families`. */
export function manyModelsVllmPage(n: number, opts: { families?: string[]; prefix?: string } = {}): string {
  const families = opts.families ?? SCALAR_FAMILIES;
  const prefix = opts.prefix ?? 'org/model-';
  const page = fixture('vllm-0.6-metrics.txt');
  const lines = page.split('\n');
  const ONE = 'model_name="meta-llama/Llama-3.1-8B-Instruct"';
  // Everything without a model label stays as it is (process_*, cache_config_info…).
  const out: string[] = lines.filter((l) => l.startsWith('process_') || l.startsWith('python_') || l.includes('cache_config_info'));
  for (const family of families) {
    const head = lines.filter((l) => l.startsWith(`# HELP ${family} `) || l.startsWith(`# TYPE ${family} `));
    const mine = lines.filter((l) => !l.startsWith('#') && (l.startsWith(family + '{') || l.startsWith(family + '_')) && l.includes(ONE));
    if (mine.length === 0) throw new Error(`manyModelsVllmPage: no ${family} lines in the fixture`);
    out.push(...head);
    for (let i = 0; i < n; i++) {
      const name = `model_name="${prefix}${i}"`;
      for (const l of mine) out.push(l.replace(ONE, name));
    }
  }
  return out.join('\n') + '\n';
}
