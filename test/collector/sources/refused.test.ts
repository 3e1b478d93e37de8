// The bare TCP look at an auto-detected database's address before its client library is loaded
// (collector/sources/refused.ts, issue 17): only "refused" means absent; anything else goes on to the client.

import { strict as assert } from 'node:assert';
import * as net from 'node:net';
import { connectionRefused, hostPort } from '../../../collector/sources/refused';

describe('connectionRefused (auto-detected PostgreSQL/Redis)', () => {
  it('null when something listens, the error when the port is closed, null when aborted', async () => {
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      assert.equal(await connectionRefused('127.0.0.1', port, 2000, new AbortController().signal), null);
    } finally {
      await new Promise((r) => server.close(r));
    }
    const refused = await connectionRefused('127.0.0.1', port, 2000, new AbortController().signal);
    assert.equal((refused as NodeJS.ErrnoException | null)?.code, 'ECONNREFUSED');
    const ac = new AbortController();
    ac.abort();
    assert.equal(await connectionRefused('127.0.0.1', port, 2000, ac.signal), null);
  });

  it('reads host and default port from the URL', () => {
    assert.deepEqual(hostPort('postgres://me@127.0.0.1:5432/postgres', 5432), { host: '127.0.0.1', port: 5432 });
    assert.deepEqual(hostPort('redis://127.0.0.1', 6379), { host: '127.0.0.1', port: 6379 });
    assert.deepEqual(hostPort('redis://[::1]:7000', 6379), { host: '::1', port: 7000 });
    assert.equal(hostPort('not a url', 1), null);
  });
});
