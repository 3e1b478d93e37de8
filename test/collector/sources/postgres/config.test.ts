import { strict as assert } from 'node:assert';
import { ConfigError } from '../../../../collector/config-error';
import { resolvePostgresInstances, postgresTarget } from '../../../../collector/sources/postgres/config';
import { postgresFactory } from '../../../../collector/sources/postgres';
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

describe('postgres config', () => {
  it('takes named instances with their options', () => {
    const got = resolvePostgresInstances(
      [
        { name: 'main', url: `postgres://app:${SECRET}@db:5432/app`, showQueryText: true, statementTimeoutMs: 1500 },
        { name: 'analytics', url: 'postgresql://127.0.0.1/warehouse', database: 'warehouse' },
      ],
      {},
    );
    assert.deepEqual(
      got.map((i) => [i.name, i.origin, i.database, i.showQueryText, i.statementTimeoutMs, i.autoDetected]),
      [
        ['main', 'postgres[0]', null, true, 1500, false],
        ['analytics', 'postgres[1]', 'warehouse', false, null, false],
      ],
    );
  });

  it('names the bad key and never echoes a password', () => {
    const bad = configError(() =>
      resolvePostgresInstances(
        [
          { name: 'a', url: 'postgres://x@h/d' },
          { name: 'b', url: `mysql://root:${SECRET}@h/d` },
        ],
        {},
      ),
    );
    assert.equal(bad.key, 'postgres[1].url');
    assert.ok(!bad.message.includes(SECRET), bad.message);
    assert.match(bad.message, /postgres:\/\//);
    assert.equal(configError(() => resolvePostgresInstances([{ url: 'postgres://h/d' }], {})).key, 'postgres[0].name');
    assert.equal(configError(() => resolvePostgresInstances([{ name: 'a b', url: 'postgres://h/d' }], {})).key, 'postgres[0].name');
    assert.equal(
      configError(() =>
        resolvePostgresInstances(
          [
            { name: 'a', url: 'postgres://h/d' },
            { name: 'a', url: 'postgres://h/e' },
          ],
          {},
        ),
      ).key,
      'postgres[1].name',
    );
    assert.equal(
      configError(() => resolvePostgresInstances([{ name: 'a', url: 'postgres://h/d', showQueryText: 'yes' }], {})).key,
      'postgres[0].showQueryText',
    );
    assert.equal(
      configError(() => resolvePostgresInstances([{ name: 'a', url: 'postgres://h/d', statementTimeoutMs: -5 }], {})).key,
      'postgres[0].statementTimeoutMs',
    );
    assert.equal(configError(() => resolvePostgresInstances([{ name: 'a', url: 'postgres://h/d', database: '' }], {})).key, 'postgres[0].database');
    assert.equal(configError(() => resolvePostgresInstances([{ name: 'a', url: 'postgres://h/d', showQuerytext: true }], {})).key, 'postgres[0].showQuerytext');
    assert.equal(configError(() => resolvePostgresInstances('postgres://h/d', {})).key, 'postgres');
    assert.equal(configError(() => resolvePostgresInstances([42], {})).key, 'postgres[0]');
  });

  it('adds DATABASE_URL when it is a postgres URL, and ignores other schemes', () => {
    const env = resolvePostgresInstances(undefined, { DATABASE_URL: `postgres://u:${SECRET}@db/app` });
    assert.deepEqual(
      env.map((i) => [i.name, i.origin, i.autoDetected]),
      [['default', 'DATABASE_URL', false]],
    );
    const both = resolvePostgresInstances([{ name: 'main', url: 'postgres://a/b' }], { DATABASE_URL: 'postgres://c/d' });
    assert.deepEqual(
      both.map((i) => i.name),
      ['main', 'default'],
    );
    const dup = resolvePostgresInstances([{ name: 'main', url: 'postgres://a/b' }], { DATABASE_URL: 'postgres://a/b' });
    assert.deepEqual(
      dup.map((i) => i.name),
      ['main'],
      'the same URL is not watched twice',
    );
    const mysql = resolvePostgresInstances(undefined, { DATABASE_URL: 'mysql://u@h/d' });
    assert.deepEqual(
      mysql.map((i) => [i.name, i.autoDetected]),
      [['local', true]],
      "another app's non-postgres DATABASE_URL is ignored",
    );
  });

  it('auto-detects the default local instance when nothing is configured', () => {
    for (const cfg of [undefined, null, true, []]) {
      const got = resolvePostgresInstances(cfg, { PGUSER: 'me' });
      assert.equal(got.length, 1);
      assert.equal(got[0].name, 'local');
      assert.equal(got[0].autoDetected, true);
      assert.equal(got[0].url, 'postgres://me@127.0.0.1:5432/postgres');
    }
  });

  it('creates one source per instance with ids postgres.<name>', () => {
    const sources = postgresFactory.create({
      config: [
        { name: 'main', url: 'postgres://a/b' },
        { name: 'etl', url: 'postgres://c/d' },
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
        ['postgres.main', 'postgres'],
        ['postgres.etl', 'postgres'],
      ],
    );
    for (const s of sources) void s.close();
  });

  it('describes a target without credentials', () => {
    assert.equal(postgresTarget(`postgres://u:${SECRET}@db.internal:6543/app`), 'db.internal:6543/app');
    assert.equal(postgresTarget('postgres://127.0.0.1/x'), '127.0.0.1:5432/x');
  });
});
