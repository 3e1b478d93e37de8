// The built collector bundle (dist/collector.js) as V8 holds it: the script's source text stays on the
// heap for the process's life, one byte a character only if every character is Latin-1 (a single
// U+2014 made it two bytes a character: 2.8 MB instead of 1.4). Build first (`node build.mjs`).

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { COLLECTOR_JS, startCollector, stopAllCollectors } from '../helpers/collector-process';

describe('collector bundle', function () {
  this.timeout(30_000);
  after(stopAllCollectors);

  it('is Latin-1 throughout, so V8 keeps its source one byte a character', () => {
    assert.ok(fs.existsSync(COLLECTOR_JS), `${COLLECTOR_JS} is missing: run "node build.mjs" first`);
    const text = fs.readFileSync(COLLECTOR_JS, 'utf8');
    const lines = text.split('\n');
    const wide = lines.flatMap((l, i) => {
      const m = /[\u0100-\uffff]/.exec(l);
      return m ? [`line ${i + 1}: …${l.slice(Math.max(0, m.index - 40), m.index + 20)}…`] : [];
    });
    assert.deepEqual(wide, [], 'characters above U+00FF (write them as \\u escapes in the source)');
  });

  it('still serves the embedded dashboard, made on demand, byte for byte', async () => {
    const col = await startCollector({ token: null, config: { gpu: false, docker: false } });
    for (const [p, file] of [
      ['/webview.js', 'dist/webview.js'],
      ['/webview.css', 'dist/webview.css'],
    ] as const) {
      const res = await fetch(col.url + p);
      assert.equal(res.status, 200, p);
      assert.equal(await res.text(), fs.readFileSync(file, 'utf8'), `${p} is dist's ${file}`);
    }
  });
});
