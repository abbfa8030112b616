/**
 * Last-Event-ID and history with the bolt transport (checklist 45–60), and
 * the local transport's answer (56).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HUB, baseConfig, http, publish, pubToken, startHub, subscribe, subToken, topics, type TestHub } from './harness.ts';

const A = 'https://example.com/a';
const B = 'https://example.com/b';

async function boltHub(t: import('node:test').TestContext, extra = {}, dataDir?: string): Promise<TestHub> {
  const h = await startHub(baseConfig({ anonymous: true, transport: { name: 'bolt' }, ...extra }), dataDir ? { dataDir } : {});
  t.after(() => h.close());
  return h;
}

/** Publishes updates a, b, c, d on A (and x on B, private y on A). */
async function seed(h: TestHub): Promise<void> {
  const tok = await pubToken();
  for (const id of ['a', 'b']) await publish(h.url, tok, [['topic', A], ['data', id], ['id', id]]);
  await publish(h.url, tok, [['topic', B], ['data', 'x'], ['id', 'x']]);
  await publish(h.url, tok, [['topic', A], ['data', 'y'], ['id', 'y'], ['private', 'on']]);
  for (const id of ['c', 'd']) await publish(h.url, tok, [['topic', A], ['data', id], ['id', id]]);
}

const ev = (id: string) => `id: ${id}\ndata: ${id}\n\n`;

test('replay after an ID: header, query, legacy query, precedence (45-48, 50, 57)', async (t) => {
  const h = await boltHub(t);
  const legacy = await boltHub(t, { protocol_version_compatibility: 7 });
  await seed(h);
  await seed(legacy);
  const cases: { name: string; h: TestHub; query: string; headers?: Record<string, string>; replay: string; header?: string }[] = [
    { name: '45 header', h, query: topics(A), headers: { 'Last-Event-ID': 'b' }, replay: ev('c') + ev('d'), header: 'b' },
    { name: '46 query lastEventID', h, query: `${topics(A)}&lastEventID=b`, replay: ev('c') + ev('d'), header: 'b' },
    { name: '47 legacy query ignored without compat 7', h, query: `${topics(A)}&Last-Event-ID=b`, replay: '' },
    { name: '47 legacy query with compat 7', h: legacy, query: `${topics(A)}&Last-Event-ID=b`, replay: ev('c') + ev('d'), header: 'b' },
    { name: '48 header wins over query', h, query: `${topics(A)}&lastEventID=c`, headers: { 'Last-Event-ID': 'a' }, replay: ev('b') + ev('c') + ev('d'), header: 'a' },
    { name: 'empty header falls back to the query', h, query: `${topics(A)}&lastEventID=c`, headers: { 'Last-Event-ID': '' }, replay: ev('d'), header: 'c' },
    { name: '57 filters unsubscribed and private', h, query: topics(A), headers: { 'Last-Event-ID': 'a' }, replay: ev('b') + ev('c') + ev('d'), header: 'a' },
  ];
  for (const c of cases) {
    const s = await subscribe(c.h.url, c.query, c.headers);
    try {
      if (c.replay) await s.waitForText(c.replay);
      assert.equal(s.text, ':\n' + c.replay, c.name);
      assert.equal(s.headers['last-event-id'], c.header, c.name);
    } finally { s.close(); }
  }
});

test('earliest, unknown IDs and private IDs (49, 51-54, 57)', async (t) => {
  const h = await boltHub(t);
  const empty = await boltHub(t);
  await seed(h);
  const all = await subscribe(h.url, topics(A), { 'Last-Event-ID': 'earliest' });
  t.after(() => all.close());
  await all.waitForText(ev('d'));
  assert.equal(all.text, ':\n' + ev('a') + ev('b') + ev('c') + ev('d'), '49: full matching history in order');
  assert.equal(all.headers['last-event-id'], 'earliest', '51');

  const priv = await subscribe(h.url, topics(A), { 'Last-Event-ID': 'earliest', Authorization: `Bearer ${await subToken([A])}` });
  t.after(() => priv.close());
  await priv.waitForText(ev('d'));
  assert.equal(priv.text, ':\n' + ev('a') + ev('b') + ev('y') + ev('c') + ev('d'), '57: authorised private replayed');

  const unknown = await subscribe(h.url, topics(B), { 'Last-Event-ID': 'nope' });
  t.after(() => unknown.close());
  assert.equal(unknown.text, ':\n', '52: no replay');
  assert.equal(unknown.headers['last-event-id'], 'x', '52: last matching stored ID');

  const tok = await pubToken();
  await publish(h.url, tok, [['topic', B], ['data', 'z'], ['id', 'z'], ['private', 'on']]);
  const noLeak = await subscribe(h.url, topics(B), { 'Last-Event-ID': 'nope' });
  t.after(() => noLeak.close());
  assert.equal(noLeak.headers['last-event-id'], 'x', '54: never a private ID the subscriber cannot read');

  const e = await subscribe(empty.url, topics(A), { 'Last-Event-ID': 'nope' });
  t.after(() => e.close());
  assert.equal(e.headers['last-event-id'], 'earliest', '53');
});

