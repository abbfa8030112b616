/**
 * The SSE write path (issue 7): batched flushes, the raw-socket path for
 * HTTP/1.1 chunked streams, its fallbacks (HTTP/1.0, HEAD), encode and access
 * logs in front of a hub, and the process-wide stream timers. Bytes on the
 * wire must be exactly the reference hub's, whatever the batching.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shedHeaderState } from '../../src/http/response.ts';
import { frame, framedBatch, plainBatch, resetBatches } from '../../src/mercure/sse-framing.ts';
import { BeatList, deadlines, type Beating, type Deadlined } from '../../src/mercure/stream-clock.ts';
import { startCaddyfile } from '../helpers/caddyfile-server.ts';
import { HUB, baseConfig, form, publish, pubToken, startHub, subscribe, topics, waitSubscribers } from './harness.ts';

const ev = (id: string, data: string) => `id: ${id}\ndata: ${data}\n\n`;

/** Sends a raw request on a fresh connection and collects everything that comes back. */
async function rawRequest(t: { after(fn: () => void): void }, port: number, request: string): Promise<{ sock: Socket; text: () => string }> {
  const sock = connect(port, '127.0.0.1');
  t.after(() => sock.destroy());
  await once(sock, 'connect');
  let raw = '';
  sock.setEncoding('latin1');
  sock.on('data', (d: string) => { raw += d; });
  sock.write(request);
  return { sock, text: () => raw };
}

test('sse-framing: one HTTP/1.1 chunk per batch; batches are shared by identity', () => {
  const a = Buffer.from(ev('a', 'x')), b = Buffer.from(ev('b', 'yy'));
  const f = frame([a, b], a.length + b.length);
  assert.equal(f.toString(), `${(a.length + b.length).toString(16)}\r\n${ev('a', 'x')}${ev('b', 'yy')}\r\n`);
  const parts = [a, b];
  const one = framedBatch(parts, a.length + b.length);
  assert.equal(framedBatch([a, b], a.length + b.length), one, 'same parts → the same Buffer');
  assert.notEqual(framedBatch([b, a], a.length + b.length), one);
  assert.equal(plainBatch([a], a.length), a, 'a single unframed event is written as is');
  assert.equal(plainBatch([a, b], a.length + b.length).toString(), ev('a', 'x') + ev('b', 'yy'));
  resetBatches();
  assert.notEqual(framedBatch(parts, a.length + b.length), one, 'reset forgets the memo');
});

test('stream-clock: the deadline heap fires in deadline order and forgets removed streams', async () => {
  const fired: number[] = [];
  const mk = (n: number): Deadlined => ({ deadlineAt: 0, deadlineIndex: -1, deadline: () => fired.push(n) });
  const streams = Array.from({ length: 40 }, (_, i) => mk(i));
  const now = performance.now();
  // Deadlines 20..59 ms away in a scrambled order; every third one removed again.
  for (const i of [...streams.keys()].sort((x, y) => ((x * 7) % 40) - ((y * 7) % 40))) deadlines.add(streams[i]!, now + 20 + i);
  for (let i = 0; i < 40; i += 3) deadlines.remove(streams[i]!);
  deadlines.add(streams[39]!, now + 10); // rescheduling moves it
  await new Promise((r) => setTimeout(r, 120));
  const expected = [39, ...[...streams.keys()].filter((i) => i % 3 !== 0 && i !== 39)];
  assert.deepEqual(fired, expected);
  assert.ok(streams.every((s) => s.deadlineIndex === -1));
});

test('stream-clock: a beat list beats streams in order of their last touch, until removed', async () => {
  const list = new BeatList(30);
  const beats: string[] = [];
  const s: Record<string, Beating> = {};
  for (const name of ['a', 'b', 'c']) {
    s[name] = { beatPrev: null, beatNext: null, beatAt: 0, beat: (now) => { beats.push(name); list.touch(s[name]!, now); } };
  }
  list.touch(s.a!, performance.now());
  list.touch(s.c!, performance.now());
  list.remove(s.c!); // removed streams never beat
  await new Promise((r) => setTimeout(r, 10));
  list.touch(s.b!, performance.now());
  list.touch(s.a!, performance.now()); // a touch moves a behind b
  while (beats.filter((x) => x === 'a').length < 2) await new Promise((r) => setTimeout(r, 5));
  list.remove(s.a!);
  list.remove(s.b!);
  assert.deepEqual(beats.slice(0, 2), ['b', 'a']);
  assert.ok(!beats.includes('c'));
});

test('a burst of concurrent publishes arrives exactly once, in stream order, with exact bytes', async (t) => {
  const h = await startHub(baseConfig({ anonymous: true, flush_interval: '30ms' }));
  t.after(() => h.close());
  const s = await subscribe(h.url, topics('a'));
  t.after(() => s.close());
  const tok = await pubToken();
  const N = 600; // more than FLUSH_AT: some batches are written before their round
  const res = await Promise.all(Array.from({ length: N }, (_, i) => publish(h.url, tok, [['topic', 'a'], ['data', `d${i}`], ['id', `u${i}`]])));
  assert.ok(res.every((r) => r.status === 200));
  await s.waitFor((x) => x.split('\n\n').length > N);
  const got = [...s.text.matchAll(/^id: (u\d+)\ndata: (d\d+)$/gm)].map((m) => [m[1], m[2]]);
  assert.equal(got.length, N);
  assert.equal(new Set(got.map((g) => g[0])).size, N, 'no duplicate');
  assert.ok(got.every(([id, data]) => id!.slice(1) === data!.slice(1)));
  assert.equal(s.text, ':\n' + got.map(([id, data]) => ev(id!, data!)).join(''));
});

