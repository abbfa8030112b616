/**
 * Issue 18.8: protocol edge cases where the hub must answer as the reference
 * hub does, byte for byte. Raw requests on a real socket (duplicate headers,
 * unnormalised paths) to the hub mounted in a Caddyfile site.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startCaddyfile } from '../helpers/caddyfile-server.ts';
import { headersAllowed } from '../../src/mercure/cors.ts';
import { goTarget } from '../../src/mercure/go-url.ts';
import { goQuote } from '../../src/mercure/publish.ts';
import { P, pubToken, subscribe, topics } from './harness.ts';

interface Raw { status: number; head: string; headers: [string, string][]; body: Buffer }

/** Sends raw bytes, reads the whole answer (the request asks the server to close); an event stream is read up to its head. */
function raw(port: number, request: string | Buffer): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(request));
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      const all = Buffer.concat(chunks);
      const sep = all.indexOf('\r\n\r\n');
      if (sep >= 0 && /\r\ncontent-type: text\/event-stream\r\n/i.test(all.subarray(0, sep + 2).toString('latin1'))) s.end();
    });
    s.on('error', reject);
    s.on('close', () => {
      const all = Buffer.concat(chunks);
      const sep = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, sep).toString('latin1');
      const lines = head.split('\r\n');
      const headers = lines.slice(1).map((l): [string, string] => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]);
      let body: Buffer = all.subarray(sep + 4);
      const stream = headers.some(([k, v]) => k === 'content-type' && v === 'text/event-stream');
      if (!stream && headers.some(([k, v]) => k === 'transfer-encoding' && v === 'chunked')) body = dechunk(body);
      resolve({ status: Number(lines[0]!.split(' ')[1]), head, headers, body });
    });
  });
}

function dechunk(b: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const nl = b.indexOf('\r\n', at);
    const n = parseInt(b.subarray(at, nl).toString('latin1'), 16);
    if (!n) return Buffer.concat(out);
    out.push(b.subarray(nl + 2, nl + 2 + n));
    at = nl + 2 + n + 2;
  }
}

const header = (r: Raw, name: string): string[] => r.headers.filter(([k]) => k === name).map(([, v]) => v);
const get = (target: string, extra = ''): string => `GET ${target} HTTP/1.1\r\nHost: localhost\r\n${extra}Connection: close\r\n\r\n`;

async function hubSite(t: TestContext, extra = ''): Promise<number> {
  const srv = await startCaddyfile(t, `:8080 {\n\tmercure {\n\t\tpublisher_jwt ${P}\n\t\tanonymous\n\t\tsubscriptions\n\t\ttransport local\n${extra}\t}\n\trespond "not the hub" 418\n}\n`);
  return srv.port();
}

test('Go reads the request target: decoded path decides, escaped path routes, RequestURI names', () => {
  assert.deepEqual(goTarget('/a%2Fb?x=1'), { path: '/a/b', escapedPath: '/a%2Fb', rawQuery: 'x=1', requestUri: '/a%2Fb?x=1' });
  assert.deepEqual(goTarget('/a\\b'), { path: '/a\\b', escapedPath: '/a%5Cb', rawQuery: '', requestUri: '/a%5Cb' });
  // A byte that must be escaped makes Go re-encode the whole path from its decoded form: %2F becomes /.
  assert.equal(goTarget('/x%2Fy"z').escapedPath, '/x/y%22z');
  assert.equal(goTarget('/%6d').escapedPath, '/%6d', 'a valid raw encoding is kept as written');
  assert.equal(goTarget('/a/../b').path, '/a/../b', 'dot segments are not resolved');
  assert.equal(goTarget('/p?').requestUri, '/p?');
  assert.equal(goTarget('/%zz').path, undefined);
  assert.equal(goTarget('http://h.example/x?y').requestUri, '/x?y');
  assert.equal(goTarget('/caf\u00c3\u00a9').escapedPath, '/caf%C3%A9', 'raw UTF-8 bytes are escaped');
});

