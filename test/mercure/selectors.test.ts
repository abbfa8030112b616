/**
 * Topic selectors and private updates end to end (checklist 27–44): one
 * table; each row subscribes, publishes one update, then a public sentinel,
 * and checks whether the update arrived before the sentinel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseConfig, publish, pubToken, startHub, subscribe, subToken, topics } from './harness.ts';
import { defaultSelectorStore } from '../../src/topics/topic-selector.ts';

interface Row {
  name: string;
  selectors: string[];
  /** mercure.subscribe of the subscriber's token; undefined = anonymous. */
  jwt?: string[];
  topics: string[];
  private?: string;
  delivered: boolean;
}

const E = 'https://example.com';
const ROWS: Row[] = [
  { name: '27 exact match', selectors: [`${E}/books/1`], topics: [`${E}/books/1`], delivered: true },
  { name: '27 exact only', selectors: [`${E}/books/1`], topics: [`${E}/books/10`], delivered: false },
  { name: '28 template', selectors: [`${E}/reviews/{id}`], topics: [`${E}/reviews/22`], delivered: true },
  { name: '29 template segment', selectors: [`${E}/{foo}/bar`], topics: [`${E}/foo/bar/baz`], delivered: false },
  { name: '30 two variables', selectors: [`${E}/{fistname}/{lastname}`], topics: [`${E}/kevin/dunglas`], delivered: true },
  { name: '31 invalid template matches itself', selectors: [`${E}/hub?topic=faulty{iri`], topics: [`${E}/hub?topic=faulty{iri`], delivered: true },
  { name: '31 invalid template matches nothing else', selectors: [`${E}/hub?topic=faulty{iri`], topics: [`${E}/hub?topic=faultyX`], delivered: false },
  { name: '32 star', selectors: ['*'], topics: ['urn:anything'], delivered: true },
  { name: '33 non-matching template', selectors: ['https://example.net/bar/{var}'], topics: [`${E}/bar/1`], delivered: false },
  { name: '34 one selector of several', selectors: ['urn:nope', `${E}/{id}`], topics: [`${E}/1`], delivered: true },
  { name: '35 one topic of several', selectors: [`${E}/1`], topics: ['urn:other', `${E}/1`], delivered: true },
  { name: '36 {?topic} with encoded value', selectors: [`${E}/users/foo/{?topic}`], topics: [`${E}/users/foo/?topic=https%3A%2F%2Fexample.com%2Fbooks%2F1`], delivered: true },
  { name: '36 {?topic} with two params', selectors: [`${E}/users/foo/{?topic}`], topics: [`${E}/users/foo/?topic=a&x=b`], delivered: false },
  { name: '37 {id} empty segment', selectors: [`${E}/books/{id}`], topics: [`${E}/books/`], delivered: true },
  { name: '37 {id} %2F', selectors: [`${E}/books/{id}`], topics: [`${E}/books/a%2Fb`], delivered: true },
  { name: '37 {id} slash', selectors: [`${E}/books/{id}`], topics: [`${E}/books/a/b`], delivered: false },
  { name: '37 {id} non-ASCII', selectors: [`${E}/books/{id}`], topics: [`${E}/books/é`], delivered: false },
  { name: '38 anonymous never gets private', selectors: ['*'], topics: [`${E}/reviews/22`], private: 'on', delivered: false },
  { name: '39 JWT selector matches', selectors: [`${E}/reviews/{id}`], jwt: [`${E}/reviews/22`], topics: [`${E}/reviews/22`], private: 'on', delivered: true },
  { name: '40 JWT selector differs', selectors: [`${E}/reviews/{id}`], jwt: [`${E}/reviews/21`], topics: [`${E}/reviews/22`], private: 'on', delivered: false },
  { name: '41 JWT star', selectors: [`${E}/reviews/{id}`], jwt: ['*'], topics: [`${E}/reviews/22`], private: 'on', delivered: true },
  { name: '42 alternate topic authorises', selectors: [`${E}/books/{id}`], jwt: [`${E}/users/foo/{?topic}`], topics: [`${E}/books/1`, `${E}/users/foo/?topic=https%3A%2F%2Fexample.com%2Fbooks%2F1`], private: 'on', delivered: true },
  { name: '42 alternate topic of another user', selectors: [`${E}/books/{id}`], jwt: [`${E}/users/foo/{?topic}`], topics: [`${E}/books/1`, `${E}/users/bar/?topic=https%3A%2F%2Fexample.com%2Fbooks%2F1`], private: 'on', delivered: false },
  { name: '43 JWT only, no query selector', selectors: ['urn:unrelated'], jwt: ['*'], topics: [`${E}/reviews/22`], private: 'on', delivered: false },
  { name: '44 private with an empty value', selectors: ['*'], topics: [`${E}/x`], private: '', delivered: false },
  { name: '44 private with an empty value, authorised', selectors: ['*'], jwt: ['*'], topics: [`${E}/x`], private: '', delivered: true },
];

test('topic selectors and private updates (27-44)', async (t) => {
  const h = await startHub(baseConfig({ anonymous: true }));
  t.after(() => h.close());
  const pub = await pubToken();
  let n = 0;
  for (const row of ROWS) {
    n++;
    const headers: Record<string, string> = row.jwt ? { Authorization: `Bearer ${await subToken(row.jwt)}` } : {};
    const s = await subscribe(h.url, topics(...row.selectors, 'urn:sentinel'), headers);
    try {
      assert.equal(s.status, 200, row.name);
      const pairs: [string, string][] = row.topics.map((tp) => ['topic', tp]);
      pairs.push(['data', row.name], ['id', `row-${n}`]);
      if (row.private !== undefined) pairs.push(['private', row.private]);
      assert.equal((await publish(h.url, pub, pairs)).status, 200, row.name);
      assert.equal((await publish(h.url, pub, [['topic', 'urn:sentinel'], ['id', `sentinel-${n}`]])).status, 200);
      await s.waitForText(`id: sentinel-${n}\n`);
      assert.equal(s.text.includes(`id: row-${n}\n`), row.delivered, row.name);
    } finally {
      s.close();
    }
  }
});

test('topic_selector_cache sizes the store delivery matches through, not only publish authorisation', async (t) => {
  const h = await startHub(baseConfig({ anonymous: true, cache: { size: 1000 } }));
  t.after(() => h.close());
  const store = h.hub.runtime.selectors;
  assert.notEqual(store, defaultSelectorStore(), 'a non-default size gets its own store');
  const selector = `${E}/cache-probe/{id}`, topic = `${E}/cache-probe/7`;
  const s = await subscribe(h.url, topics(selector), {});
  try {
    assert.equal((await publish(h.url, await pubToken(), [['topic', topic], ['id', 'cache-probe']])).status, 200);
    await s.waitForText('id: cache-probe\n');
  } finally {
    s.close();
  }
  assert.equal(store.cached(topic, selector), true, 'delivery matched through the hub\'s store');
  assert.equal(defaultSelectorStore().cached(topic, selector), false, 'not through the process-wide one');
});
