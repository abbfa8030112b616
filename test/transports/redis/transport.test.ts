/**
 * The Redis transport through the core (Fanout): the shared conformance suite
 * against a standalone Redis, a 3-master Redis Cluster, and Valkey (standalone
 * and cluster) when Debian's valkey-tools is installed. Then what only a
 * multi-node transport must show through the core: two hubs on one stream.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Fanout } from '../../../src/transports/core/fanout.ts';
import { RedisBackend, type RedisBackendOptions } from '../../../src/transports/redis/backend.ts';
import {
  redisSkipReason, startRedis, startRedisCluster, streamName, type Flavor, type RedisCluster, type RedisServer,
} from '../../helpers/redis-server.ts';
import { transportConformance } from '../conformance.ts';
import { Recorder, update } from '../recorder.ts';

/** Servers start on first use and stop when the file ends. */
function lazy<T extends { destroy(): Promise<void> }>(start: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  after(async () => { if (p) await (await p).destroy(); });
  return () => (p ??= start());
}

async function open(options: RedisBackendOptions): Promise<Fanout> {
  const t = new Fanout(new RedisBackend(options));
  await t.start();
  return t;
}

const setups: { name: string; flavor: Flavor; addresses: () => Promise<string[]> }[] = [];
for (const flavor of ['redis', 'valkey'] as const) {
  const standalone = lazy<RedisServer>(() => startRedis({ flavor }));
  const cluster = lazy<RedisCluster>(() => startRedisCluster(3, { flavor }));
  setups.push({ name: `${flavor} standalone`, flavor, addresses: async () => [(await standalone()).address] });
  setups.push({ name: `${flavor} cluster (3 masters)`, flavor, addresses: async () => (await cluster()).addresses });
}

for (const s of setups) {
  const skip = redisSkipReason(s.flavor);
  // A fresh stream per test: the same servers, a clean history.
  transportConformance(s.name, async () => {
    const transport = await open({ addresses: await s.addresses(), stream: streamName('conformance') });
    return { transport, cleanup: () => transport.close() };
  }, { history: true, presence: 'shared', skip });
}

describe('redis transport: two hubs on one stream', { skip: redisSkipReason() }, () => {
  const server = lazy<RedisServer>(() => startRedis());
  const BOOK = 'https://example.com/books/1';

  test('an update published on one hub reaches the other\'s subscribers, and its history', async () => {
    const addresses = [(await server()).address];
    const stream = streamName();
    const a = await open({ addresses, stream }), b = await open({ addresses, stream, binary: true });
    try {
      const onA = new Recorder([BOOK]), onB = new Recorder([BOOK]);
      await a.subscribe(onA);
      await b.subscribe(onB);
      await a.dispatch(update('one', BOOK));
      await b.dispatch(update('two', BOOK, { data: 'x'.repeat(1 << 20) }));
      await Promise.all([onA.waitFor(2), onB.waitFor(2)]);
      assert.deepEqual(onA.ids(), ['one', 'two']);
      assert.deepEqual(onB.received.map((r) => r.bytes), onA.received.map((r) => r.bytes));
      // A late subscriber on hub B replays what hub A published.
      const late = new Recorder([BOOK]);
      assert.equal(await b.subscribe(late, 'earliest'), 'earliest');
      await late.waitFor(2);
      assert.deepEqual(late.ids(), ['one', 'two']);
      const fromOne = new Recorder([BOOK]);
      assert.equal(await a.subscribe(fromOne, 'one'), 'one');
      await fromOne.waitFor(1);
      assert.deepEqual(fromOne.ids(), ['two']);
      assert.deepEqual((await b.subscribers()).subscribers.map((x) => x.id).sort(),
        [onA.id, onB.id, late.id, fromOne.id].sort());
      assert.equal((await a.subscribers()).lastEventId, 'two');
      assert.deepEqual(await a.health(), { ready: true, live: true });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
