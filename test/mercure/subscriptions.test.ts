/**
 * Subscription events and the subscriptions API (checklist 99–110).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mintToken } from '../../src/mercure/token.ts';
import { HUB, S, baseConfig, http, startHub, subscribe, subToken, topics, waitSubscribers, type TestHub } from './harness.ts';

const API = `${HUB}/subscriptions`;
const ALL = [`${API}{/topic}{/subscriber}`];

async function hub(t: import('node:test').TestContext, extra = {}): Promise<TestHub> {
  const h = await startHub(baseConfig({ subscriptions: true, ...extra }));
  t.after(() => h.close());
  return h;
}

const bearer = async (subscribe: string[], extra = {}) => ({ Authorization: `Bearer ${await subToken(subscribe, extra)}` });

test('API authorisation (99-101, 110)', async (t) => {
  const h = await hub(t);
  assert.equal((await http(h.url + API)).status, 401, '99 no token');
  assert.equal((await http(h.url + API)).body, 'Unauthorized\n');
  assert.equal((await http(h.url + API, { headers: await bearer(['https://example.com/{x}']) })).status, 401, '100 selectors do not match the URI');
  assert.equal((await http(h.url + API, { headers: await bearer([API]) })).status, 200, 'exact URI selector');
  assert.equal((await http(`${h.url}${API}/x`, { headers: await bearer([API]) })).status, 401, 'exact selector only authorises the root');
  assert.equal((await http(h.url + API, { headers: { Authorization: `Bearer ${await mintToken({ key: S, publish: ['*'] })}` } })).status, 401, 'no subscribe claim');
  const anonymousOnly = await startHub({ publisher_jwt: { key: 'p' }, anonymous: true, subscriptions: true, transport: { name: 'local' } });
  t.after(() => anonymousOnly.close());
  assert.equal((await http(anonymousOnly.url + API)).status, 200, '101 anonymous hub without subscriber key: open API');
  const off = await startHub(baseConfig());
  t.after(() => off.close());
  const r = await http(off.url + API, { headers: await bearer(['*']) });
  assert.equal(r.status, 404, '110');
  assert.equal(r.body, '404 page not found\n');
  assert.equal((await http(h.url + API, { method: 'HEAD', headers: await bearer(['*']) })).status, 405, 'HEAD → 405');
  assert.equal((await http(h.url + API + '/', { headers: await bearer(['*']) })).status, 404, 'trailing slash');
});

test('collection, per-topic and single documents, byte for byte (102, 104-106)', async (t) => {
  const h = await hub(t);
  assert.equal((await http(h.url + API, { headers: { ...(await bearer(ALL)), 'If-None-Match': 'earliest' } })).status, 304, '103 fresh hub');
  const tok = await subToken(['https://example.com/{x}'], { payload: { b: 1, a: '<&>' } });
  const s = await subscribe(h.url, topics('https://example.com/{selector}', 'https://example.com/b'), { Authorization: `Bearer ${tok}` });
  t.after(() => s.close());
  await waitSubscribers(h, 1);
  const { subscribers, lastEventId } = await h.hub.runtime.transport.subscribers();
  const id = subscribers[0]!.id;
  const escId = encodeURIComponent(id);
  assert.match(id, /^urn:uuid:[0-9a-f-]{36}$/);
  assert.match(lastEventId, /^urn:uuid:/, 'subscription events advance lastEventID');

  const res = await http(`${h.url}${API}?x=1`, { headers: await bearer(['*']) }); // the query is part of the matched URI
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'application/ld+json');
  assert.equal(res.headers.etag, lastEventId);
  const entry = (topic: string, esc: string) => [
    '    {',
    `      "id": "/.well-known/mercure/subscriptions/${esc}/${escId}",`,
    '      "type": "Subscription",',
    `      "subscriber": "${id}",`,
    `      "topic": "${topic}",`,
    '      "active": true,',
    '      "payload": {',
    '        "a": "\\u003c\\u0026\\u003e",',
    '        "b": 1',
    '      }',
    '    }',
  ].join('\n');
  assert.equal(res.body, [
    '{',
    '  "@context": "https://mercure.rocks/",',
    '  "id": "/.well-known/mercure/subscriptions?x=1",',
    '  "type": "Subscriptions",',
    `  "lastEventID": "${lastEventId}",`,
    '  "subscriptions": [',
    entry('https://example.com/{selector}', 'https%3A%2F%2Fexample.com%2F%7Bselector%7D') + ',',
    entry('https://example.com/b', 'https%3A%2F%2Fexample.com%2Fb'),
    '  ]',
    '}',
  ].join('\n'));

  const perTopic = await http(`${h.url}${API}/https%3A%2F%2Fexample.com%2Fb`, { headers: await bearer(ALL) });
  const doc = JSON.parse(perTopic.body);
  assert.equal(doc.id, '/.well-known/mercure/subscriptions/https%3A%2F%2Fexample.com%2Fb');
  assert.deepEqual(doc.subscriptions.map((x: { topic: string }) => x.topic), ['https://example.com/b'], '104');
  const none = JSON.parse((await http(`${h.url}${API}/nothing`, { headers: await bearer(ALL) })).body);
  assert.deepEqual(none.subscriptions, []);

  const single = await http(`${h.url}${API}/https%3A%2F%2Fexample.com%2Fb/${escId}`, { headers: await bearer(ALL) });
  assert.equal(single.status, 200);
  assert.equal(single.body, [
    '{',
    '  "@context": "https://mercure.rocks/",',
    `  "id": "/.well-known/mercure/subscriptions/https%3A%2F%2Fexample.com%2Fb/${escId}",`,
    '  "type": "Subscription",',
    `  "subscriber": "${id}",`,
    '  "topic": "https://example.com/b",',
    '  "active": true,',
    `  "lastEventID": "${lastEventId}",`,
    '  "payload": {',
    '    "a": "\\u003c\\u0026\\u003e",',
    '    "b": 1',
    '  }',
    '}',
  ].join('\n'), '105');
  const unknown = await http(`${h.url}${API}/https%3A%2F%2Fexample.com%2Fb/urn%3Auuid%3Anope`, { headers: await bearer(ALL) });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body, '404 page not found\n');
  assert.equal(unknown.headers.etag, lastEventId, 'ETag stays on the 404');
  const notModified = await http(h.url + API, { headers: { ...(await bearer(ALL)), 'If-None-Match': lastEventId } });
  assert.equal(notModified.status, 304);
  assert.equal(notModified.body, '');
  assert.equal(notModified.headers['content-type'], undefined);
});

test('subscription events: active/inactive, payload, who receives them (107-109)', async (t) => {
  const h = await hub(t);
  const watcher = await subscribe(h.url, topics(`${API}{/topic}{/subscriber}`), await bearer(ALL));
  t.after(() => watcher.close());
  const blind = await subscribe(h.url, topics(`${API}{/topic}{/subscriber}`), await bearer(['https://example.com/{x}']));
  t.after(() => blind.close());
  const anon = await startHub(baseConfig({ subscriptions: true, anonymous: true }));
  t.after(() => anon.close());

  const s = await subscribe(h.url, topics('https://example.com'), await bearer(['https://example.com/x'], { payload: { foo: 'bar' } }));
  await watcher.waitForText('"topic": "https://example.com"');
  const id = /"subscriber": "(urn:uuid:[^"]+)",\ndata:   "topic": "https:\/\/example.com"/.exec(watcher.text)![1]!;
  const sid = `/.well-known/mercure/subscriptions/https%3A%2F%2Fexample.com/${encodeURIComponent(id)}`;
  const data = (active: boolean) => [
    '{', '  "@context": "https://mercure.rocks/",', `  "id": "${sid}",`, '  "type": "Subscription",',
    `  "subscriber": "${id}",`, '  "topic": "https://example.com",', `  "active": ${active},`,
    '  "payload": {', '    "foo": "bar"', '  }', '}',
  ].map((l) => `data: ${l}\n`).join('');
  assert.match(watcher.text, new RegExp(`id: urn:uuid:[0-9a-f-]+\n${escapeRe(data(true))}\n`), '107 connect');
  s.close();
  await watcher.waitForText('"active": false');
  assert.match(watcher.text, new RegExp(`${escapeRe(data(false))}\n$`), '107 disconnect');
  assert.equal(s.text.includes('Subscription'), false, '109 never its own event');
  assert.equal(blind.text.includes('Subscription'), false, '108 no matching JWT selector');

  const a = await subscribe(anon.url, topics('*'));
  t.after(() => a.close());
  const other = await subscribe(anon.url, topics('https://example.com/z'));
  other.close();
  await waitSubscribers(anon, 1);
  assert.equal(a.text.includes('Subscription'), false, 'anonymous subscribers never get subscription events');
});

function escapeRe(s: string): string { return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); }
