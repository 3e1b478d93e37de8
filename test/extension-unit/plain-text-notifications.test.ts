// Untrusted text stays plain text (issue 17): a model server's error body carrying a VS Code command
// link travels the real path — HTTP answer → source error → source-down alert → notification — and
// reaches the VS Code API inert. Also the trees and quick picks see one capped line.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { plainText } from '../../protocol/plain-text';
import type { AlertEvent, SourceStatus } from '../../protocol';
import { parseAlertsConfig } from '../../collector/alerts/rules';
import { RuleAlertEngine } from '../../collector/alerts/engine';
import { silentLogger } from '../../collector/log';
import { httpGet, requireOk } from '../../collector/sources/models/http';
import { SourceError } from '../../collector/source';
import { NotificationPolicy, muteFailureText, notificationText } from '../../extension/notification-policy';
import { escapeMarkdown } from '../../extension/format';
import { startFakeModelServer } from '../fakes/model-servers/fake-server';

/** How VS Code finds links in a notification message (src/vs/base/common/linkedText.ts). */
// eslint-disable-next-line no-useless-escape -- copied verbatim from VS Code's link regex
const VSCODE_LINK = /\[([^\]]+)\]\(((?:https?:\/\/|command:|file:)[^\)\s]+)(?: (["'])(.+?)(\3))?\)/gi;
const links = (text: string): string[] => [...text.matchAll(VSCODE_LINK)].map((m) => m[2]);
const EVIL = '[Fix now](command:workbench.action.terminal.new)';

describe('untrusted text is plain text', () => {
  it('a model server error body with a command link reaches the notification inert', async () => {
    const fake = await startFakeModelServer({ '/metrics': { status: 500, body: `${EVIL}\n\u001b[31mred\u001b[0m \u202eevil` } });
    let reason: string;
    try {
      const a = await httpGet(`${fake.url}/metrics`, { timeoutMs: 2000 });
      try {
        requireOk(a);
        throw new Error('requireOk accepted a 500');
      } catch (e) {
        assert.ok(e instanceof SourceError);
        reason = e.message;
      }
    } finally {
      await fake.close();
    }
    assert.ok(links(reason).length > 0, `the source error quotes the link as the server sent it: ${reason}`);

    // The real alert engine with the default rules: the source is down for longer than `for: 30s`.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-plain-'));
    const engine = new RuleAlertEngine(parseAlertsConfig(undefined).rules, 100, path.join(dir, 'alerts.json'), silentLogger);
    const status: SourceStatus[] = [{ id: 'models.llm', kind: 'models', state: 'down', reason }];
    const events: AlertEvent[] = [];
    for (let t = 1_000_000; t <= 1_000_000 + 40_000; t += 1000) events.push(...engine.evaluate(t, {}, status));
    fs.rmSync(dir, { recursive: true, force: true });
    const firing = events.find((e) => e.transition === 'firing' && e.alert.ruleId === 'source-down');
    assert.ok(firing, `a source-down alert fires: ${JSON.stringify(events.map((e) => e.transition))}`);

    const [req] = new NotificationPolicy().decide('local', '', [firing], { enabled: true, minSeverity: 'warning' });
    const text = notificationText(req);
    assert.deepEqual(links(text), [], `no link VS Code would render in: ${text}`);
    assert.ok(text.includes('Fix now') && text.includes('command:workbench.action.terminal.new'), 'the text itself is still shown');
    // eslint-disable-next-line no-control-regex -- asserting that no control character is left
    assert.ok(!/[\u0000-\u001f\u007f\u202e]/.test(text), 'no control or bidi characters');
    assert.deepEqual(links(muteFailureText(`no alert ${EVIL}`)), []);
    // With several connections the name is appended: user text, made plain as well.
    const [req2] = new NotificationPolicy().decide('b', `box ${EVIL}`, [firing], { enabled: true, minSeverity: 'warning' });
    assert.deepEqual(links(notificationText(req2)), []);
  });

  it('plainText makes one capped line and breaks link and icon syntax', () => {
    assert.equal(plainText('a\nb\tc\u0000d  e'), 'a b c d e');
    assert.equal(plainText(EVIL), '[Fix now] (command:workbench.action.terminal.new)');
    assert.equal(plainText('[x]  \n (https://evil)'), '[x] (https://evil)');
    assert.equal(plainText('$(zap) hot'), '$ (zap) hot');
    assert.equal(plainText('x'.repeat(600)).length, 500);
    assert.ok(plainText('x'.repeat(600)).endsWith('…'));
    assert.equal(plainText('ab😀cd', 4), 'ab…', 'a surrogate pair is not split');
    assert.equal(plainText('\u200bhidden\u2066text\u2069'), 'hidden text');
  });

  it('escapes Markdown tooltips field by field, one line each', () => {
    const md = escapeMarkdown(`${EVIL}\n# heading <img src=x>`);
    assert.ok(!md.includes('\n'));
    assert.deepEqual(links(md), []);
    assert.match(md, /\\\[Fix now\\\] \\\(command\\:workbench/);
    assert.match(md, /\\# heading \\<img/);
  });
});
