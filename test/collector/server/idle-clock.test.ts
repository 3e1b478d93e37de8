// The idle timeout runs on the monotonic clock (issue 17): a wall-clock step forward with no client
// connected must not make the collector look idle, and real idle time counts whatever the wall clock does.

import { strict as assert } from 'node:assert';
import WebSocket from 'ws';
import { Collector } from '../../../collector/collector';
import { silentLogger } from '../../../collector/log';
import { CollectorServer } from '../../../collector/server/server';
import { MemoryHistory } from '../../fakes/test-sources';

describe('collector server idle time', function () {
  this.timeout(20_000);
  const realNow = Date.now;
  afterEach(() => {
    Date.now = realNow;
  });

  it('counts idle time on the monotonic clock, not the wall clock', async () => {
    let mono = 1000;
    const collector = new Collector([], 1000, { history: new MemoryHistory(), log: silentLogger });
    const server = new CollectorServer({
      collector,
      history: new MemoryHistory(),
      hostInfo: { hostname: 'h', platform: 'linux', arch: 'x64', collectorVersion: '0', pid: 1, startedAt: 0 },
      policy: { token: undefined, loopbackOnly: true, allowedOrigins: [] },
      log: silentLogger,
      assets: { js: '', css: '' },
      monoNow: () => mono,
    });
    const port = await server.listen(0, '127.0.0.1');
    try {
      assert.equal(server.idleForMs(), 0);
      // The wall clock jumps a day ahead: before the fix the idle check (Date.now − last client) fired.
      const step = realNow() + 24 * 3600_000;
      Date.now = () => step;
      assert.equal(server.idleForMs(), 0, 'a wall-clock step is not idle time');
      mono += 5000;
      assert.equal(server.idleForMs(), 5000);
      // A client connected is never idle; leaving restarts the count.
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      await new Promise((r, j) => {
        ws.once('message', r);
        ws.once('error', j);
      });
      assert.equal(server.idleForMs(), 0);
      mono += 1000;
      const closed = new Promise((r) => ws.once('close', r));
      ws.close();
      await closed;
      for (let i = 0; i < 100 && server.clientCount > 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(server.clientCount, 0);
      mono += 300;
      assert.equal(server.idleForMs(), 300);
    } finally {
      await server.close();
    }
  });
});
