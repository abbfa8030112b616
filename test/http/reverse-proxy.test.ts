import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
import { createHash } from 'node:crypto';
import { request, serve, upstream } from './helpers.ts';
import type { Upstream } from '../../src/http/reverse-proxy/upstreams.ts';

const proxy = (dials: string[], more: Record<string, unknown> = {}) => ({ handler: 'reverse_proxy', upstreams: dials.map((dial) => ({ dial })), ...more });

test('reverse_proxy: forwards method, path, body and headers; X-Forwarded-*; header_up/header_down', async (t) => {
  let seen: http.IncomingMessage | undefined;
  let body = '';
  const up = await upstream(t, async (req, res) => {
    seen = req;
    for await (const c of req) body += c;
    res.setHeader('X-Up', 'yes');
    res.setHeader('X-Remove', 'x');
    res.end(`echo ${req.method} ${req.url}`);
  });
  const srv = await serve(t, [{ handle: [proxy([`127.0.0.1:${up.port}`], {
    headers: { request: { set: { 'X-Upstream': ['{http.reverse_proxy.upstream.hostport}'] } }, response: { delete: ['X-Remove'], set: { 'X-Down': ['1'] } } },
  })] }]);
  const r = await request(srv.url('/a/b?q=1'), { method: 'POST', body: 'hello', headers: { host: 'example.com', 'x-forwarded-for': '6.6.6.6' } });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'echo POST /a/b?q=1');
  assert.equal(body, 'hello');
  assert.equal(r.headers['x-up'], 'yes');
  assert.equal(r.headers['x-down'], '1');
  assert.equal(r.headers['x-remove'], undefined);
  assert.equal(seen!.headers.host, 'example.com');
  assert.equal(seen!.headers['x-forwarded-for'], '127.0.0.1', 'untrusted client values are replaced');
  assert.equal(seen!.headers['x-forwarded-proto'], 'http');
  assert.equal(seen!.headers['x-forwarded-host'], 'example.com');
  assert.equal(seen!.headers['x-upstream'], `127.0.0.1:${up.port}`);
});

test('reverse_proxy: 502 when the upstream cannot be reached or hangs up, 503 when none is available, 504 on timeout', async (t) => {
  const hangup = net.createServer((sock) => sock.destroy());
  hangup.listen(0, '127.0.0.1');
  await once(hangup, 'listening');
  t.after(() => hangup.close());
  const hangupPort = (hangup.address() as net.AddressInfo).port;
  const slow = await upstream(t, () => { /* never answers */ });
  const srv = await serve(t, [
    { match: [{ path: ['/missing'] }], handle: [proxy(['unix//nonexistent/quicksilver-test.sock'])], terminal: true },
    { match: [{ path: ['/hangup'] }], handle: [proxy([`127.0.0.1:${hangupPort}`])], terminal: true },
    { match: [{ path: ['/none'] }], handle: [proxy([])], terminal: true },
    { match: [{ path: ['/slow'] }], handle: [proxy([`127.0.0.1:${slow.port}`], { transport: { protocol: 'http', response_header_timeout: '100ms' } })], terminal: true },
  ]);
  assert.equal((await request(srv.url('/missing'))).status, 502);
  assert.equal((await request(srv.url('/hangup'))).status, 502);
  assert.equal((await request(srv.url('/none'))).status, 503);
  assert.equal((await request(srv.url('/slow'))).status, 504);
});

