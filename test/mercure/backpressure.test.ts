/**
 * Slow and stalled subscribers (checklist 24): a client that stops reading
 * is disconnected once its bounded buffer overflows or a write outlives
 * dispatch_timeout; the hub's buffered bytes never exceed the bound, and
 * other subscribers keep receiving everything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { DEFAULT_MAX_BUFFERED_BYTES } from '../../src/mercure/subscriber.ts';
import { HUB, baseConfig, publish, pubToken, startHub, subscribe, topics, waitSubscribers } from './harness.ts';

test('a stalled client is disconnected; buffered bytes stay under the bound; others continue (24)', async (t) => {
  const h = await startHub(baseConfig({ anonymous: true, heartbeat: '0s', dispatch_timeout: '500ms' }));
  t.after(() => h.close());

  const healthy = await subscribe(h.url, topics('a'));
  t.after(() => healthy.close());

  // A raw client that sends the request and never reads a byte.
  const stalled = connect(h.port, '127.0.0.1');
  t.after(() => stalled.destroy());
  await once(stalled, 'connect');
  stalled.pause();
  stalled.write(`GET ${HUB}?topic=a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  await waitSubscribers(h, 2);

  const tok = await pubToken();
  const data = 'x'.repeat(64 * 1024);
  const N = 400; // 25 MiB: more than the kernel buffers of both ends can absorb
  let maxBuffered = 0;
  for (let i = 1; i <= N; i++) {
    const res = await publish(h.url, tok, [['topic', 'a'], ['data', data], ['id', `u${i}`]]);
    assert.equal(res.status, 200);
    maxBuffered = Math.max(maxBuffered, h.hub.bufferedBytes());
  }
  const bound = DEFAULT_MAX_BUFFERED_BYTES + data.length + 64 * 1024; // the bound, plus one event admitted into an empty buffer
  assert.ok(maxBuffered > 0, "the stalled socket made the hub buffer (back-pressure was exercised)");
  assert.ok(maxBuffered <= bound, `buffered ${maxBuffered} bytes > bound ${bound}`);

  // The stalled subscriber is gone from the transport and its stream is destroyed.
  await waitSubscribers(h, 1);
  await h.tc.metrics.getSingleMetric('mercure_subscribers_connected')!.get().then(async function poll(m): Promise<void> {
    if (m.values[0]!.value === 1) return;
    await new Promise((r) => setImmediate(r));
    return poll(await h.tc.metrics.getSingleMetric('mercure_subscribers_connected')!.get());
  });
  assert.equal(h.hub.runtime.streams.size, 1);
  assert.ok(h.hub.bufferedBytes() < bound);

  // The healthy subscriber got every update, in order.
  await healthy.waitForText(`id: u${N}\n`, 20_000);
  const ids = [...healthy.text.matchAll(/^id: (u\d+)$/gm)].map((m) => m[1]);
  assert.equal(ids.length, N);
  assert.equal(ids[0], 'u1');
});