test('percent-encoded and dot segments: the hub is entered on the decoded path, its routes match the escaped one', async (t) => {
  const port = await hubSite(t);
  const rows: [string, number, string][] = [
    ['/.well-known/mercure?topic=a', 200, 'the hub'],
    ['/.well-known/%6dercure?topic=a', 404, 'decoded, it is the hub; encoded, no hub route matches'],
    ['/.well-known%2Fmercure?topic=a', 404, 'same with an encoded slash'],
    ['/foo/../.well-known/mercure?topic=a', 418, 'dot segments are not resolved: not the hub'],
    ['/.well-known/./mercure?topic=a', 418, 'not the hub'],
    ['//.well-known/mercure?topic=a', 418, 'not the hub'],
    ['/.well-known/mercure/../mercure?topic=a', 404, 'the hub, but no route'],
  ];
  for (const [target, status, why] of rows) {
    const r = await raw(port, get(target));
    assert.equal(r.status, status, `${target}: ${why}`);
    if (status === 404) {
      assert.equal(header(r, 'x-frame-options')[0], 'DENY', `${target}: the hub's 404 carries the security headers`);
      assert.equal(header(r, 'content-type')[0], 'text/plain; charset=utf-8');
    }
  }
});

test('subscriptions API paths are decoded and re-encoded as Go does (%2F, quotes, backslashes)', async (t) => {
  const port = await hubSite(t);
  const base = `http://127.0.0.1:${port}`;
  const subs = await Promise.all(['a\\b', 'x/y', 'q"uote'].map((tp) => subscribe(base, topics(tp))));
  t.after(() => { for (const s of subs) s.close(); });
  const doc = async (target: string) => {
    const r = await raw(port, get(target));
    return { status: r.status, json: r.status === 200 ? JSON.parse(r.body.toString('utf8')) as { id: string; subscriptions: { topic: string }[] } : undefined };
  };
  const bs = await doc('/.well-known/mercure/subscriptions/a\\b');
  assert.equal(bs.status, 200);
  assert.equal(bs.json!.id, '/.well-known/mercure/subscriptions/a%5Cb');
  assert.deepEqual(bs.json!.subscriptions.map((s) => s.topic), ['a\\b']);
  const slash = await doc('/.well-known/mercure/subscriptions/x%2Fy');
  assert.equal(slash.json!.id, '/.well-known/mercure/subscriptions/x%2Fy');
  assert.deepEqual(slash.json!.subscriptions.map((s) => s.topic), ['x/y']);
  const quote = await doc('/.well-known/mercure/subscriptions/q"uote');
  assert.equal(quote.json!.id, '/.well-known/mercure/subscriptions/q%22uote');
  assert.deepEqual(quote.json!.subscriptions.map((s) => s.topic), ['q"uote']);
  // A quote next to %2F: Go re-encodes the path from its decoded form, so %2F splits the segment.
  const both = await raw(port, get('/.well-known/mercure/subscriptions/x%2Fy"z'));
  assert.equal(both.status, 404, 'read as /subscriptions/x/y%22z: a subscription that does not exist');
  assert.equal(header(both, 'x-frame-options')[0], 'DENY');
});

test('the subscriptions API authorises the re-encoded URI', async (t) => {
  const srv = await startCaddyfile(t, `:8080 {\n\tmercure {\n\t\tpublisher_jwt ${P}\n\t\tsubscriber_jwt !ChangeSubscriber!\n\t\tsubscriptions\n\t\ttransport local\n\t}\n}\n`);
  const { subToken } = await import('./harness.ts');
  const token = await subToken(['/.well-known/mercure/subscriptions/a%5Cb']);
  const auth = `Authorization: Bearer ${token}\r\n`;
  assert.equal((await raw(srv.port(), get('/.well-known/mercure/subscriptions/a\\b', auth))).status, 200);
  assert.equal((await raw(srv.port(), get('/.well-known/mercure/subscriptions/a%5Cb', auth))).status, 200);
  assert.equal((await raw(srv.port(), get('/.well-known/mercure/subscriptions/a%5cb', auth))).status, 401, 'a valid raw encoding is matched as written');
});

