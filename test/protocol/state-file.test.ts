// protocol/state-file.ts: the one parser for collector.json, used by the collector, the extension and
// the SSH launcher (which reads the remote file's text over ssh).

import { strict as assert } from 'node:assert';
import { parseCollectorState, STATE_FILE_NAME } from '../../protocol/state-file';

describe('protocol: state file', () => {
  const full = { pid: 4242, port: 9123, host: '127.0.0.1', url: 'http://127.0.0.1:9123', token: 'abc', version: '0.1.0', startedAt: 1_700_000_000_000 };

  it('is collector.json and round-trips what the collector writes', () => {
    assert.equal(STATE_FILE_NAME, 'collector.json');
    assert.deepEqual(parseCollectorState(JSON.stringify(full, null, 2)), full);
  });

  it('rejects text that is not a collector state', () => {
    for (const text of ['', 'not json', 'null', '[]', '{"pid":"1","port":9123}', '{"pid":0,"port":9123}', '{"pid":1,"port":70000}', '{"pid":1.5,"port":1}']) {
      assert.equal(parseCollectorState(text), undefined, text);
    }
    assert.equal(parseCollectorState(JSON.stringify({ ...full, pad: 'x'.repeat(70_000) })), undefined, 'oversized');
  });

  it('fills fields an older collector may lack (the remote one), with a token of null', () => {
    assert.deepEqual(parseCollectorState('{"pid":7,"port":9000}'), {
      pid: 7,
      port: 9000,
      host: '127.0.0.1',
      url: 'http://127.0.0.1:9000',
      token: null,
      version: '',
      startedAt: 0,
    });
  });
});
