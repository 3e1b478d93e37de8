// `rigwatch.runs` reaches the local collector's config as `runs.watch`, after any watches the
// `localCollector.config` object already has, and the collector accepts the result.

import * as assert from 'node:assert/strict';
import { localCollectorConfig } from '../../extension/connection/local-config';
import { parseRunsConfig } from '../../collector/sources/runs/config';

describe('extension local collector config: rigwatch.runs', () => {
  it("appends the setting's watches to runs.watch and keeps the section's other keys", () => {
    const cfg = localCollectorConfig({
      localConfig: { runs: { auto: false, watch: [{ name: 'a', logDir: '/a' }] } },
      alertRules: [],
      alertDisable: [],
      runs: [{ command: 'train\\.py', logDir: '/data/runs' }],
    });
    assert.deepEqual(cfg, {
      runs: {
        auto: false,
        watch: [
          { name: 'a', logDir: '/a' },
          { command: 'train\\.py', logDir: '/data/runs' },
        ],
      },
    });
    const parsed = parseRunsConfig(cfg.runs, {});
    assert.deepEqual(
      parsed.watch.map((w) => [w.name, w.command?.source, w.logDir]),
      [
        ['a', undefined, '/a'],
        [null, 'train\\.py', '/data/runs'],
      ],
    );
  });

  it('leaves a disabled runs source disabled and adds nothing when the setting is empty', () => {
    assert.deepEqual(localCollectorConfig({ localConfig: { runs: false }, alertRules: [], alertDisable: [], runs: [{ command: 'x' }] }), { runs: false });
    assert.deepEqual(localCollectorConfig({ localConfig: {}, alertRules: [], alertDisable: [], runs: [] }), {});
  });
});