test('reverse_proxy: lb policies round_robin, first, header, ip_hash', async (t) => {
  const a = await upstream(t, (_q, s) => s.end('a'));
  const b = await upstream(t, (_q, s) => s.end('b'));
  const dials = [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`];
  const lb = (policy: Record<string, unknown>) => ({ load_balancing: { selection_policy: policy } });
  const srv = await serve(t, [
    { match: [{ path: ['/rr'] }], handle: [proxy(dials, lb({ policy: 'round_robin' }))], terminal: true },
    { match: [{ path: ['/first'] }], handle: [proxy(dials, lb({ policy: 'first' }))], terminal: true },
    { match: [{ path: ['/header'] }], handle: [proxy(dials, lb({ policy: 'header', field: 'X-Key' }))], terminal: true },
    { match: [{ path: ['/ip'] }], handle: [proxy(dials, lb({ policy: 'ip_hash' }))], terminal: true },
  ]);
  const rr = [];
  for (let i = 0; i < 4; i++) rr.push((await request(srv.url('/rr'))).body);
  assert.deepEqual(rr, ['a', 'b', 'a', 'b']);
  for (let i = 0; i < 3; i++) assert.equal((await request(srv.url('/first'))).body, 'a');
  const byKey = new Map<string, Set<string>>();
  // 32 keys: with random upstream ports, all landing on one upstream is a 2^-31 chance, not the ~3 % six keys gave.
  for (const key of Array.from({ length: 32 }, (_, i) => `k${i}`)) {
    for (let i = 0; i < 3; i++) {
      const r = await request(srv.url('/header'), { headers: { 'x-key': key } });
      byKey.set(key, (byKey.get(key) ?? new Set()).add(r.body));
    }
  }
  for (const set of byKey.values()) assert.equal(set.size, 1, 'a key sticks to one upstream');
  assert.equal(new Set([...byKey.values()].map((s) => [...s][0])).size, 2, 'keys spread over both upstreams');
  const ip = new Set<string>();
  for (let i = 0; i < 4; i++) ip.add((await request(srv.url('/ip'))).body);
  assert.equal(ip.size, 1);
});

test('reverse_proxy: an upstream that dies is skipped (passive health) and the failed GET is retried on the next', async (t) => {
  let dead = false;
  const a = await upstream(t, (req, s) => { if (dead) req.socket.destroy(); else s.end('a'); });
  const b = await upstream(t, (_q, s) => s.end('b'));
  const srv = await serve(t, [{ handle: [proxy([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`], {
    load_balancing: { selection_policy: { policy: 'first' }, retries: 2 },
    health_checks: { passive: { fail_duration: '1m', max_fails: 1 } },
  })] }]);
  assert.equal((await request(srv.url('/'))).body, 'a');
  dead = true;
  const r = await request(srv.url('/'));
  assert.equal(r.status, 200);
  assert.equal(r.body, 'b', 'the failure is retried on the next upstream');
  const reg = srv.instance.app.registry.get('reverse_proxy.upstreams') as Map<string, Upstream>;
  assert.equal(reg.get(`127.0.0.1:${a.port}`)!.fails, 1);
  assert.equal((await request(srv.url('/'))).body, 'b', 'the failed upstream stays out for fail_duration');
  assert.equal(reg.get(`127.0.0.1:${a.port}`)!.fails, 1, 'and is not tried again meanwhile');
});

