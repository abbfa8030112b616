/**
 * The SSE stream: headers, exact bytes, heartbeats, lifetime (checklist 12–23, 25–26).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mintToken } from '../../src/mercure/token.ts';
import { S, baseConfig, http, publish, pubToken, startHub, subscribe, subToken, topics, waitSubscribers, type TestHub } from './harness.ts';

async function hub(t: import('node:test').TestContext, extra = {}): Promise<TestHub> {
  const h = await startHub(baseConfig({ anonymous: true, ...extra }));
  t.after(() => h.close());
  return h;
}

test('stream headers and the opening comment (12, 13)', async (t) => {
  const h = await hub(t);
  const s = await subscribe(h.url, topics('https://example.com/books/1'));
  t.after(() => s.close());
  assert.equal(s.status, 200);
  assert.equal(s.text, ':\n');
  const expected: Record<string, string> = {
    'content-type': 'text/event-stream',
    'cache-control': 'private, no-cache, no-store, must-revalidate, max-age=0',
    pragma: 'no-cache',
    expire: '0',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
    'transfer-encoding': 'chunked',
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'x-xss-protection': '1; mode=block',
    'content-security-policy': "default-src 'self'",
  };
  for (const [k, v] of Object.entries(expected)) assert.equal(s.headers[k], v, k);
  assert.equal(s.headers['last-event-id'], undefined, '55: no Last-Event-ID when none requested');
  assert.equal(s.headers.expires, undefined);
});


test('event bytes: no type/retry, field order, line breaks, empty data, dedup (14-17, 21)', async (t) => {
  const h = await hub(t);
  const s = await subscribe(h.url, topics('https://example.com/a', 'https://example.com/{x}'));
  t.after(() => s.close());
  const tok = await pubToken();
  await publish(h.url, tok, [['topic', 'https://example.com/a'], ['data', 'Hello World'], ['id', 'b']]);
  await publish(h.url, tok, [['topic', 'https://example.com/a'], ['data', 'several\nlines\rwith\r\neol'], ['id', 'custom-id'], ['type', 'type'], ['retry', '5']]);
  await publish(h.url, tok, [['topic', 'https://example.com/a'], ['id', 'empty']]);
  await publish(h.url, tok, [['topic', 'https://example.com/a'], ['data', 'ends\n'], ['id', 'nl']]);
  // 21: both topics match both selectors → delivered once.
  await publish(h.url, tok, [['topic', 'https://example.com/a'], ['topic', 'https://example.com/b'], ['data', 'once'], ['id', 'twice']]);
  await s.waitForText('id: twice\ndata: once\n\n');
  assert.equal(s.text,
    ':\nid: b\ndata: Hello World\n\n' +
    'event: type\nretry: 5\nid: custom-id\ndata: several\ndata: lines\ndata: with\ndata: eol\n\n' +
    'id: empty\ndata: \n\n' +
    'id: nl\ndata: ends\ndata: \n\n' +
    'id: twice\ndata: once\n\n');
});

test('heartbeat after the idle interval; restarts after each event (18, 19)', async (t) => {
  const h = await hub(t, { heartbeat: '400ms' });
  const s = await subscribe(h.url, topics('https://example.com/a'));
  t.after(() => s.close());
  const tok = await pubToken();
  // Publish mid-interval; the next heartbeat must come a full interval after the event.
  await new Promise((r) => setTimeout(r, 200));
  await publish(h.url, tok, [['topic', 'https://example.com/a'], ['data', 'Hello World'], ['id', 'b']]);
  await s.waitForText('data: Hello World\n\n');
  const afterEvent = performance.now();
  await s.waitForText('\n\n:\n', 3000);
  const gap = performance.now() - afterEvent;
  // Under load the first heartbeat may beat the publish; what follows the event is exact.
  assert.match(s.text, /^(:\n)+id: b\ndata: Hello World\n\n:\n$/);
  assert.ok(gap >= 300, `heartbeat came ${gap.toFixed(0)} ms after the event; the timer must restart`);
});

test('heartbeat 0 disables heartbeats; the stream ends cleanly within write_timeout (20, 22)', async (t) => {
  const h = await hub(t, { heartbeat: '0s', write_timeout: '600ms', dispatch_timeout: '100ms' });
  const start = performance.now();
  const s = await subscribe(h.url, topics('https://example.com/a'));
  await s.closed;
  const life = performance.now() - start;
  assert.equal(s.text, ':\n', 'no heartbeat');
  assert.ok(s.ended);
  // 80–100 % of 600 ms, minus the 100 ms dispatch timeout: 380…500 ms (+ scheduling slack).
  assert.ok(life >= 370 && life < 800, `lifetime ${life.toFixed(0)} ms`);
});

test('stream lifetimes are jittered between 80 and 100 % of write_timeout', async (t) => {
  const h = await hub(t, { heartbeat: '0s', write_timeout: '1s', dispatch_timeout: '0s' });
  const lives: number[] = [];
  await Promise.all(Array.from({ length: 6 }, async () => {
    const start = performance.now();
    const s = await subscribe(h.url, topics('a'));
    await s.closed;
    lives.push(performance.now() - start);
  }));
  for (const l of lives) assert.ok(l >= 790 && l < 1300, `lifetime ${l.toFixed(0)} ms`);
  assert.ok(Math.max(...lives) - Math.min(...lives) > 5, 'lifetimes differ');
});

test('a token with exp ends the stream before exp (23)', async (t) => {
  const h = await hub(t, { dispatch_timeout: '100ms', heartbeat: '0s' });
  const exp = Math.floor(Date.now() / 1000) + 2;
  const tok = await mintToken({ key: S, subscribe: ['*'], claims: { exp } });
  const s = await subscribe(h.url, topics('a'), { Authorization: `Bearer ${tok}` });
  assert.equal(s.status, 200);
  await s.closed;
  assert.ok(Date.now() < exp * 1000, 'closed before exp');
});

test('a client disconnect removes the subscriber (25); metrics follow', async (t) => {
  const h = await hub(t, { subscriptions: true });
  const s = await subscribe(h.url, topics('https://example.com/a'));
  await waitSubscribers(h, 1);
  s.close();
  await waitSubscribers(h, 0);
  const api = await http(`${h.url}/.well-known/mercure/subscriptions`, { headers: { Authorization: `Bearer ${await subToken()}` } });
  assert.equal(api.status, 200);
  assert.deepEqual(JSON.parse(api.body).subscriptions, []);
});

test('hub stop: write_timeout 0 closes streams, write_timeout > 0 leaves them to their timers (26)', async (t) => {
  const zero = await startHub(baseConfig({ anonymous: true, write_timeout: '0s' }));
  t.after(() => zero.close());
  const s0 = await subscribe(zero.url, topics('a'));
  await zero.hub.cleanup();
  await s0.closed;
  assert.ok(s0.ended);

  const kept = await startHub(baseConfig({ anonymous: true, heartbeat: '50ms' }));
  t.after(() => kept.close());
  const s1 = await subscribe(kept.url, topics('a'));
  t.after(() => s1.close());
  await kept.hub.cleanup();
  await s1.waitFor((x) => x.split(':\n').length >= 3); // still beating after the stop
  assert.equal(s1.ended, false);
});

test('subscriber tokens may use a subscribe claim absent: public only', async (t) => {
  const h = await hub(t);
  const s = await subscribe(h.url, topics('https://example.com/a'), { Authorization: `Bearer ${await mintToken({ key: S, payload: { a: 1 } })}` });
  t.after(() => s.close());
  const tok = await pubToken();
  await publish(h.url, tok, [['topic', 'https://example.com/a'], ['data', 'secret'], ['private', 'on'], ['id', 'p']]);
  await publish(h.url, tok, [['topic', 'https://example.com/a'], ['data', 'public'], ['id', 'q']]);
  await s.waitForText('id: q\n');
  assert.equal(s.text, ':\nid: q\ndata: public\n\n');
});

test('HEAD runs the subscribe handler: headers, no body', async (t) => {
  const h = await hub(t);
  const { request } = await import('node:http');
  const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
    const req = request(`${h.url}/.well-known/mercure?topic=a`, { method: 'HEAD', agent: false }, resolve);
    req.on('error', reject);
    req.end();
  });
  t.after(() => res.destroy());
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-type'], 'text/event-stream');
});
