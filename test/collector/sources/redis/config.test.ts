import { strict as assert } from 'node:assert';
import { ConfigError } from '../../../../collector/config-error';
import { resolveRedisInstances, redisTarget } from '../../../../collector/sources/redis/config';
import { redisFactory } from '../../../../collector/sources/redis';
import { silentLogger } from '../../../../collector/log';

const SECRET = 'sup3r-secret';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a ConfigError');
}

describe('redis config', () => {
  it('takes named instances', () => {
    const got = resolveRedisInstances(
      [
        { name: 'cache', url: `redis://:${SECRET}@127.0.0.1:6379/1` },
        { name: 'queue', url: 'rediss://q:6380' },
      ],
      {},
    );
    assert.deepEqual(
      got.map((i) => [i.name, i.origin, i.autoDetected]),
      [
        ['cache', 'redis[0]', false],
        ['queue', 'redis[1]', false],
      ],
    );
  });

  it('names the bad key and never echoes a password', () => {
    const bad = configError(() => resolveRedisInstances([{ name: 'a', url: `http://:${SECRET}@h:1` }], {}));
    assert.equal(bad.key, 'redis[0].url');
    assert.ok(!bad.message.includes(SECRET), bad.message);
    assert.equal(
      configError(() =>
        resolveRedisInstances(
          [
            { name: 'a', url: 'redis://h' },
            { name: 'a', url: 'redis://i' },
          ],
          {},
        ),
      ).key,
      'redis[1].name',
    );
    assert.equal(configError(() => resolveRedisInstances([{ name: 'a', url: 'redis://h', db: 2 }], {})).key, 'redis[0].db');
    assert.equal(configError(() => resolveRedisInstances([{ name: '', url: 'redis://h' }], {})).key, 'redis[0].name');
    assert.equal(configError(() => resolveRedisInstances(5, {})).key, 'redis');
  });

  it('adds REDIS_URL when it is a redis URL, else auto-detects the local default', () => {
    assert.deepEqual(
      resolveRedisInstances(undefined, { REDIS_URL: 'redis://cache:6379' }).map((i) => [i.name, i.origin]),
      [['default', 'REDIS_URL']],
    );
    assert.deepEqual(
      resolveRedisInstances(undefined, { REDIS_URL: 'memcached://x' }).map((i) => [i.name, i.autoDetected]),
      [['local', true]],
    );
    const auto = resolveRedisInstances([], {});
    assert.equal(auto[0].url, 'redis://127.0.0.1:6379');
    assert.equal(auto[0].origin, 'auto-detected');
  });

  it('creates one source per instance with ids redis.<name>', () => {
    const sources = redisFactory.create({
      config: [
        { name: 'cache', url: 'redis://a' },
        { name: 'queue', url: 'redis://b' },
      ],
      env: {},
      intervalMs: 1000,
      dataDir: '/tmp',
      log: silentLogger,
      latest: () => undefined,
    });
    assert.deepEqual(
      sources.map((s) => [s.id, s.kind]),
      [
        ['redis.cache', 'redis'],
        ['redis.queue', 'redis'],
      ],
    );
    for (const s of sources) void s.close();
  });

  it('describes a target without credentials', () => {
    assert.equal(redisTarget(`redis://:${SECRET}@cache:6380/2`), 'cache:6380/2');
    assert.equal(redisTarget('redis://127.0.0.1'), '127.0.0.1:6379');
  });
});