test('404s of the subscriptions API carry the headers the reference sends', async (t) => {
  const port = await hubSite(t);
  const single = await raw(port, get('/.well-known/mercure/subscriptions/a/urn%3Auuid%3Anone'));
  assert.equal(single.status, 404);
  assert.equal(single.body.toString(), '404 page not found\n');
  assert.equal(header(single, 'content-type')[0], 'text/plain; charset=utf-8');
  assert.equal(header(single, 'x-content-type-options')[0], 'nosniff');
  assert.equal(header(single, 'x-frame-options')[0], 'DENY');
  assert.equal(header(single, 'content-security-policy')[0], "default-src 'self'");
  assert.equal(header(single, 'etag')[0], 'earliest', 'the ETag set before the lookup stays, as in the reference');
  const noRoute = await raw(port, get('/.well-known/mercure/subscriptions/'));
  assert.equal(noRoute.status, 404);
  assert.equal(header(noRoute, 'x-frame-options')[0], 'DENY');
  assert.deepEqual(header(noRoute, 'etag'), [], 'no route: no ETag');
});

test('two Origin headers: the first counts (CORS and the cookie publish check)', async (t) => {
  const port = await hubSite(t, '\t\tcors_origins https://a.example\n\t\tpublish_origins https://a.example\n');
  const two = (first: string, second: string) => `Origin: ${first}\r\nOrigin: ${second}\r\n`;
  const ok = await raw(port, get('/.well-known/mercure/subscriptions', two('https://a.example', 'https://b.example')));
  assert.deepEqual(header(ok, 'access-control-allow-origin'), ['https://a.example']);
  const no = await raw(port, get('/.well-known/mercure/subscriptions', two('https://b.example', 'https://a.example')));
  assert.deepEqual(header(no, 'access-control-allow-origin'), []);
  const pre = await raw(port, `OPTIONS /.well-known/mercure HTTP/1.1\r\nHost: localhost\r\n${two('https://a.example', 'https://b.example')}Access-Control-Request-Method: GET\r\nConnection: close\r\n\r\n`);
  assert.deepEqual(header(pre, 'access-control-allow-origin'), ['https://a.example']);
  // Cookie-authenticated publish: the origin check reads the first Origin.
  const token = await pubToken();
  const body = 'topic=o&data=x';
  const post = (origins: string) => `POST /.well-known/mercure HTTP/1.1\r\nHost: localhost\r\nCookie: mercureAuthorization=${token}\r\n${origins}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
  assert.equal((await raw(port, post(two('https://a.example', 'https://b.example')))).status, 200);
  assert.equal((await raw(port, post(two('https://b.example', 'https://a.example')))).status, 401);
});

test('CORS preflights accept only canonical Access-Control-Request-Method / -Headers values', async (t) => {
  const port = await hubSite(t, '\t\tcors_origins https://a.example\n');
  const preflight = async (method: string, headers?: string | string[]) => {
    const acrh = headers === undefined ? '' : (Array.isArray(headers) ? headers : [headers]).map((h) => `Access-Control-Request-Headers: ${h}\r\n`).join('');
    const r = await raw(port, `OPTIONS /.well-known/mercure HTTP/1.1\r\nHost: localhost\r\nOrigin: https://a.example\r\nAccess-Control-Request-Method: ${method}\r\n${acrh}Connection: close\r\n\r\n`);
    assert.equal(r.status, 204);
    return { allowed: header(r, 'access-control-allow-origin').length === 1, methods: header(r, 'access-control-allow-methods'), headers: header(r, 'access-control-allow-headers') };
  };
  assert.deepEqual(await preflight('GET'), { allowed: true, methods: ['GET'], headers: [] });
  assert.equal((await preflight('get')).allowed, false, 'methods are compared as written');
  assert.equal((await preflight('Post')).allowed, false);
  assert.deepEqual(await preflight('POST', 'authorization,last-event-id'), { allowed: true, methods: ['POST'], headers: ['authorization,last-event-id'] });
  assert.equal((await preflight('POST', 'authorization, cache-control')).allowed, true, 'one space around a name is tolerated');
  assert.equal((await preflight('POST', 'Authorization')).allowed, false, 'names must be lower case');
  assert.equal((await preflight('POST', 'last-event-id,authorization')).allowed, false, 'names must be sorted');
  assert.equal((await preflight('POST', 'authorization,authorization')).allowed, false, 'names must be unique');
  assert.equal((await preflight('POST', 'x-custom')).allowed, false);
  // Only the first Access-Control-Request-Headers line is read, and only it is echoed.
  assert.deepEqual((await preflight('POST', ['authorization', 'x-custom'])).headers, ['authorization']);
  assert.equal(headersAllowed('authorization,  cache-control'), false, 'two spaces are too many');
  assert.equal(headersAllowed(',,authorization,'), true, 'a few empty elements are tolerated');
  assert.equal(headersAllowed(','.repeat(17)), false);
});

