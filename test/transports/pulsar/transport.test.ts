/**
 * The Pulsar transport against ONE real standalone broker (started once for
 * this file): the shared conformance suite through the core, two hubs on one
 * topic (cross-node delivery, history by a custom ID read on the other node,
 * shared presence), the module lifecycle (pool sharing, generated
 * subscription name, cleanup after a failed provision), and last, a broker
 * outage: 503 while down, recovery without a restart, no gap.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Fanout } from '../../../src/transports/core/fanout.ts';
import { UsagePool } from '../../../src/host/usage-pool.ts';
import { PulsarBackend, type PulsarBackendOptions } from '../../../src/transports/pulsar/backend.ts';
import { module as pulsarModule } from '../../../src/transports/pulsar/module.ts';
import type { PulsarTransportConfig } from '../../../src/transports/pulsar/index.ts';
import { PulsarBroker, pulsarSkipReason } from '../../helpers/brokers/pulsar.ts';
import { testModuleContext } from '../../helpers/module-context.ts';
import { transportConformance } from '../conformance.ts';
import { moduleConformance } from '../module-conformance.ts';
import { pulsarTransport } from '../../../src/transports/pulsar/index.ts';
import { eventually, fence, Recorder, update } from '../recorder.ts';

const skip = await pulsarSkipReason();
let broker: PulsarBroker;
before(async () => { if (!skip) broker = await PulsarBroker.create(); }, { timeout: 600_000 });
after(() => broker?.destroy());

const topicName = (what = 'mercure') => `${what}-${randomUUID().slice(0, 8)}`;

async function open(topic: string, extra: Partial<PulsarBackendOptions> = {}): Promise<Fanout> {
  const t = new Fanout(new PulsarBackend({ url: broker.url, topic, subscriptionName: `node-${randomUUID().slice(0, 8)}`, nodeId: randomUUID(), operationTimeoutMs: 5_000, ...extra }));
  await t.start();
  return t;
}

transportConformance('pulsar standalone', async () => {
  const transport = await open(topicName('conformance'));
  return { transport, cleanup: () => transport.close() };
}, { history: true, presence: 'shared', skip, timeoutMs: 20_000 });

const BOOK = 'https://example.com/books/1';

moduleConformance<PulsarTransportConfig>({
  descriptor: pulsarTransport,
  skip,
  config: async () => ({ url: broker.url, topic: topicName('module'), subscription_name: `node-${randomUUID().slice(0, 8)}` }),
  different: (c) => ({ ...c, topic: topicName('module') }),
  unreachable: async () => ({ url: 'pulsar://127.0.0.1:1', topic: 't', subscription_name: 'n' }),
  invalid: { url: 'pulsar://h', topic: '' },
  legacy: ['pulsar://p:6650?topic=ha&subscription_name=n1', { url: 'pulsar://p:6650', topic: 'ha', subscription_name: 'n1' }],
});

describe('pulsar transport: two hubs on one topic', { skip }, () => {
  test('cross-node delivery in one order, history by custom ID from the other node, shared presence, last event ID', async () => {
    const topic = topicName();
    const a = await open(topic), b = await open(topic);
    try {
      const onA = new Recorder([BOOK]), onB = new Recorder([BOOK]);
      await a.subscribe(onA);
      await b.subscribe(onB);
      await Promise.all([a.dispatch(update('custom-1', BOOK)), b.dispatch(update('custom-2', BOOK, { data: 'x'.repeat(1 << 20) }))]);
      await a.dispatch(update('custom-3', BOOK));
      await Promise.all([onA.waitFor(3), onB.waitFor(3)]);
      assert.deepEqual(onB.ids(), onA.ids(), 'both nodes see one order');
      const order = onA.ids();
      // History from a custom ID published elsewhere, replayed on B.
      const fromFirst = new Recorder([BOOK]);
      assert.equal(await b.subscribe(fromFirst, order[0]), order[0]);
      await fromFirst.waitFor(2);
      assert.deepEqual(fromFirst.ids(), order.slice(1));
      // Unknown ID: nothing replayed, the header is the last visible update.
      const unknown = new Recorder([BOOK]);
      assert.equal(await a.subscribe(unknown, 'no-such-id'), order[2]);
      assert.equal((await a.subscribers()).lastEventId, order[2]);
      await eventually(async () => (await b.subscribers()).subscribers.length === 4, 'presence on B lists the 4 subscribers of both nodes', 20_000);
      await a.unsubscribe(onA);
      await eventually(async () => (await b.subscribers()).subscribers.length === 3, 'a leave is seen on the other node', 20_000);
      // A third node started now indexes the existing topic and serves its history.
      const c = await open(topic);
      try {
        const late = new Recorder([BOOK]);
        assert.equal(await c.subscribe(late, order[1]), order[1]);
        await late.waitFor(1);
        assert.deepEqual(late.ids(), [order[2]]);
        await fence(c, late);
      } finally { await c.close(); }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('a 1 MB update goes through; one above the broker\'s maximum message size is refused with ERR_TRANSPORT_REJECTED', async () => {
    const t = await open(topicName());
    try {
      const sub = new Recorder([BOOK]);
      await t.subscribe(sub);
      await t.dispatch(update('big', BOOK, { data: 'y'.repeat(1 << 20) }));
      await sub.waitFor(1);
      assert.equal(sub.received[0]!.update.data.length, 1 << 20);
      await assert.rejects(t.dispatch(update('huge', BOOK, { data: 'z'.repeat(6 << 20) })), { code: 'ERR_TRANSPORT_REJECTED' });
      // The transport is still fine afterwards.
      await t.dispatch(update('after', BOOK));
      await sub.waitFor(2);
      assert.deepEqual(sub.ids(), ['big', 'after']);
    } finally { await t.close(); }
  });
});

describe('mercure.transports.pulsar module', { skip }, () => {
  test('identical configs share one transport across a reload; a generated subscription_name is logged; cleanup closes', async () => {
    const topic = topicName();
    const cfg: PulsarTransportConfig = { url: broker.url, topic, '@span': 'Caddyfile:3:5' };
    const pool = new UsagePool();
    const c1 = testModuleContext({ pool }), c2 = testModuleContext({ pool });
    const logged: unknown[] = [];
    const origInfo = c1.ctx.log.info.bind(c1.ctx.log);
    c1.ctx.log.info = ((obj: unknown, msg?: string) => { logged.push([obj, msg]); return origInfo(obj as object, msg); }) as typeof c1.ctx.log.info;
    const first = pulsarModule.create(cfg);
    assert.throws(() => first.transport, /not provisioned/);
    await first.provision(c1.ctx);
    const second = pulsarModule.create({ ...cfg, '@span': 'Caddyfile:9:5' });
    await second.provision(c2.ctx);
    assert.equal(first.transport, second.transport, 'one pooled transport');
    const started = logged.find((l) => (l as [unknown, string])[1] === 'mercure.transports.pulsar started') as [Record<string, unknown>, string] | undefined;
    assert.ok(started, 'the start is logged');
    assert.match(String(started[0].subscription_name), /^quicksilver-/);
    assert.equal(started[0].subscription_name_generated, true);
    const sub = new Recorder([BOOK]);
    await second.transport.subscribe(sub);
    await first.transport.dispatch(update('u1', BOOK));
    await sub.waitFor(1);
    await first.cleanup();
    assert.deepEqual(await second.transport.health(), { ready: true, live: true });
    await second.cleanup();
    assert.deepEqual(await (second as unknown as { config: unknown }).config, { ...cfg, '@span': 'Caddyfile:9:5' });
    await c1.cleanup(); await c2.cleanup();
  });

  test('a failed provision (nothing listening) is ERR_TRANSPORT_UNAVAILABLE, and cleanup after it is safe', async () => {
    const { freePort } = await import('../../helpers/redis-server.ts');
    const m = pulsarModule.create({ url: `pulsar://127.0.0.1:${await freePort()}`, topic: topicName() });
    const c = testModuleContext();
    await assert.rejects(m.provision(c.ctx), { code: 'ERR_TRANSPORT_UNAVAILABLE' });
    await m.cleanup();
    await m.cleanup();
    await c.cleanup();
  });

  test('two nodes with the same subscription_name: the second is refused (ConsumerBusy)', async () => {
    const topic = topicName();
    const a = await open(topic, { subscriptionName: 'same-node' });
    try {
      await assert.rejects(open(topic, { subscriptionName: 'same-node' }), (err: Error) => /ConsumerBusy|Exclusive consumer|already connected/i.test(String((err as Error & { cause?: Error }).cause?.message ?? err.message)) || (console.error(err), false));
    } finally { await a.close(); }
  });
});

// Last: it stops and restarts the broker.
describe('pulsar transport: broker outage', { skip }, () => {
  test('503 while the broker is down, recovery without a restart, nothing lost or repeated', async () => {
    const topic = topicName();
    const a = await open(topic, { keepAliveMs: 1_000 }), b = await open(topic, { keepAliveMs: 1_000 });
    try {
      const onB = new Recorder([BOOK], null, { timeoutMs: 60_000 });
      await b.subscribe(onB);
      await a.dispatch(update('before', BOOK));
      await onB.waitFor(1);
      await broker.stop();
      await eventually(async () => !(await a.health()).ready, 'A reports the outage', 30_000);
      await assert.rejects(a.dispatch(update('during', BOOK)), { code: 'ERR_TRANSPORT_UNAVAILABLE' });
      await broker.start();
      await eventually(async () => (await a.health()).ready && (await b.health()).ready, 'both recover', 90_000);
      await a.dispatch(update('after-1', BOOK));
      await b.dispatch(update('after-2', BOOK));
      await onB.waitFor(3);
      assert.deepEqual(onB.ids(), ['before', 'after-1', 'after-2']);
      const replay = new Recorder([BOOK]);
      assert.equal(await a.subscribe(replay, 'before'), 'before');
      await replay.waitFor(2);
      assert.deepEqual(replay.ids(), ['after-1', 'after-2']);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
