import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { request, respond, serve } from './helpers.ts';

test('respond: body, status, default content types', async (t) => {
  const srv = await serve(t, [
    { match: [{ path: ['/json'] }], handle: [respond('{"a": 1}')], terminal: true },
    { match: [{ path: ['/status'] }], handle: [respond(undefined, 204)], terminal: true },
    { match: [{ path: ['/ph'] }], handle: [respond('host={http.request.host} unknown={nope} path={http.request.uri.path}', 201)], terminal: true },
    { match: [{ path: ['/close'] }], handle: [respond('bye', 200, { close: true, headers: { 'X-A': ['{http.request.method}'] } })], terminal: true },
    { handle: [respond('Not Found', 404)] },
  ]);
  const j = await request(srv.url('/json'));
  assert.equal(j.status, 200);
  assert.equal(j.headers['content-type'], 'application/json');
  assert.equal(j.body, '{"a": 1}');
  const s = await request(srv.url('/status'));
  assert.equal(s.status, 204);
  assert.equal(s.body, '');
  const p = await request(srv.url('/ph'), { headers: { host: 'example.com:81' } });
  assert.equal(p.status, 201);
  assert.equal(p.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(p.body, 'host=example.com unknown={nope} path=/ph');
  const c = await request(srv.url('/close'));
  assert.equal(c.headers.connection, 'close');
  assert.equal(c.headers['x-a'], 'GET');
  const n = await request(srv.url('/other'));
  assert.equal(n.status, 404);
  assert.equal(n.body, 'Not Found');
  assert.equal(n.headers.server, 'Quicksilver');
});

test('no handler answering gives an empty 200', async (t) => {
  const srv = await serve(t, [{ match: [{ path: ['/x'] }], handle: [respond('x')] }]);
  const r = await request(srv.url('/nothing'));
  assert.equal(r.status, 200);
  assert.equal(r.body, '');
});

test('an Upgrade request that no handler takes over gets an ordinary response', async (t) => {
  const srv = await serve(t, [{ handle: [respond('no websockets here', 426)] }]);
  const sock = net.connect(srv.port(), '127.0.0.1');
  t.after(() => sock.destroy());
  await once(sock, 'connect');
  sock.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
  let text = '';
  sock.setEncoding('utf8');
  for await (const chunk of sock) text += chunk;
  assert.match(text, /^HTTP\/1\.1 426 /);
  assert.match(text, /no websockets here$/);
});