test('error messages quote strings as Go\'s %q does', () => {
  assert.equal(goQuote('https://example.com/.well-known/mercure'), '"https://example.com/.well-known/mercure"');
  assert.equal(goQuote('caf\u00e9 \u65e5\u672c \u{1F600}'), '"caf\u00e9 \u65e5\u672c \u{1F600}"', 'printable non-ASCII is kept');
  assert.equal(goQuote('a\u00a0b\u200bc\u00add\ufeffe\u2028f'), '"a\\u00a0b\\u200bc\\u00add\\ufeffe\\u2028f"', 'invisible characters are escaped');
  assert.equal(goQuote('\t"\\\u0001\u007f\u0085'), '"\\t\\"\\\\\\x01\\x7f\\u0085"');
  assert.equal(goQuote('\ue000\u{F0000}\u{E0001}'), '"\\ue000\\U000f0000\\U000e0001"', 'private use and tags');
  assert.equal(goQuote('x\udcffy'), '"x\\xffy"', 'a byte that is not UTF-8');
});

test('a reserved-topic 403 quotes the topic as the reference does', async (t) => {
  const port = await hubSite(t);
  const token = await pubToken();
  const body = `topic=${encodeURIComponent('https://e.example/.well-known/mercure/\u200b\u00e9')}`;
  const r = await raw(port, `POST /.well-known/mercure HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
  assert.equal(r.status, 403);
  assert.equal(r.body.toString('utf8'), '"https://e.example/.well-known/mercure/\\u200b\u00e9": topic value references the reserved "/.well-known/mercure" namespace\n');
});

/** A raw stream: every byte received, and a wait for a byte sequence (no sleeps). */
function openRaw(port: number, request: Buffer | string): { bytes: () => Buffer; waitFor: (b: Buffer) => Promise<void>; close: () => void } {
  const s = net.connect(port, '127.0.0.1', () => s.write(request));
  const chunks: Buffer[] = [];
  let waiters: (() => void)[] = [];
  s.on('data', (c: Buffer) => { chunks.push(c); for (const w of waiters) w(); });
  s.on('error', () => { /* closed by the test */ });
  const bytes = () => Buffer.concat(chunks);
  return {
    bytes,
    close: () => s.destroy(),
    waitFor: (b) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(bytes().toString('latin1'))}`)), 10_000);
      const check = () => { if (bytes().includes(b)) { clearTimeout(timer); waiters = waiters.filter((w) => w !== check); resolve(); } };
      waiters.push(check);
      check();
    }),
  };
}

