/**
 * Publish (§1.4): every status/body row, checklist items 61–82.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mintToken } from '../../src/mercure/token.ts';
import { HUB, P, baseConfig, form, http, publish, pubToken, startHub, subscribe, topics, type TestHub } from './harness.ts';

async function hub(t: import('node:test').TestContext, extra = {}): Promise<TestHub> {
  const h = await startHub(baseConfig(extra));
  t.after(() => h.close());
  return h;
}

function post(h: TestHub, body: string, headers: Record<string, string>): ReturnType<typeof http> {
  return http(h.url + HUB, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, body });
}

test('publish: authorisation failures answer 401 Unauthorized (61-64, 66-68)', async (t) => {
  const h = await hub(t);
  const cases: [string, string | undefined, [string, string][]][] = [
    ['61 no token', undefined, [['topic', 'a']]],
    ['62 wrong key', await mintToken({ key: 'another key', publish: ['*'] }), [['topic', 'a']]],
    ['62 no mercure.publish claim', await mintToken({ key: P, subscribe: ['*'] }), [['topic', 'a']]],
    ['63 alg none', 'eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJtZXJjdXJlIjp7InB1Ymxpc2giOlsiKiJdfX0.', [['topic', 'a']]],
    ['64 empty publish array', await pubToken([]), [['topic', 'a']]],
    ['66 private outside selectors', await pubToken(['https://example.com/allowed']), [['topic', 'https://example.com/other'], ['private', 'on']]],
    ['67 one topic outside selectors', await pubToken(['https://example.com/{id}']), [['topic', 'https://example.com/1'], ['topic', 'https://other.example/1']]],
    ['68 1001 selectors', await pubToken(Array.from({ length: 1001 }, (_, i) => `https://example.com/${i}`)), [['topic', 'https://example.com/1']]],
    ['expired token', await mintToken({ key: P, publish: ['*'], claims: { exp: Math.floor(Date.now() / 1000) - 10 } }), [['topic', 'a']]],
    ['malformed token', 'a.b.c'.padEnd(60, 'x'), [['topic', 'a']]],
  ];
  for (const [name, token, pairs] of cases) {
    const res = await post(h, form(pairs), token === undefined ? {} : { Authorization: `Bearer ${token}` });
    assert.equal(res.status, 401, name);
    assert.equal(res.body, 'Unauthorized\n', name);
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8', name);
  }
});

test('publish: validation errors (69-74, 80)', async (t) => {
  const h = await hub(t);
  const tok = await pubToken();
  const auth = { Authorization: `Bearer ${tok}` };
  const many = Array.from({ length: 1001 }, (_, i): [string, string] => ['topic', `https://example.com/${i}`]);
  const cases: { name: string; body: string; headers?: Record<string, string>; path?: string; status: number; text: string }[] = [
    { name: '69 bad content type', body: 'topic=a', headers: { 'Content-Type': 'text/plain; boundary=' }, status: 400, text: 'Bad Request\n' },
    { name: '70 no topic', body: form([['data', 'x']]), status: 400, text: 'Missing "topic" parameter\n' },
    { name: '71 1001 topics', body: form(many), status: 400, text: 'too many topics in update\n' },
    { name: '72 retry invalid', body: form([['topic', 'a'], ['retry', 'invalid']]), status: 400, text: 'Invalid "retry" parameter\n' },
    { name: '72 retry negative', body: form([['topic', 'a'], ['retry', '-1']]), status: 400, text: 'Invalid "retry" parameter\n' },
    { name: '72 retry plus', body: form([['topic', 'a'], ['retry', '+5']]), status: 400, text: 'Invalid "retry" parameter\n' },
    { name: '73 reserved exact', body: form([['topic', '/.well-known/mercure']]), status: 403, text: '"/.well-known/mercure": topic value references the reserved "/.well-known/mercure" namespace\n' },
    { name: '73 reserved url', body: form([['topic', 'https://example.com/.well-known/mercure/subscriptions/x']]), status: 403, text: '"https://example.com/.well-known/mercure/subscriptions/x": topic value references the reserved "/.well-known/mercure" namespace\n' },
    { name: '73 reserved alternate', body: form([['topic', 'https://example.com/a'], ['topic', 'x/.well-known/mercure']]), status: 403, text: '"x/.well-known/mercure": topic value references the reserved "/.well-known/mercure" namespace\n' },
    { name: '74 LF in id', body: form([['topic', 'a'], ['id', 'a\nid: b']]), status: 400, text: '"id" field contains a forbidden control character\n' },
    { name: '74 CR in id', body: form([['topic', 'a'], ['id', 'a\rb']]), status: 400, text: '"id" field contains a forbidden control character\n' },
    { name: '74 NUL in id', body: form([['topic', 'a'], ['id', 'a\0b']]), status: 400, text: '"id" field contains a forbidden control character\n' },
    { name: '74 LF in type', body: form([['topic', 'a'], ['type', 'x\ndata: y']]), status: 400, text: '"type" field contains a forbidden control character\n' },
    { name: '80 topic only in the URL query', body: form([['data', 'x']]), path: '?topic=a', status: 400, text: 'Missing "topic" parameter\n' },
    { name: 'multipart is not parsed', body: '--b\r\nContent-Disposition: form-data; name="topic"\r\n\r\na\r\n--b--\r\n', headers: { 'Content-Type': 'multipart/form-data; boundary=b' }, status: 400, text: 'Missing "topic" parameter\n' },
    { name: 'semicolon pair in body', body: 'topic=a;b', status: 400, text: 'Bad Request\n' },
    { name: 'bad escape in body', body: 'topic=%zz', status: 400, text: 'Bad Request\n' },
    { name: 'bad escape in URL query', body: form([['topic', 'a']]), path: '?x=%zz', status: 400, text: 'Bad Request\n' },
  ];
  for (const c of cases) {
    const res = await http(h.url + HUB + (c.path ?? ''), {
      method: 'POST', body: c.body,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...auth, ...c.headers },
    });
    assert.equal(res.status, c.status, c.name);
    assert.equal(res.body, c.text, c.name);
  }
});

test('publish: body over 10 MiB → 400, exactly 10 MiB accepted', async (t) => {
  const h = await hub(t);
  const tok = await pubToken();
  const prefix = 'topic=a&data=';
  const exact = prefix + 'x'.repeat((10 << 20) - prefix.length);
  const ok = await post(h, exact, { Authorization: `Bearer ${tok}` });
  assert.equal(ok.status, 200);
  const tooBig = await post(h, exact + 'x', { Authorization: `Bearer ${tok}` });
  assert.equal(tooBig.status, 400);
  assert.equal(tooBig.body, 'Bad Request\n');
});

test('publish: success responses (75-78, 65)', async (t) => {
  const h = await hub(t);
  const tok = await pubToken();
  const custom = await publish(h.url, tok, [['topic', 'https://example.com/books/1'], ['id', 'custom-id'], ['data', 'x']]);
  assert.equal(custom.status, 200);
  assert.equal(custom.body, 'custom-id'); // 75: exactly the ID, no newline
  assert.match(custom.headers['content-type']!, /^text\/plain/); // 78
  assert.equal(custom.headers['content-type'], 'text/plain; charset=utf-8');

  const generated = await publish(h.url, tok, [['topic', 'https://example.com/books/1']]); // 77 no data
  assert.equal(generated.status, 200);
  assert.match(generated.body, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/); // 76 (v7)

  const legacy = await startHub(baseConfig({ protocol_version_compatibility: 7 }));
  t.after(() => legacy.close());
  const pub = await publish(legacy.url, await pubToken([]), [['topic', 'https://example.com/1']]); // 65
  assert.equal(pub.status, 200);
  const priv = await publish(legacy.url, await pubToken([]), [['topic', 'https://example.com/1'], ['private', '']]);
  assert.equal(priv.status, 401);
});

test('publish: the subscriber receives exactly what was published (id, type, retry, private with empty value)', async (t) => {
  const h = await hub(t);
  const s = await subscribe(h.url, topics('https://example.com/{id}'), { Authorization: `Bearer ${await import('./harness.ts').then((m) => m.subToken())}` });
  t.after(() => s.close());
  const tok = await pubToken();
  await publish(h.url, tok, [['topic', 'https://example.com/1'], ['data', 'a'], ['id', 'one'], ['type', 'greeting'], ['retry', '5']]);
  await publish(h.url, tok, [['topic', 'https://example.com/2'], ['data', 'b'], ['id', 'two'], ['private', '']]);
  await s.waitForText('id: two\n');
  assert.equal(s.text, ':\nevent: greeting\nretry: 5\nid: one\ndata: a\n\nid: two\ndata: b\n\n');
});

test('publish: POST when publishing is disabled → 405 (81)', async (t) => {
  const { MercureHub } = await import('../../src/mercure/hub.ts');
  MercureHub.allowNoPublish = true;
  t.after(() => { MercureHub.allowNoPublish = false; });
  const h = await startHub({ subscriber_jwt: { key: 'S' }, transport: { name: 'local' } });
  t.after(() => h.close());
  const res = await http(h.url + HUB, { method: 'POST', body: 'topic=a', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  assert.equal(res.status, 405);
  assert.equal(res.body, '');
});

test('publish: transport closed → 500 Internal Server Error (79)', async (t) => {
  const h = await hub(t);
  const tok = await pubToken();
  await h.hub.runtime.transport.close();
  const res = await publish(h.url, tok, [['topic', 'a']]);
  assert.equal(res.status, 500);
  assert.equal(res.body, 'Internal Server Error\n');
});

test('publish: fuzz — any field values give 200 echoing the id, or 400 (82)', async (t) => {
  const h = await hub(t);
  const tok = await pubToken();
  const alphabet = ['a', '\n', '\r', '\0', ' ', 'é', '{', '}', '%', '&', '=', '-', '1', '/.well-known/mercure'];
  let seed = 42;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const str = () => Array.from({ length: rnd(6) }, () => alphabet[rnd(alphabet.length)]).join('');
  for (let i = 0; i < 60; i++) {
    const pairs: [string, string][] = [['topic', str() || 't'], ['id', str()], ['data', str()], ['type', str()], ['retry', rnd(2) ? String(rnd(100)) : str()]];
    if (rnd(2)) pairs.push(['private', str()]);
    const res = await publish(h.url, tok, pairs);
    const id = pairs[1]![1];
    if (res.status === 200) {
      if (id !== '') assert.equal(res.body, id);
      else assert.match(res.body, /^urn:uuid:/);
    } else {
      assert.ok(res.status === 400 || res.status === 403, `unexpected ${res.status} for ${JSON.stringify(pairs)}`);
      assert.ok(res.body.endsWith('\n'));
    }
  }
});