test('HTTP/1.1 streams are hijacked: framed chunks on the socket, a clean last chunk and close at write_timeout', async (t) => {
  const h = await startHub(baseConfig({ anonymous: true, heartbeat: '0s', write_timeout: '700ms', dispatch_timeout: '0s' }));
  t.after(() => h.close());
  const c = await rawRequest(t, h.port, `GET ${HUB}?topic=a HTTP/1.1\r\nHost: x\r\n\r\n`);
  const closed = once(c.sock, 'close');
  await waitSubscribers(h, 1);
  const [sub] = [...h.hub.runtime.streams];
  assert.equal(sub!.hijacked, true);
  await publish(h.url, await pubToken(), [['topic', 'a'], ['data', 'one'], ['id', 'h1']]);
  await closed; // write_timeout ends the stream and, after a hijack, the connection
  const raw = c.text();
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  const one = ev('h1', 'one');
  assert.match(raw, /^HTTP\/1\.1 200 OK\r\n[^]*Transfer-Encoding: chunked\r\n/);
  assert.equal(body, `2\r\n:\n\r\n${one.length.toString(16)}\r\n${one}\r\n0\r\n\r\n`);
  await waitSubscribers(h, 0);
  assert.equal(h.hub.runtime.streams.size, 0);
});

test('HTTP/1.0 and HEAD streams go through the response: unframed bytes, no body', async (t) => {
  const h = await startHub(baseConfig({ anonymous: true }));
  t.after(() => h.close());
  const c = await rawRequest(t, h.port, `GET ${HUB}?topic=a HTTP/1.0\r\nHost: x\r\n\r\n`);
  await waitSubscribers(h, 1);
  const tok = await pubToken();
  await publish(h.url, tok, [['topic', 'a'], ['data', 'one'], ['id', 'x1']]);
  await publish(h.url, tok, [['topic', 'a'], ['data', 'two'], ['id', 'x2']]);
  while (!c.text().includes('data: two\n\n')) await once(c.sock, 'data');
  const raw = c.text();
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  assert.match(raw, /^HTTP\/1\.1 200 OK\r\n/);
  assert.doesNotMatch(raw, /Transfer-Encoding/i);
  assert.equal(body, ':\n' + ev('x1', 'one') + ev('x2', 'two'));
  assert.equal([...h.hub.runtime.streams][0]!.hijacked, false, 'HTTP/1.0 stays on the response');

  const head = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request(`${h.url}${HUB}?topic=a`, { method: 'HEAD', agent: false }, resolve);
    req.on('error', reject);
    req.end();
  });
  t.after(() => head.destroy());
  await publish(h.url, tok, [['topic', 'a'], ['data', 'three'], ['id', 'x3']]);
  assert.equal(head.statusCode, 200);
  assert.equal(head.headers['content-type'], 'text/event-stream');
});

test('behind encode and an access log: SSE is not compressed and the log counts the body bytes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qs-sse-'));
  const logFile = join(dir, 'access.log');
  const srv = await startCaddyfile(t, `:8080 {
	log {
		output file ${logFile}
	}
	encode zstd gzip
	mercure {
		publisher_jwt !ChangePublisher!
		subscriber_jwt !ChangeSubscriber!
		anonymous
		transport local
	}
}`);
  const base = srv.url('').replace(/\/$/, '');
  const s = await subscribe(base, topics('a'), { 'Accept-Encoding': 'gzip, zstd' });
  assert.equal(s.headers['content-encoding'], undefined);
  assert.equal(s.headers['transfer-encoding'], 'chunked');
  const tok = await pubToken();
  const body = [['topic', 'a'], ['data', 'hello'], ['id', 'e1']] as [string, string][];
  const res = await fetch(`${base}${HUB}`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Bearer ${tok}` }, body: form(body) });
  assert.equal(res.status, 200);
  await s.waitForText(ev('e1', 'hello'));
  const runtime = srv.app.server(srv.serverName)!;
  assert.equal(runtime.active, 1, 'the (hijacked) stream is a request in flight');
  s.close();
  await s.closed;
  // The entry is written when the server sees the stream close.
  const read = () => readFileSync(logFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);
  for (let i = 0; i < 300 && !read().some((l) => l.request.method === 'GET'); i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(runtime.active, 0, 'its close ends the request');
  await srv.stop();
  const entry = read().find((l) => l.request.method === 'GET')!;
  assert.equal(entry.status, 200);
  assert.equal(entry.size, Buffer.byteLength(':\n' + ev('e1', 'hello')));
  assert.equal(entry.resp_headers['Content-Type']?.[0] ?? entry.resp_headers['content-type'], 'text/event-stream');
});

test('shedHeaderState: dropped header objects are rebuilt on demand', async (t) => {
  let seen: { host?: string; distinct?: string[]; out?: unknown } = {};
  const server = http.createServer((req, res) => {
    void req.headers; void req.headersDistinct;
    res.setHeader('X-A', '1');
    res.write('x');
    shedHeaderState(res);
    seen = { host: req.headers.host, distinct: req.headersDistinct['x-b'], out: res.getHeader('x-a') };
    res.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  await fetch(`http://127.0.0.1:${port}/`, { headers: { 'X-B': 'v' } }).then((r) => r.text());
  assert.equal(seen.host, `127.0.0.1:${port}`);
  assert.deepEqual(seen.distinct, ['v']);
  assert.equal(seen.out, undefined, 'the sent head is not kept');
});

test('flush_interval: accepted as a duration, negative refused', async () => {
  const h = await startHub(baseConfig({ flush_interval: '5ms' }));
  assert.equal(h.hub.runtime.stream.flushIntervalMs, 5);
  await h.close();
  await assert.rejects(startHub(baseConfig({ flush_interval: '-1s' })), /negative/);
});
