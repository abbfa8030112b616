/**
 * The publisher's raw HTTP/1.1 pool against node:http: pipelined requests are
 * answered in order on few connections, both body framings are read, and a
 * connection that dies fails only its own requests, with a code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { loopbackTarget } from '../../bench/loopback.ts';
import { PostPool, PoolError } from '../../bench/post-pool.ts';

async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string; sockets: Set<unknown> }> {
  const server = createServer(handler);
  const sockets = new Set<unknown>();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/mercure`, sockets };
}

function readBody(req: import('node:http').IncomingMessage): Promise<string> {
  return new Promise((resolve) => { let b = ''; req.setEncoding('utf8'); req.on('data', (c) => { b += c; }); req.on('end', () => resolve(b)); });
}

test('pipelined posts on two connections: statuses in order, both framings, headers sent', async () => {
  const seen: string[] = [];
  const { server, url, sockets } = await serve(async (req, res) => {
    const body = await readBody(req);
    seen.push(`${req.method} ${req.url} ${req.headers.authorization} ${req.headers['content-type']} ${body}`);
    const n = Number(new URLSearchParams(body).get('n'));
    if (n % 3 === 0) { res.statusCode = 401; res.end('Unauthorized\n'); return; }
    if (n % 2 === 0) { res.write('urn:'); res.end(`id-${n}`); return; } // chunked
    res.setHeader('content-length', String(`id-${n}`.length));
    res.end(`id-${n}`);
  });
  const pool = new PostPool(loopbackTarget(url), { connections: 2, depth: 4, timeoutMs: 5000 }, {
    authorization: 'Bearer t', 'content-type': 'application/x-www-form-urlencoded',
  });
  try {
    const statuses = await Promise.all(Array.from({ length: 30 }, (_, n) => pool.post(`topic=a&n=${n}`)));
    assert.deepEqual(statuses, Array.from({ length: 30 }, (_, n) => (n % 3 === 0 ? 401 : 200)));
    assert.equal(seen.length, 30);
    assert.ok(seen.includes('POST /.well-known/mercure Bearer t application/x-www-form-urlencoded topic=a&n=1'));
    assert.ok(sockets.size <= 2, `used ${sockets.size} connections`);
  } finally {
    pool.close();
    server.close();
    server.closeAllConnections();
  }
});

test('a connection reset fails its requests with a code; later posts reconnect', async () => {
  let drop = true;
  const { server, url } = await serve(async (req, res) => {
    await readBody(req);
    if (drop) { drop = false; req.socket.destroy(); return; }
    res.end('ok');
  });
  const pool = new PostPool(loopbackTarget(url), { connections: 1, depth: 1, timeoutMs: 5000 }, {});
  try {
    await assert.rejects(pool.post('a=1'), (err: unknown) => err instanceof PoolError && err.code.length > 0);
    assert.equal(await pool.post('a=2'), 200);
  } finally {
    pool.close();
    server.close();
    server.closeAllConnections();
  }
});

test('closing the pool fails queued and in-flight posts with ECLOSED', async () => {
  const { server, url } = await serve(() => { /* never answers */ });
  const pool = new PostPool(loopbackTarget(url), { connections: 1, depth: 1, timeoutMs: 5000 }, {});
  const first = pool.post('a=1');
  const queued = pool.post('a=2');
  pool.close();
  await assert.rejects(first, { code: 'ECLOSED' });
  await assert.rejects(queued, { code: 'ECLOSED' });
  server.close();
  server.closeAllConnections();
});
