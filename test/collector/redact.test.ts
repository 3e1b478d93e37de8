import { strict as assert } from 'node:assert';
import { redactSecrets, redactUrl, urlPassword } from '../../collector/redact';

describe('redact', () => {
  it('masks the password of connection URLs and keeps the rest', () => {
    assert.equal(redactUrl('postgres://app:s3cr%40t@db.local:5433/prod?sslmode=require'), 'postgres://app:***@db.local:5433/prod?sslmode=require');
    assert.equal(redactUrl('redis://:hunter2@127.0.0.1:6379/2'), 'redis://:***@127.0.0.1:6379/2');
    assert.equal(redactUrl('rediss://default:pw@cache:6380'), 'rediss://default:***@cache:6380');
    assert.equal(redactUrl('postgres://app@db/prod'), 'postgres://app@db/prod', 'nothing to hide → unchanged');
  });

  it('masks credential query parameters', () => {
    const out = redactUrl('postgresql://db/prod?user=app&password=topsecret&application_name=x');
    assert.ok(!out.includes('topsecret'), out);
    assert.ok(out.includes('user=app'), out);
    assert.ok(out.includes('application_name=x'), out);
  });

  it('masks passwords containing @, : and / unencoded', () => {
    assert.equal(redactUrl('postgres://u:p@ss:w/rd@host:5432/db'), 'postgres://u:***@host:5432/db');
    assert.equal(redactUrl('postgres://u:1/x@host/db'), 'postgres://u:***@host/db');
    assert.equal(redactSecrets('failed: redis://:a@b@h:1 down', []), 'failed: redis://:***@h:1 down');
  });

  it('handles text that is not a URL without throwing', () => {
    assert.equal(redactUrl('not a url'), 'not a url');
    assert.equal(redactUrl('host=db password=abc user=x'), 'host=db password=*** user=x');
  });

  it('removes given secrets (raw and URL-encoded) and URL passwords from any text', () => {
    const pw = 'p@ss word/1';
    const text = `connect failed for postgres://app:${encodeURIComponent(pw)}@db/x: password "${pw}" rejected; redis://:other@h:1`;
    const out = redactSecrets(text, [pw, null, '']);
    assert.ok(!out.includes(pw), out);
    assert.ok(!out.includes(encodeURIComponent(pw)), out);
    assert.ok(!out.includes('other'), out);
    assert.ok(out.includes('connect failed'), out);
  });

  it('extracts the password of a URL so errors can be scrubbed of it', () => {
    assert.equal(urlPassword('postgres://u:a%2Fb@h/d'), 'a/b');
    assert.equal(urlPassword('redis://:x@h:1'), 'x');
    assert.equal(urlPassword('postgres://h/d?password=q'), 'q');
    assert.equal(urlPassword('postgres://u@h/d'), null);
    assert.equal(urlPassword('postgres://u:1/x@host/db'), '1/x');
  });
});