test('replay then live without gap or duplicate (58)', async (t) => {
  const h = await boltHub(t);
  await seed(h);
  const s = await subscribe(h.url, topics(A), { 'Last-Event-ID': 'c' });
  t.after(() => s.close());
  const tok = await pubToken();
  await publish(h.url, tok, [['topic', A], ['data', 'e'], ['id', 'e']]);
  await s.waitForText(ev('e'));
  assert.equal(s.text, ':\n' + ev('d') + ev('e'));
});

test('local transport: any requested ID → earliest, no replay (56)', async (t) => {
  const h = await startHub(baseConfig({ anonymous: true }));
  t.after(() => h.close());
  await publish(h.url, await pubToken(), [['topic', A], ['id', 'a']]);
  const s = await subscribe(h.url, topics(A), { 'Last-Event-ID': 'a' });
  t.after(() => s.close());
  assert.equal(s.headers['last-event-id'], 'earliest');
  assert.equal(s.text, ':\n');
});

test('size 5 with cleanup_frequency 1 keeps 5 records (59)', async (t) => {
  const h = await boltHub(t, { transport: { name: 'bolt', size: 5, cleanup_frequency: 1 } });
  const tok = await pubToken();
  for (let i = 1; i <= 12; i++) await publish(h.url, tok, [['topic', A], ['data', String(i)], ['id', `u${i}`]]);
  const s = await subscribe(h.url, topics(A), { 'Last-Event-ID': 'earliest' });
  t.after(() => s.close());
  await s.waitForText('id: u12\n');
  assert.deepEqual([...s.text.matchAll(/id: (u\d+)/g)].map((m) => m[1]), ['u8', 'u9', 'u10', 'u11', 'u12']);
});

test('the last event ID survives a restart (60)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qs-bolt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const first = await startHub(baseConfig({ anonymous: true, subscriptions: true, transport: { name: 'bolt' } }), { dataDir: dir });
  await publish(first.url, await pubToken(), [['topic', A], ['id', 'persisted']]);
  await first.close();
  const second = await boltHub(t, { subscriptions: true }, dir);
  const api = await http(`${second.url}${HUB}/subscriptions`, { headers: { Authorization: `Bearer ${await subToken()}` } });
  assert.equal(api.headers.etag, 'persisted');
  assert.equal(JSON.parse(api.body).lastEventID, 'persisted');
});

test('a replay longer than 1000 updates delivers 1000, then ends the stream; resuming continues', async (t) => {
  const h = await boltHub(t);
  const tok = await pubToken();
  for (let i = 1; i <= 1050; i++) await publish(h.url, tok, [['topic', A], ['data', 'x'], ['id', `n${i}`]]);
  const s = await subscribe(h.url, topics(A), { 'Last-Event-ID': 'earliest' });
  await s.closed;
  const ids = [...s.text.matchAll(/id: (n\d+)/g)].map((m) => m[1]);
  assert.equal(ids.length, 1000);
  assert.equal(ids.at(-1), 'n1000');
  const resumed = await subscribe(h.url, topics(A), { 'Last-Event-ID': 'n1000' });
  t.after(() => resumed.close());
  await resumed.waitForText('id: n1050\n');
  assert.equal([...resumed.text.matchAll(/id: (n\d+)/g)].length, 50);
});

test('IDs with surrounding whitespace are refused at publish; inner whitespace resumes by header (trimmed by HTTP) and by lastEventID', async (t) => {
  const h = await boltHub(t);
  const tok = await pubToken();
  for (const id of [' lead', 'trail ', '\ttab', 'tab\t', ' ']) {
    const r = await publish(h.url, tok, [['topic', A], ['data', 'x'], ['id', id]]);
    assert.deepEqual([r.status, r.body], [400, '"id" field must not start or end with a space or a tab\n'], JSON.stringify(id));
  }
  for (const id of ['in ner', 'after']) assert.equal((await publish(h.url, tok, [['topic', A], ['data', id], ['id', id]])).status, 200);
  // A header value arrives trimmed (what an EventSource reconnect sends for "in ner" is exactly that).
  const byHeader = await subscribe(h.url, topics(A), { 'Last-Event-ID': '  in ner\t ' });
  try {
    await byHeader.waitForText(ev('after'));
    assert.equal(byHeader.text, ':\n' + ev('after'));
    assert.equal(byHeader.headers['last-event-id'], 'in ner');
  } finally { byHeader.close(); }
  const byQuery = await subscribe(h.url, `${topics(A)}&lastEventID=${encodeURIComponent('in ner')}`);
  try {
    await byQuery.waitForText(ev('after'));
    assert.equal(byQuery.text, ':\n' + ev('after'));
  } finally { byQuery.close(); }
});
