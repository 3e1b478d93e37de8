// docs/adding-a-source.md, executed: a toy source (test/fixtures/toy-source/: one folder) registered
// with one line beside the product's sources and one view adapter beside the product's adapters, and
// visible in the collector's samples and statuses and in the Services tree. The dashboard half is in
// test/webview/adapters.test.ts.

import { strict as assert } from 'node:assert';
import { Collector } from '../../collector/collector';
import { createSources } from '../../collector/create-sources';
import { silentLogger } from '../../collector/log';
import { SOURCE_FACTORIES } from '../../collector/sources/index';
import { VIEW_ADAPTERS } from '../../client/views';
import { servicesTree } from '../../extension/views/services-model';
import type { CollectorConfig } from '../../collector/config';
import { toyFactory } from '../fixtures/toy-source/source';
import { toyAdapter } from '../fixtures/toy-source/view-adapter';
import { find, hello } from '../extension-unit/fixtures';
import { MemoryHistory } from '../fakes/test-sources';
import { DEFAULT_LIMITS } from '../../collector/server/limits';

/** The one line: the toy kind after the product's kinds. */
const FACTORIES = [...SOURCE_FACTORIES, toyFactory];
/** The one adapter: the toy's after the product's. */
const ADAPTERS = [...VIEW_ADAPTERS, toyAdapter];

function config(): CollectorConfig {
  // Every product kind off: the test is about the toy, and must not probe this machine.
  const sources: Record<string, unknown> = Object.fromEntries(SOURCE_FACTORIES.map((f) => [f.kind, false]));
  sources.toy = { dice: ['red', 'blue'] };
  return {
    port: 0,
    host: '127.0.0.1',
    intervalMs: 60_000,
    dataDir: '/nonexistent',
    token: undefined,
    logLevel: 'error',
    idleTimeoutMs: 0,
    allowedOrigins: [],
    alerts: undefined,
    logging: { enabled: false },
    sources,
    configFile: undefined,
    limits: { ...DEFAULT_LIMITS },
  };
}

describe('adding a source: the toy source across the stack', () => {
  let c: Collector | undefined;
  afterEach(async () => {
    await c?.stop();
    c = undefined;
  });

  it('is sampled by the collector and shown in the Services tree through its adapter', async () => {
    const sources = createSources(config(), silentLogger, () => c?.latest(), FACTORIES);
    assert.deepEqual(
      sources.map((s) => s.id),
      ['toy.red', 'toy.blue'],
    );
    c = new Collector(sources, 60_000, { log: silentLogger, history: new MemoryHistory() });
    c.start();
    await new Promise((r) => setImmediate(r));
    await c.tick();
    const sample = await c.tick();
    assert.ok(sample);
    assert.equal(sample.series['toy.red.roll_count'], 2);
    const statuses = c.statuses();
    assert.deepEqual(
      statuses.map((s) => [s.id, s.kind, s.state]),
      [
        ['toy.red', 'toy', 'ready'],
        ['toy.blue', 'toy', 'ready'],
      ],
    );

    const h = { ...hello(sample), sources: statuses };
    const [conn] = servicesTree(
      [{ id: 'local', name: 'local', kind: 'local', state: 'live', hello: h, latest: sample, sources: statuses, alerts: [] }],
      ADAPTERS,
    );
    const red = find([conn], (n) => n.label === 'Die red');
    assert.ok(red, 'the toy adapter names the die');
    assert.equal(red.description, 'rolled 2 · 2 rolls');
    assert.equal(red.icon.id, 'symbol-event');
    assert.equal(conn.children!.find((n) => n.children?.includes(red))?.label, 'Other sources');

    // Without the adapter the source still shows (by id, with its description): nothing is hidden.
    const [bare] = servicesTree([{ id: 'local', name: 'local', kind: 'local', state: 'live', hello: h, latest: sample, sources: statuses, alerts: [] }]);
    assert.equal(find([bare], (n) => n.label === 'toy.red')?.description, 'a six-sided die');
  });
});
