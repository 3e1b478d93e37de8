// The logger writes client text as plain text: one message, one line, no terminal control.

import { strict as assert } from 'node:assert';
import { MAX_LOG_MESSAGE_CHARS, createLogger, plainLogText } from '../../collector/log';
import { parseLimits, DEFAULT_LIMITS } from '../../collector/server/limits';

describe('log', () => {
  it('escapes newlines, escape codes, bidi overrides and line separators so a message cannot forge a line', () => {
    const lines: string[] = [];
    const log = createLogger('info', (l) => lines.push(l)).child('server');
    log.info('bad type "x\n2026-01-01T00:00:00.000Z error [server] FORGED\r\u001b[2J\u2028\u202e"');
    assert.equal(lines.length, 1);
    // eslint-disable-next-line no-control-regex -- asserting that no control character is left
    assert.ok(!/[\n\r\u001b\u2028\u202e]/.test(lines[0]!), JSON.stringify(lines[0]));
    assert.match(lines[0]!, /x\\n2026-01-01T00:00:00\.000Z error \[server\] FORGED\\r\\x1b\[2J\\u2028\\u202e/);
  });

  it('caps a message and says how much was cut', () => {
    const s = plainLogText('y'.repeat(MAX_LOG_MESSAGE_CHARS + 500));
    assert.ok(s.startsWith('y'.repeat(MAX_LOG_MESSAGE_CHARS)));
    assert.match(s, /… \(500 more characters\)$/);
    assert.equal(plainLogText('plain text stays as it is'), 'plain text stays as it is');
  });
});

describe('server limits config', () => {
  it('fills defaults, accepts known keys and names a bad one', () => {
    assert.deepEqual(parseLimits({ replyStallMs: 3000 }), { ...DEFAULT_LIMITS, replyStallMs: 3000 });
    assert.deepEqual(parseLimits({ replyStallMs: -1 }), { key: 'limits.replyStallMs', value: -1, expected: 'ms from 100 to 3600000' });
    assert.equal((parseLimits({ nope: 1 }) as { key: string }).key, 'limits.nope');
    assert.equal((parseLimits([]) as { key: string }).key, 'limits');
  });
});
