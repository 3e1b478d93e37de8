import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../../../../collector/config-error';
import { containerFilter, parseDockerConfig, resolveEndpoint } from '../../../../collector/sources/docker/config';
import { createEngineClient, DockerApiError, mapConnectError, parseDockerHost } from '../../../../collector/sources/docker/engine-client';
import { dockerFactory } from '../../../../collector/sources/docker';
import { silentLogger } from '../../../../collector/log';
import { SourceError, type SourceContext } from '../../../../collector/source';

const ctx = (config: unknown, env: NodeJS.ProcessEnv = {}): SourceContext => ({
  config,
  env,
  intervalMs: 1000,
  dataDir: os.tmpdir(),
  log: silentLogger,
  latest: () => undefined,
});

describe('docker config and endpoint', () => {
  it('defaults: 5 s stats, every container, default socket', () => {
    const c = parseDockerConfig(undefined);
    assert.deepEqual(c, { socket: undefined, statsIntervalMs: 5000, containers: [] });
    const e = resolveEndpoint(c, {});
    assert.ok('endpoint' in e);
    assert.equal(e.origin, 'default');
    assert.deepEqual(e.endpoint, { kind: 'unix', socketPath: '/var/run/docker.sock', display: 'unix:///var/run/docker.sock' });
  });

  it('config socket wins over DOCKER_HOST, which wins over the default', () => {
    const fromEnv = resolveEndpoint(parseDockerConfig({}), { DOCKER_HOST: 'tcp://10.0.0.5:2375' });
    assert.ok('endpoint' in fromEnv && fromEnv.endpoint.kind === 'tcp' && fromEnv.endpoint.host === '10.0.0.5' && fromEnv.endpoint.port === 2375);
    assert.equal(fromEnv.origin, 'env');
    const fromConfig = resolveEndpoint(parseDockerConfig({ socket: '/run/user/1000/docker.sock' }), { DOCKER_HOST: 'tcp://10.0.0.5:2375' });
    assert.ok('endpoint' in fromConfig && fromConfig.endpoint.kind === 'unix' && fromConfig.endpoint.socketPath === '/run/user/1000/docker.sock');
    assert.equal(fromConfig.origin, 'config');
  });

  it('says why DOCKER_HOST cannot be used (ssh://, TLS)', () => {
    const ssh = resolveEndpoint(parseDockerConfig(undefined), { DOCKER_HOST: 'ssh://me@box' });
    assert.ok('error' in ssh && /ssh:\/\/ is not supported/.test(ssh.error));
    const tls = resolveEndpoint(parseDockerConfig(undefined), { DOCKER_HOST: 'tcp://box:2376', DOCKER_TLS_VERIFY: '1' });
    assert.ok('error' in tls && /needs TLS/.test(tls.error));
  });

  it('rejects bad keys and values with ConfigError naming the key', () => {
    const cases: [unknown, RegExp][] = [
      [{ socket: 'ftp://x' }, /^docker\.socket: expected unix:\/\/ or tcp:\/\//],
      [{ statsIntervalMs: 10 }, /^docker\.statsIntervalMs: expected milliseconds from 1000 to 600000, got 10/],
      [{ containers: 'web' }, /^docker\.containers: expected an array of container name patterns/],
      [{ sockett: '/x' }, /^docker\.sockett: expected no such key/],
      ['yes', /^docker: expected an object/],
    ];
    for (const [raw, re] of cases) {
      assert.throws(
        () => parseDockerConfig(raw),
        (e: unknown) => e instanceof ConfigError && re.test(e.message),
        JSON.stringify(raw),
      );
    }
  });

  it('filters container names by patterns with * and ! exclusions', () => {
    const f = containerFilter(['web*', 'db', '!web-scratch']);
    assert.deepEqual(['web', 'web-1', 'web-scratch', 'db', 'db2', 'cache'].filter(f), ['web', 'web-1', 'db']);
    const onlyExclude = containerFilter(['!tmp-*']);
    assert.deepEqual(['a', 'tmp-1'].filter(onlyExclude), ['a']);
  });

  it('parses docker host forms without keeping credentials', () => {
    assert.deepEqual(parseDockerHost('unix:///var/run/docker.sock'), {
      kind: 'unix',
      socketPath: '/var/run/docker.sock',
      display: 'unix:///var/run/docker.sock',
    });
    assert.deepEqual(parseDockerHost('tcp://127.0.0.1'), { kind: 'tcp', host: '127.0.0.1', port: 2375, display: 'tcp://127.0.0.1:2375' });
    assert.ok('error' in parseDockerHost('tcp://user:secret@host:2375'));
    assert.ok('error' in parseDockerHost('unix://relative'));
  });

  it('maps EACCES to the actionable permission message and ENOENT/ECONNREFUSED to retryable errors', () => {
    const ep = { kind: 'unix' as const, socketPath: '/var/run/docker.sock', display: 'unix:///var/run/docker.sock' };
    const eacces = mapConnectError(Object.assign(new Error('connect EACCES /var/run/docker.sock'), { code: 'EACCES' }), ep);
    assert.equal(eacces.kind, 'permission');
    assert.equal(eacces.message, 'permission denied on /var/run/docker.sock: add your user to the docker group or set DOCKER_HOST');
    const enoent = mapConnectError(Object.assign(new Error('x'), { code: 'ENOENT' }), ep);
    assert.equal(enoent.kind, 'absent');
    assert.equal(enoent.retry, true);
    assert.match(mapConnectError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), ep).message, /connection refused \(is dockerd running\?\)/);
  });

  it('a path nobody listens on is "refused"; a missing one is "absent" (real connects)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-dsock-'));
    try {
      fs.writeFileSync(path.join(dir, 'placeholder'), '');
      const dead = createEngineClient({ kind: 'unix', socketPath: path.join(dir, 'missing.sock'), display: 'unix://x' });
      await assert.rejects(dead.get('/version', { timeoutMs: 2000 }), (e: unknown) => e instanceof DockerApiError && e.kind === 'absent');
      dead.close();
      // A path that is no listening socket (as after a crashed dockerd): connect fails with ECONNREFUSED.
      const file = createEngineClient({ kind: 'unix', socketPath: path.join(dir, 'placeholder'), display: 'unix://y' });
      await assert.rejects(file.get('/version', { timeoutMs: 2000 }), (e: unknown) => e instanceof DockerApiError && e.kind === 'refused');
      file.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('factory: one source "docker"; bad config throws ConfigError; an unusable DOCKER_HOST is unavailable for good', async () => {
    const [src, ...rest] = dockerFactory.create(ctx(undefined, { DOCKER_HOST: 'ssh://me@box' }));
    assert.equal(rest.length, 0);
    assert.equal(src.id, 'docker');
    assert.equal(src.kind, 'docker');
    const r = await src.probe(new AbortController().signal);
    assert.equal(r.status, 'unavailable');
    assert.ok(r.status === 'unavailable' && r.retry === false && /DOCKER_HOST: expected unix:\/\/ or tcp:\/\//.test(r.reason));
    await src.close();
    assert.throws(() => dockerFactory.create(ctx({ statsIntervalMs: 'fast' })), ConfigError);
  });

  it('factory: a configured socket that does not exist makes the probe fail (down, retried), not "no Docker"', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-dnone-'));
    try {
      const [src] = dockerFactory.create(ctx({ socket: path.join(dir, 'docker.sock') }));
      // Configured explicitly: absence is a failure to report (down, retried with backoff); the quiet
      // "unavailable" for the auto-detected default socket is covered in docker-source-unit.test.ts.
      await assert.rejects(
        src.probe(new AbortController().signal),
        (e: unknown) => e instanceof SourceError && e.retry && /no Docker engine socket at .*docker\.sock/.test(e.message),
      );
      await src.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
