import { strict as assert } from 'node:assert';
import { ConfigError } from '../../../../collector/config-error';
import { parseModelsConfig } from '../../../../collector/sources/models/config';
import { startFakeModelServer } from '../../../fakes/model-servers/fake-server';
import { harness, signal } from './helpers';

const bad = (raw: unknown, key: string, env: NodeJS.ProcessEnv = {}): void => {
  assert.throws(
    () => parseModelsConfig(raw, env),
    (e: Error) => {
      assert.ok(e instanceof ConfigError, `ConfigError, got ${e.message}`);
      assert.equal(e.key, key);
      return true;
    },
  );
};

describe('models config', () => {
  it('nothing configured: discovery on localhost 11434, 8080, 8000, 8002', () => {
    const c = parseModelsConfig(undefined, {});
    assert.deepEqual(c.endpoints, []);
    assert.deepEqual(
      c.discovery.map((d) => `${d.host}:${d.port}`),
      ['127.0.0.1:11434', '127.0.0.1:8080', '127.0.0.1:8000', '127.0.0.1:8002'],
    );
    assert.equal(c.windowMs, 60_000);
  });

  it('configured endpoints turn discovery off unless asked for', () => {
    const c = parseModelsConfig([{ name: 'llm', url: 'http://127.0.0.1:8000/', kind: 'vllm', timeoutMs: 500 }], {});
    assert.deepEqual(c.discovery, []);
    assert.equal(c.endpoints[0].url, 'http://127.0.0.1:8000');
    assert.equal(c.endpoints[0].timeoutMs, 500);
    const both = parseModelsConfig(
      { endpoints: [{ name: 'a', url: 'http://h:1' }], discovery: { ports: [11434, 'box:8080', '[::1]:8000'] }, windowSeconds: 120 },
      {},
    );
    assert.deepEqual(both.discovery, [
      { host: '127.0.0.1', port: 11434 },
      { host: 'box', port: 8080 },
      { host: '::1', port: 8000 },
    ]);
    assert.equal(both.windowMs, 120_000);
    assert.deepEqual(parseModelsConfig({ modelsDiscovery: { ports: [1234] } }, {}).discovery, [{ host: '127.0.0.1', port: 1234 }]);
    assert.deepEqual(parseModelsConfig({ discovery: false }, {}).discovery, []);
  });

  it('RIGWATCH_MODELS_DISCOVERY overrides the candidates; "off" turns discovery off', () => {
    assert.deepEqual(parseModelsConfig(undefined, { RIGWATCH_MODELS_DISCOVERY: '127.0.0.1:4000, localhost:4001' }).discovery, [
      { host: '127.0.0.1', port: 4000 },
      { host: 'localhost', port: 4001 },
    ]);
    assert.deepEqual(parseModelsConfig(undefined, { RIGWATCH_MODELS_DISCOVERY: 'off' }).discovery, []);
    bad(undefined, 'RIGWATCH_MODELS_DISCOVERY', { RIGWATCH_MODELS_DISCOVERY: 'nope:port' });
  });

  it('bad values name the key', () => {
    bad(
      [
        { name: 'a', url: 'http://h:1' },
        { name: 'b', url: 'ftp://h' },
      ],
      'models[1].url',
    );
    bad([{ name: 'a', url: 'http://h:1', kind: 'tgi' }], 'models[0].kind');
    bad([{ name: 'a b', url: 'http://h:1' }], 'models[0].name');
    bad(
      [
        { name: 'a', url: 'http://h:1' },
        { name: 'a', url: 'http://h:2' },
      ],
      'models[1].name',
    );
    bad([{ name: 'a', url: 'http://h:1', timeoutMs: 0 }], 'models[0].timeoutMs');
    bad([{ name: 'a', url: 'http://h:1', pid: -3 }], 'models[0].pid');
    bad([{ name: 'a', url: 'http://h:1', colour: 'red' }], 'models[0].colour');
    bad({ endpoints: [{ name: 'a' }] }, 'models.endpoints[0].url');
    bad({ discovery: { ports: [70000] } }, 'models.discovery.ports[0]');
    bad({ windowSeconds: 1 }, 'models.windowSeconds');
    bad('yes', 'models');
  });

  it('header values are never echoed in errors', () => {
    assert.throws(
      () => parseModelsConfig([{ name: 'a', url: 'http://h:1', headers: { Authorization: 42 } }], {}),
      (e: Error) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.key, 'models[0].headers.Authorization');
        assert.ok(!e.message.includes('42'));
        return true;
      },
    );
  });

  it('URL credentials become a Basic Authorization header the server receives', async () => {
    let auth: string | undefined;
    const fake = await startFakeModelServer({
      '/api/ps': (req) => {
        auth = req.headers.authorization;
        return { body: '{"models":[]}' };
      },
    });
    try {
      const url = fake.url.replace('http://', 'http://me:pa%40ss@');
      const [src] = harness([{ name: 'o', url, kind: 'ollama' }]).sources();
      await src.sample(signal());
      assert.equal(auth, 'Basic ' + Buffer.from('me:pa@ss').toString('base64'));
      assert.ok(!src.endpoint.url.includes('pa%40ss'));
    } finally {
      await fake.close();
    }
  });
});
