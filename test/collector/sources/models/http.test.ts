// The model-server GET on node:http (collector/sources/models/http.ts, issue 17: no fetch/undici in the
// collector) keeps what fetch did: redirects followed, credentials not carried to another origin, a
// capped body, and the timeout. Real loopback servers.

import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpGet, httpGetPage, MAX_BODY_BYTES, MAX_REDIRECTS } from '../../../../collector/sources/models/http';
import { SourceError } from '../../../../collector/source';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

describe('model-server HTTP GET (node:http)', () => {
  const servers: http.Server[] = [];
  const serve = async (h: Handler): Promise<string> => {
    const s = http.createServer(h);
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  };
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  it('follows redirects; the Authorization header goes on within the origin, not to another one', async () => {
    const seen: Record<string, string | undefined> = {};
    const other = await serve((req, res) => {
      seen.other = req.headers.authorization;
      res.end('{"from":"other"}');
    });
    const base = await serve((req, res) => {
      if (req.url === '/a') return void res.writeHead(302, { location: '/b' }).end();
      if (req.url === '/b') {
        seen.same = req.headers.authorization;
        return void res.writeHead(307, { location: `${other}/c` }).end();
      }
      res.writeHead(404).end();
    });
    const a = await httpGet(`${base}/a`, { headers: { authorization: 'Bearer t0ken' }, timeoutMs: 2000 });
    assert.equal(a.status, 200);
    assert.equal(a.body, '{"from":"other"}');
    assert.equal(a.url, `${base}/a`, 'the answer names the URL asked for');
    assert.deepEqual(seen, { same: 'Bearer t0ken', other: undefined });
  });

  it('gives up after MAX_REDIRECTS redirects with a message', async () => {
    let hops = 0;
    const base = await serve((_req, res) => {
      hops++;
      res.writeHead(302, { location: '/again' }).end();
    });
    await assert.rejects(
      httpGet(`${base}/`, { timeoutMs: 5000 }),
      (e: Error) => e instanceof SourceError && /^cannot reach .*: redirect count exceeded$/.test(e.message),
    );
    assert.equal(hops, MAX_REDIRECTS + 1);
  });

  it('stops reading a body over the cap, and a page at its byte cap', async () => {
    const base = await serve((req, res) => {
      const line = Buffer.from('x 1\n'.repeat(4096));
      const total = req.url === '/json' ? MAX_BODY_BYTES + line.length : 4 * 1024 * 1024;
      let sent = 0;
      const more = (): void => {
        while (sent < total) {
          sent += line.length;
          if (!res.write(line)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    });
    await assert.rejects(httpGet(`${base}/json`, { timeoutMs: 10_000 }), (e: Error) => e instanceof SourceError && /is larger than 8 MB$/.test(e.message));
    const p = await httpGetPage(`${base}/metrics`, { timeoutMs: 10_000, maxPageBytes: 64 * 1024, maxLabelSetsPerMetric: 10 });
    assert.equal(p.capped, true);
    assert.equal(p.bytes, 64 * 1024);
  });

  it('times out a server that never answers', async () => {
    const base = await serve(() => undefined);
    await assert.rejects(
      httpGet(`${base}/`, { timeoutMs: 150 }),
      (e: Error) => e instanceof SourceError && e.message === `no answer from ${base}/ within 150 ms`,
    );
  });
});
