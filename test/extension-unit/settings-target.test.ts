// "Connect to Collector…" keeps `rigwatch.collectors` in the user settings unless a remote window keeps the
// list in the remote's settings; the setting's scope lets VS Code do that (machine-overridable sent every
// write of a remote window, code-server included, to the Machine settings).

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { collectorsLocation, describeLocation } from '../../extension/settings-target';

const ROOT = path.resolve(__dirname, '..', '..');

interface SettingSchema {
  scope?: string;
}

describe('where "Connect to Collector…" writes rigwatch.collectors', () => {
  it('user settings in a local window, whatever the inspected values', () => {
    assert.equal(collectorsLocation(undefined, undefined), 'user');
    assert.equal(collectorsLocation(undefined, { globalValue: [] }), 'user');
    assert.equal(collectorsLocation(undefined, { globalRemoteValue: [{ name: 'a', url: 'http://a:1' }] }), 'user');
  });

  it("user settings in a remote window without a remote list (code-server's remote name is its host:port)", () => {
    assert.equal(collectorsLocation('ssh-remote', { globalValue: [] }), 'user');
    assert.equal(collectorsLocation('127.0.0.1:8080', {}), 'user');
    assert.equal(collectorsLocation('wsl', undefined), 'user');
  });

  it("the remote's settings in a remote window that keeps its list there", () => {
    assert.equal(collectorsLocation('ssh-remote', { globalRemoteValue: [] }), 'remote');
    assert.equal(describeLocation('remote', 'ssh-remote'), "the remote's settings (ssh-remote)");
    assert.equal(describeLocation('user', 'ssh-remote'), 'your user settings');
  });

  it('the manifest scopes rigwatch.collectors to the window (not machine-overridable, which VS Code routes to Machine settings)', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      contributes: { configuration: { properties: Record<string, SettingSchema> } | { properties: Record<string, SettingSchema> }[] };
    };
    const conf = pkg.contributes.configuration;
    const props = Object.assign({}, ...(Array.isArray(conf) ? conf : [conf]).map((c) => c.properties)) as Record<string, SettingSchema>;
    assert.ok(props['rigwatch.collectors'], 'rigwatch.collectors is contributed');
    assert.equal(props['rigwatch.collectors'].scope ?? 'window', 'window');
    // The local collector's own settings stay overridable per machine (Remote-SSH: the remote's values).
    assert.equal(props['rigwatch.localCollector.config'].scope, 'machine-overridable');
  });
});