test('reverse_proxy: active health checks mark an upstream down and up again', async (t) => {
  let healthy = true;
  const a = await upstream(t, (req, s) => {
    if (req.url === '/health') { s.statusCode = healthy ? 200 : 503; s.end(healthy ? 'OK' : 'no'); return; }
    s.end('a');
  });
  const b = await upstream(t, (req, s) => s.end(req.url === '/health' ? 'OK' : 'b'));
  const srv = await serve(t, [{ handle: [proxy([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`], {
    load_balancing: { selection_policy: { policy: 'first' } },
    health_checks: { active: { uri: '/health', interval: '20ms', expect_body: 'OK' } },
  })] }]);
  const state = (srv.instance.app.registry.get('reverse_proxy.upstreams') as Map<string, Upstream>).get(`127.0.0.1:${a.port}`)!;
  assert.equal((await request(srv.url('/'))).body, 'a');
  healthy = false;
  while (state.activeHealthy) await once(state, 'health');
  assert.equal((await request(srv.url('/'))).body, 'b');
  healthy = true;
  while (!state.activeHealthy) await once(state, 'health');
  assert.equal((await request(srv.url('/'))).body, 'a');
});

test('reverse_proxy + encode: an event stream is flushed event by event, never compressed', async (t) => {
  let sendNext: (() => void) | undefined;
  const up = await upstream(t, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    let n = 0;
    const send = () => {
      n++;
      res.write(`id: ${n}\ndata: event ${n} ${'x'.repeat(600)}\n\n`);
      if (n === 3) res.end();
    };
    send();
    sendNext = send;
  });
  const srv = await serve(t, [{ handle: [
    { handler: 'encode', encodings: { zstd: {}, gzip: {} }, prefer: ['zstd', 'gzip'] },
    proxy([`127.0.0.1:${up.port}`], { flush_interval: -1 }),
  ] }]);
  const req = http.get(srv.url('/events'), { headers: { 'accept-encoding': 'zstd, gzip' }, agent: false });
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  assert.equal(res.headers['content-type'], 'text/event-stream');
  assert.equal(res.headers['content-encoding'], undefined);
  res.setEncoding('utf8');
  let buf = '';
  const events: string[] = [];
  for await (const chunk of res) {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      events.push(buf.slice(0, i));
      buf = buf.slice(i + 2);
      // the next event is only sent after this one arrived
      if (events.length < 3) sendNext!();
    }
  }
  assert.equal(events.length, 3);
  assert.match(events[2]!, /^id: 3\ndata: event 3/);
});

test('encode: compresses large compressible responses, leaves small ones alone', async (t) => {
  const big = 'hello world '.repeat(200);
  const up = await upstream(t, (req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.setHeader('ETag', '"abc"');
    res.end(req.url === '/small' ? 'tiny' : big);
  });
  const srv = await serve(t, [{ handle: [
    { handler: 'encode', encodings: { zstd: {}, gzip: {} }, prefer: ['zstd', 'gzip'] },
    proxy([`127.0.0.1:${up.port}`]),
  ] }]);
  const z = await request(srv.url('/big'), { headers: { 'accept-encoding': 'gzip, zstd' } });
  assert.equal(z.headers['content-encoding'], 'zstd');
  assert.equal(z.headers.vary, 'Accept-Encoding');
  assert.equal(z.headers.etag, '"abc-zstd"');
  assert.equal(zlib.zstdDecompressSync(z.raw).toString(), big);
  const g = await request(srv.url('/big'), { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(g.headers['content-encoding'], 'gzip');
  assert.equal(zlib.gunzipSync(g.raw).toString(), big);
  const s = await request(srv.url('/small'), { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(s.headers['content-encoding'], undefined);
  assert.equal(s.body, 'tiny');
  const none = await request(srv.url('/big'));
  assert.equal(none.headers['content-encoding'], undefined);
  assert.equal(none.body, big);
});

test('reverse_proxy: WebSocket upgrade is tunnelled both ways', async (t) => {
  const up = await upstream(t, (_q, s) => s.end('plain'));
  up.server.on('upgrade', (req, socket: net.Socket) => {
    const accept = createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    socket.on('data', (frame: Buffer) => {
      // unmask one small client text frame and echo it back unmasked, upper-cased
      const len = frame[1]! & 0x7f;
      const mask = frame.subarray(2, 6);
      const payload = Buffer.from(frame.subarray(6, 6 + len).map((b, i) => b ^ mask[i % 4]!));
      const text = Buffer.from(payload.toString().toUpperCase());
      socket.write(Buffer.concat([Buffer.from([0x81, text.length]), text]));
    });
  });
  const srv = await serve(t, [{ handle: [proxy([`127.0.0.1:${up.port}`])] }]);
  const ws = new WebSocket(`ws://127.0.0.1:${srv.port()}/socket`);
  t.after(() => ws.close());
  await once(ws as unknown as EventTarget, 'open');
  ws.send('hello');
  const [msg] = (await once(ws as unknown as EventTarget, 'message')) as [MessageEvent];
  assert.equal(msg.data, 'HELLO');
});