test('an id that is not UTF-8 is kept byte for byte: publish answer, SSE id:, Last-Event-ID lookup (bolt); retry is a uint64', async (t) => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const db = join(mkdtempSync(join(tmpdir(), 'qs-bytes-')), 'h.db');
  const srv = await startCaddyfile(t, `:8080 {\n\tmercure {\n\t\tpublisher_jwt ${P}\n\t\tanonymous\n\t\ttransport bolt {\n\t\t\tpath ${db}\n\t\t}\n\t}\n}\n`);
  const port = srv.port();
  const token = await pubToken();
  const post = (body: Buffer | string) => {
    const b = Buffer.from(body as string, typeof body === 'string' ? 'latin1' : undefined);
    return raw(port, Buffer.concat([Buffer.from(`POST /.well-known/mercure HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${b.length}\r\nConnection: close\r\n\r\n`, 'latin1'), b]));
  };
  const idBytes = Buffer.from([0xff, 0x61, 0xc3, 0xa9, 0x80]); // invalid, "a", "é", a stray continuation byte
  const live = openRaw(port, get('/.well-known/mercure?topic=u'));
  t.after(() => live.close());
  await live.waitFor(Buffer.from(':\n'));

  const first = await post('topic=u&id=%FFa%C3%A9%80&data=one&retry=18446744073709551615');
  assert.equal(first.status, 200);
  assert.deepEqual(first.body, idBytes, 'the publish answer is the id, byte for byte');
  const event = Buffer.concat([Buffer.from('retry: 18446744073709551615\nid: '), idBytes, Buffer.from('\ndata: one\n\n')]);
  await live.waitFor(event);

  // Raw bytes in the body (not percent-encoded) are kept too; 2^53 + 1 is not rounded.
  const second = await post(Buffer.concat([Buffer.from('topic=u&data=two&retry=9007199254740993&id=b'), Buffer.from([0xfe])]));
  assert.deepEqual(second.body, Buffer.from([0x62, 0xfe]));
  await live.waitFor(Buffer.from('retry: 9007199254740993\nid: b\xfe\ndata: two\n\n', 'latin1'));

  // Last-Event-ID as a header (raw bytes) and as a query parameter (percent-encoded): the replay starts after it.
  const fromHeader = openRaw(port, Buffer.concat([Buffer.from('GET /.well-known/mercure?topic=u HTTP/1.1\r\nHost: localhost\r\nLast-Event-ID: ', 'latin1'), idBytes, Buffer.from('\r\nConnection: close\r\n\r\n')]));
  t.after(() => fromHeader.close());
  await fromHeader.waitFor(Buffer.from('id: b\xfe\ndata: two\n\n', 'latin1'));
  assert.ok(fromHeader.bytes().includes(Buffer.concat([Buffer.from('\r\nLast-Event-Id: '), idBytes, Buffer.from('\r\n')])), 'the response names the id, byte for byte: ' + JSON.stringify(fromHeader.bytes().toString('latin1')));
  assert.ok(!fromHeader.bytes().includes(Buffer.from('data: one')), 'found: nothing before it is replayed');
  const fromQuery = openRaw(port, get('/.well-known/mercure?topic=u&lastEventID=%FFa%C3%A9%80'));
  t.after(() => fromQuery.close());
  await fromQuery.waitFor(Buffer.from('retry: 9007199254740993\nid: b\xfe\ndata: two\n\n', 'latin1'));
  assert.ok(!fromQuery.bytes().includes(Buffer.from('data: one')));
  // The replay read back from storage keeps the exact retry too.
  const all = openRaw(port, get('/.well-known/mercure?topic=u&lastEventID=earliest'));
  t.after(() => all.close());
  await all.waitFor(event);
});

test('an unknown method answers 405 with the security headers; outside the hub it reaches the site routes', async (t) => {
  const port = await hubSite(t);
  const r = await raw(port, 'FOO /.well-known/mercure?topic=a HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n');
  assert.equal(r.status, 405);
  assert.equal(r.body.length, 0);
  assert.equal(header(r, 'x-frame-options')[0], 'DENY');
  assert.equal(header(r, 'x-content-type-options')[0], 'nosniff');
  assert.equal(header(r, 'x-xss-protection')[0], '1; mode=block');
  assert.equal(header(r, 'content-security-policy')[0], "default-src 'self'");
  assert.equal(header(r, 'connection')[0], 'close', 'the connection closes after a replayed request');
  // With a body, as any request; outside the hub the site's own route answers.
  const other = await raw(port, 'PURGEALL /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc');
  assert.equal(other.status, 418);
  assert.equal(other.body.toString(), 'not the hub');
  // A malformed request line still gets a plain 400.
  const bad = await raw(port, 'FOO\r\n\r\n');
  assert.equal(bad.status, 400);
});
