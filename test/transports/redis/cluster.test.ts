/**
 * The Redis backend on a real 3-master Redis Cluster (Debian's redis-server,
 * `redis-cli --cluster create … --cluster-replicas 0`): one hash slot for
 * every key, order across nodes, history, presence, and the outage of the
 * master that owns the stream.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  redisSkipReason, startRedisCluster, startBackend, update, streamName, type RedisCluster, type RedisServer,
} from '../../helpers/redis-server.ts';
import { streamKeys } from '../../../src/transports/redis/client.ts';

const skip = redisSkipReason();
let cluster: RedisCluster;
before(async () => { if (!skip) cluster = await startRedisCluster(3, { persistent: true }); });
after(() => cluster?.destroy());

/** The master serving the stream's slot. */
async function ownerOf(stream: string): Promise<RedisServer> {
  const slot = Number(await cluster.nodes[0]!.cli('cluster', 'keyslot', stream));
  for (const n of cluster.nodes) {
    const mine = (await n.cli('cluster', 'nodes')).split('\n').find((l) => l.includes('myself'))!;
    for (const range of mine.split(' ').slice(8)) {
      const [lo, hi = lo] = range.split('-').map(Number);
      if (slot >= lo! && slot <= hi!) return n;
    }
  }
  throw new Error(`no owner for slot ${slot}`);
}

test('every key of a stream hashes to the stream\'s slot', { skip }, async () => {
  for (const name of ['mercure', 'a:b', '{app}:mercure']) {
    const k = streamKeys(name);
    const slots = new Set<string>();
    for (const key of [k.stream, k.ids, k.order, k.next, k.latest, k.nodes, k.presence('n1')]) {
      slots.add(await cluster.nodes[0]!.cli('cluster', 'keyslot', key));
    }
    assert.equal(slots.size, 1, name);
  }
});

test('nodes share one order, history and presence on the cluster', { skip }, async (t) => {
  const stream = streamName();
  const a = await startBackend({ addresses: cluster.addresses, stream, maxLength: 1000 });
  const b = await startBackend({ addresses: [...cluster.addresses].reverse(), stream, binary: true });
  t.after(() => Promise.all([a.backend.close(), b.backend.close()]));
  const sent = Array.from({ length: 30 }, (_, i) => update(`c${i}`));
  await Promise.all(sent.map((u, i) => (i % 2 ? a : b).backend.publish(u)));
  await a.sink.count(30);
  await b.sink.count(30);
  assert.deepEqual(a.sink.ids, b.sink.ids);
  const after10: string[] = [];
  await b.backend.history(a.sink.ids[9]!, (u) => { after10.push(u.id); });
  assert.deepEqual(after10, a.sink.ids.slice(10));
  assert.equal(await a.backend.lastEventId(), a.sink.ids.at(-1));
  a.backend.presence.join({ id: 'sa', topics: ['x'] });
  b.backend.presence.join({ id: 'sb', topics: ['y'] });
  assert.deepEqual((await a.backend.presence.list()).map((s) => s.id).sort(), ['sa', 'sb']);
  await a.backend.health();
});

test('the master owning the stream goes down and comes back: 503 meanwhile, no gap after', { skip }, async (t) => {
  const stream = streamName();
  const a = await startBackend({ addresses: cluster.addresses, stream });
  const b = await startBackend({ addresses: cluster.addresses, stream });
  t.after(() => Promise.all([a.backend.close(), b.backend.close()]));
  await b.backend.publish(update('o0'));
  await a.sink.count(1);
  const owner = await ownerOf(stream);
  const down = a.sink.connectionChange(false);
  await owner.stop();
  await assert.rejects(a.backend.publish(update('lost')), { code: 'ERR_TRANSPORT_UNAVAILABLE' });
  await assert.rejects(a.backend.health(), { code: 'ERR_TRANSPORT_UNAVAILABLE' });
  await down;
  const up = Promise.all([a.sink.connectionChange(true), b.sink.connectionChange(true)]);
  await owner.start();
  await up;
  await b.backend.publish(update('o1'));
  await a.sink.count(2);
  await b.sink.count(2);
  assert.deepEqual(a.sink.ids, ['o0', 'o1']);
  assert.deepEqual(b.sink.ids, ['o0', 'o1']);
  const all: string[] = [];
  await a.backend.history('earliest', (u) => { all.push(u.id); });
  assert.deepEqual(all, ['o0', 'o1']);
});
