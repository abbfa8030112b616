/**
 * What only the Kafka backend must show, against one real broker: an outage
 * (503 while down, recovery without restart, nothing read twice or skipped on
 * any node), the ID → offset index and its fallback scan, a node started on a
 * retained history, and presence across nodes.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Update } from '../../../src/transports/core/contract.ts';
import { kafkaSkipReason, lazyKafka, topicName } from '../../helpers/brokers/kafka.ts';
import { backendOptions, openFanout, startBackend } from './helpers.ts';
import { eventually, Recorder } from '../recorder.ts';

const skip = await kafkaSkipReason();
const broker = lazyKafka();
after(() => broker.destroy());

const BOOK = 'https://example.com/books/1';
const upd = (id: string): Update => ({ id, topics: [BOOK], data: `data of ${id}`, private: false });

async function historyIds(b: { history?: (id: string, v: (u: Update) => void) => Promise<{ found: boolean }> }, from: string): Promise<{ found: boolean; ids: string[] }> {
  const ids: string[] = [];
  const r = await b.history!(from, (u) => { ids.push(u.id); });
  return { found: r.found, ids };
}

test('broker stopped: 503 while down on every node, recovery without restart, nothing read twice or skipped', { skip }, async () => {
  const k = await broker.get();
  const topic = topicName('outage');
  const a = await startBackend(backendOptions({ addresses: [k.address], topic }));
  const b = await startBackend(backendOptions({ addresses: [k.address], topic }));
  try {
    const before = Array.from({ length: 5 }, (_, i) => `before-${i}`);
    for (const id of before) await a.backend.publish(upd(id));
    await Promise.all([a.sink.count(5), b.sink.count(5)]);
    const downA = a.sink.connectionChange(false, 30_000), downB = b.sink.connectionChange(false, 30_000);
    await k.stop();
    await Promise.all([downA, downB]);
    await assert.rejects(a.backend.publish(upd('lost')), { code: 'ERR_TRANSPORT_UNAVAILABLE' });
    await assert.rejects(b.backend.health(), { code: 'ERR_TRANSPORT_UNAVAILABLE' });
    await assert.rejects(b.backend.history('before-0', () => {}), { code: 'ERR_TRANSPORT_UNAVAILABLE' });
    const upA = a.sink.connectionChange(true, 60_000), upB = b.sink.connectionChange(true, 60_000);
    await k.start();
    await Promise.all([upA, upB]);
    const after = Array.from({ length: 5 }, (_, i) => `after-${i}`);
    for (const id of after) await b.backend.publish(upd(id));
    await Promise.all([a.sink.count(10, 20_000), b.sink.count(10, 20_000)]);
    for (const s of [a.sink, b.sink]) {
      assert.deepEqual(s.ids, [...before, ...after], 'every update once, in order');
      assert.deepEqual(s.updates.map((u) => u.seq), s.updates.map((_, i) => BigInt(i + 1)), 'seq = offset + 1, no gap');
    }
    assert.deepEqual((await historyIds(a.backend, 'before-2')).ids, [...before.slice(3), ...after]);
    await a.backend.health();
  } finally {
    await Promise.all([a.backend.close(), b.backend.close()]);
  }
});

test('ID index: a node started on a retained history indexes it; IDs older than the index are found by the fallback scan', { skip }, async () => {
  const k = await broker.get();
  const topic = topicName('index');
  const writer = await startBackend(backendOptions({ addresses: [k.address], topic }));
  const v7 = 'urn:uuid:019aea8a-6c84-7b3e-9f2a-1234567890ab';
  const ids = Array.from({ length: 60 }, (_, i) => (i === 7 ? v7 : i === 30 ? 'custom-id' : `id-${i}`));
  try {
    for (const id of ids) await writer.backend.publish(upd(id));
    // index_size 20: only the newest 20 retained IDs are indexed at start.
    const reader = await startBackend(backendOptions({ addresses: [k.address], topic, index_size: 20 }));
    try {
      assert.deepEqual(await historyIds(reader.backend, 'id-50'), { found: true, ids: ids.slice(51) }, 'indexed at start');
      assert.deepEqual(await historyIds(reader.backend, 'custom-id'), { found: true, ids: ids.slice(31) }, 'fallback scan');
      // The v7 ID's time is years before the records: the scan is narrowed by ListOffsets, which starts at the oldest record here.
      assert.deepEqual(await historyIds(reader.backend, v7), { found: true, ids: ids.slice(8) }, 'fallback scan from a v7 time');
      assert.deepEqual(await historyIds(reader.backend, 'unknown'), { found: false, ids: [] });
      assert.deepEqual((await historyIds(reader.backend, 'earliest')).ids, ids);
      assert.equal(await reader.backend.lastEventId(), 'id-59');
      await writer.backend.publish(upd('id-60'));
      await reader.sink.count(1);
      assert.deepEqual(reader.sink.ids, ['id-60'], 'the retained history is indexed, not delivered again');
      assert.deepEqual(await historyIds(reader.backend, 'id-59'), { found: true, ids: ['id-60'] });
    } finally {
      await reader.backend.close();
    }
  } finally {
    await writer.backend.close();
  }
});

test('presence: every node lists every node\'s subscribers; a closed node\'s leave at once', { skip }, async () => {
  const k = await broker.get();
  const topic = topicName('presence');
  const a = await openFanout(backendOptions({ addresses: [k.address], topic }));
  const b = await openFanout(backendOptions({ addresses: [k.address], topic }));
  try {
    const onA = new Recorder([BOOK], null, { payload: { user: 'a' } }), onB = new Recorder(['*']);
    await a.subscribe(onA);
    await b.subscribe(onB);
    const ids = async (t: typeof a) => new Set((await t.subscribers()).subscribers.map((s) => s.id));
    await eventually(async () => (await ids(a)).has(onB.id) && (await ids(b)).has(onA.id), 'both nodes list both subscribers');
    const seen = (await b.subscribers()).subscribers.find((s) => s.id === onA.id);
    assert.deepEqual(seen, { id: onA.id, topics: onA.topics, payload: { user: 'a' } });
    await a.close();
    await eventually(async () => !(await ids(b)).has(onA.id), 'a closed node\'s subscribers leave');
    assert.ok((await ids(b)).has(onB.id));
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('presence: a silent node\'s subscribers expire after its TTL, then its record is tombstoned', { skip }, async () => {
  const k = await broker.get();
  const topic = topicName('ghost');
  // Heartbeat (and sweep) every 200 ms, so the sweep runs soon after the ghost's 4 × TTL.
  const live = await openFanout(backendOptions({ addresses: [k.address], topic }, { presence: { heartbeatMs: 200 } }));
  const { Producer } = await import('@platformatic/kafka');
  const producer = new Producer({ clientId: 'ghost', bootstrapBrokers: [k.address] } as ConstructorParameters<typeof Producer>[0]);
  try {
    // A node that wrote one heartbeat (TTL 1 s) and died: no tombstone.
    const ghost = { id: 'urn:ghost:1', topics: [BOOK] };
    await producer.send({ messages: [{ topic: `${topic}-presence`, partition: 0, key: Buffer.from('ghost-node'), value: Buffer.from(JSON.stringify({ node: 'ghost-node', at: Date.now(), ttl: 1000, subscribers: [ghost] })) }] });
    const ids = async () => (await live.subscribers()).subscribers.map((s) => s.id);
    await eventually(async () => (await ids()).includes(ghost.id), 'the ghost node\'s subscriber is listed');
    const heard = Date.now();
    await eventually(async () => !(await ids()).includes(ghost.id), 'the ghost expires', 5_000);
    assert.ok(Date.now() - heard < 3_000, 'gone about one TTL after it was heard');
    // The sweep tombstones its record: the last record keyed ghost-node has no value.
    const { TopicLog, newConsumer } = await import('../../../src/transports/kafka/log.ts');
    await eventually(async () => {
      const log = new TopicLog(newConsumer({ clientId: 'check', bootstrapBrokers: [k.address] }, 'check'), `${topic}-presence`);
      try {
        const { start, end } = await log.bounds();
        let last: Buffer | null | undefined;
        await log.read(start, end, (r) => { if (r.key?.toString() === 'ghost-node') last = r.value; });
        return last === null;
      } finally { await log.consumer.close(true); }
    }, 'a tombstone for the dead node', 10_000);
  } finally {
    await producer.close();
    await live.close();
  }
});
