import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  histogramsOf,
  parsePrometheusText,
  parsePrometheusTextAsync,
  samplesOf,
  sumByLabel,
  sumHistograms,
  sumWhere,
} from '../../../collector/prometheus-text';

const FIX = join(__dirname, '..', '..', 'fixtures');
const read = (p: string): string => readFileSync(join(FIX, p), 'utf8');

describe('prometheus-text parser', () => {
  describe('the exposition-format documentation example', () => {
    const page = parsePrometheusText(read('prometheus-text/exposition-format-docs-example.txt'));

    it('reads every sample and reports no issues', () => {
      assert.deepEqual(page.issues, []);
      assert.equal(page.sampleCount, 24);
    });

    it('keeps HELP, TYPE, labels and timestamps of a counter', () => {
      const f = page.families.get('http_requests_total');
      assert.ok(f);
      assert.equal(f.type, 'counter');
      assert.equal(f.help, 'The total number of HTTP requests.');
      assert.deepEqual(f.samples[1], { name: 'http_requests_total', labels: { method: 'post', code: '400' }, value: 3, timestampMs: 1395066363000 });
    });

    it('unescapes \\\\, \\" and \\n in label values', () => {
      const [s] = samplesOf(page, 'msdos_file_access_time_seconds');
      assert.equal(s.labels.path, 'C:\\DIR\\FILE.TXT');
      assert.equal(s.labels.error, 'Cannot find file:\n"FILE.TXT"');
      assert.equal(s.value, 1.458255915e9);
    });

    it('reads +Inf, -Inf, NaN and negative timestamps', () => {
      const [w] = samplesOf(page, 'something_weird');
      assert.equal(w.value, Infinity);
      assert.equal(w.timestampMs, -3982045);
      assert.ok(Number.isNaN(samplesOf(page, 'go_gc_duration_seconds')[0].value));
      assert.equal(samplesOf(page, 'help_with_escapes')[0].value, -Infinity);
    });

    it('groups histogram lines into one family and tolerates an exemplar', () => {
      const f = page.families.get('http_request_duration_seconds');
      assert.ok(f);
      assert.equal(f.type, 'histogram');
      assert.equal(f.samples.length, 8);
      const [h] = histogramsOf(page, 'http_request_duration_seconds');
      assert.deepEqual(
        h.buckets.map((b) => [b.le, b.count]),
        [
          [0.05, 24054],
          [0.1, 33444],
          [0.2, 100392],
          [0.5, 129389],
          [1, 133988],
          [Infinity, 144320],
        ],
      );
      assert.equal(h.sum, 53423);
      assert.equal(h.count, 144320);
    });

    it('groups summary quantiles with _sum and _count', () => {
      const f = page.families.get('rpc_duration_seconds');
      assert.ok(f);
      assert.equal(f.type, 'summary');
      assert.equal(f.samples.length, 7);
      assert.equal(sumWhere(page, 'rpc_duration_seconds', { quantile: '0.99' }), 76656);
      assert.equal(sumWhere(page, 'rpc_duration_seconds', {}, 'rpc_duration_seconds_count'), 2693);
    });

    it('unescapes HELP text and accepts a trailing comma in labels', () => {
      assert.equal(page.families.get('help_with_escapes')?.help, 'Line one\nstill \\ help');
      assert.deepEqual(samplesOf(page, 'help_with_escapes')[0].labels, { a: 'x', b: 'y' });
    });
  });

  describe('model-server pages', () => {
    for (const [file, families, samples] of [
      // [file, # TYPE lines, sample lines] counted with grep on the fixture.
      ['models/vllm-0.5-metrics.txt', 29, 123],
      ['models/vllm-0.6-metrics.txt', 28, 144],
      ['models/vllm-0.10-metrics.txt', 26, 136],
      ['models/llamacpp-b3600-metrics.txt', 12, 12],
      ['models/triton-2.41-metrics.txt', 19, 29],
    ] as const) {
      it(`reads ${file} without issues`, () => {
        const page = parsePrometheusText(read(file));
        assert.deepEqual(page.issues, []);
        assert.equal(page.families.size, families);
        assert.equal(page.sampleCount, samples);
        for (const f of page.families.values()) assert.ok(f.samples.length > 0, `${f.name} has samples`);
      });
    }

    it('reads a vLLM 0.6 histogram per model_name with le last in the label set', () => {
      const page = parsePrometheusText(read('models/vllm-0.6-metrics.txt'));
      const [h] = histogramsOf(page, 'vllm:e2e_request_latency_seconds', { model_name: 'meta-llama/Llama-3.1-8B-Instruct' });
      assert.equal(h.buckets.length, 16);
      assert.equal(h.buckets[2].le, 0.8);
      assert.equal(h.buckets[2].count, 22);
      assert.equal(h.count, 318);
      assert.equal(h.sum, 612.6);
      assert.equal(page.families.get('vllm:prompt_tokens_total')?.type, 'counter');
      assert.equal(sumWhere(page, 'vllm:gpu_cache_usage_perc'), 0.4213);
    });

    it('sums histograms with the same bounds and refuses different bounds', () => {
      const page = parsePrometheusText(read('models/vllm-0.6-metrics.txt'));
      const [h] = histogramsOf(page, 'vllm:e2e_request_latency_seconds');
      const twice = sumHistograms([h, h]);
      assert.equal(twice?.count, 636);
      assert.equal(twice?.buckets[3].count, 116);
      const [ttft] = histogramsOf(page, 'vllm:time_to_first_token_seconds');
      assert.equal(sumHistograms([h, ttft]), null);
    });
  });

  it('reads decimals exactly as Number() does (fast path and slow path agree)', () => {
    // Deterministic pseudo-random decimals of every length the fast path takes, and past it.
    let seed = 42;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const values: string[] = ['0', '-0', '0.0', '1.0', '123456789012345', '1234567890123456789', '0.1', '-3.25', '1e3', '1.5E-7', '.5', '5.'];
    for (let i = 0; i < 2000; i++) {
      const int = String(Math.floor(rnd() * 10 ** Math.floor(rnd() * 12)));
      const frac = String(Math.floor(rnd() * 10 ** Math.floor(rnd() * 12)));
      values.push(`${rnd() < 0.2 ? '-' : ''}${int}${rnd() < 0.8 ? '.' + frac : ''}`);
    }
    const page = parsePrometheusText(values.map((v, i) => `m{i="${i}"} ${v}`).join('\n'), { maxLabelSetsPerMetric: 10_000 });
    assert.equal(page.issueCount, 0);
    const got = samplesOf(page, 'm').map((x) => x.value);
    values.forEach((v, i) => assert.ok(Object.is(got[i], Number(v)), `${v}: ${got[i]} vs ${Number(v)}`));
  });

  describe('bad input', () => {
    it('records unreadable lines with their numbers and keeps the good ones', () => {
      const page = parsePrometheusText('ok_metric 1\n{bad} 2\nmissing_value\nbad_label{a=1} 3\nbad_value x\nok_two{a="b"} 4\nunterminated{a="b 5\n');
      assert.equal(page.sampleCount, 2);
      assert.deepEqual(
        page.issues.map((i) => i.line),
        [2, 3, 4, 5, 7],
      );
      assert.match(page.issues[2].message, /expected " to open the value of label a/);
      assert.match(page.issues[3].message, /bad value "x"/);
    });

    it('turns an HTML page into issues, not samples', () => {
      const page = parsePrometheusText('<!DOCTYPE html>\n<html><body>Not Found</body></html>\n');
      assert.equal(page.sampleCount, 0);
      assert.equal(page.issueCount, 2);
    });

    it('accepts CRLF line ends and an OpenMetrics # EOF', () => {
      const page = parsePrometheusText('# TYPE a gauge\r\na 1\r\n# EOF\r\n');
      assert.equal(page.sampleCount, 1);
      assert.equal(samplesOf(page, 'a')[0].value, 1);
    });
  });
});

describe('prometheus-text bounds (issue 17)', () => {
  it('keeps the first label sets of a family up to the cap and reports what it dropped', () => {
    const lines: string[] = ['# TYPE h histogram'];
    for (let i = 0; i < 5; i++) lines.push(`h_bucket{m="${i}",le="1"} 1`, `h_bucket{m="${i}",le="+Inf"} 2`, `h_count{m="${i}"} 2`);
    lines.push('g 1', 'g 2');
    const page = parsePrometheusText(lines.join('\n'), { maxLabelSetsPerMetric: 3 });
    assert.deepEqual(page.truncated, [{ family: 'h', kept: 3, dropped: 2 }]);
    // `le` does not make a new label set: every bucket of the three kept models stays.
    assert.equal(page.families.get('h')?.samples.length, 9);
    assert.equal(page.families.get('g')?.samples.length, 2, 'samples without labels are not capped');
  });

  it('groups a many-model page in one pass and parses it in slices that a signal can stop', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 50_000; i++) lines.push(`x{model="m${i % 2000}"} 1`);
    const text = lines.join('\n');
    const page = await parsePrometheusTextAsync(text, { maxLabelSetsPerMetric: 5000 });
    assert.equal(page.sampleCount, 50_000);
    const sums = sumByLabel(page, 'x', 'model');
    assert.equal(sums.size, 2000);
    assert.equal(sums.get('m7'), 25);
    const ac = new AbortController();
    const p = parsePrometheusTextAsync(text, { signal: ac.signal });
    ac.abort(new Error('sample timed out'));
    await assert.rejects(p, /sample timed out/);
  });
});
