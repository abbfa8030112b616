import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterSuite } from './cluster-suite.ts';
import { redisSkipReason, startRedis } from '../helpers/redis-server.ts';
import { freePort, startHub } from '../helpers/hub-process.ts';

clusterSuite('redis', async () => {
  const skip = redisSkipReason();
  if (skip) return skip;
  // Persistent (AOF, fsync always), as a production Redis behind a multi-node hub would be.
  const redis = await startRedis({ persistent: true });
  return {
    transport: `transport redis {\n\taddress ${redis.address}\n\tstream mercure-e2e\n}`,
    stop: () => redis.stop(),
    start: async () => { await redis.start(); },
    destroy: () => redis.destroy(),
  };
});

test('storage redis + transport redis { address caddy-storage-redis.alt }: CLIENT LIST shows one client set', { skip: redisSkipReason() }, async (t) => {
  const redis = await startRedis();
  t.after(() => redis.destroy());
  const port = await freePort();
  const key = 'client-list-test-key-long-enough-!!';
  const caddyfile = `{\n\tadmin off\n\tstorage redis {\n\t\taddress ${redis.address}\n\t}\n}\n:${port} {\n\tmercure {\n\t\tpublisher_jwt ${key}\n\t\tanonymous\n\t\ttransport redis {\n\t\t\taddress caddy-storage-redis.alt\n\t\t\tstream shared\n\t\t}\n\t}\n}\n`;
  const hub = await startHub(caddyfile);
  t.after(() => hub.kill());
  const clients = (await redis.cli('CLIENT', 'LIST')).split('\n').map((l) => /name=(\S*)/.exec(l)?.[1] ?? '');
  const storage = clients.filter((n) => n === 'caddy-storage-redis');
  const readers = clients.filter((n) => /^quicksilver:.*:reader$/.test(n));
  const own = clients.filter((n) => /^quicksilver:/.test(n) && !n.endsWith(':reader'));
  assert.equal(storage.length, 1, `one storage connection: ${clients.join(', ')}`);
  assert.equal(readers.length, 1, 'one blocking reader (XREAD BLOCK needs its own connection)');
  assert.deepEqual(own, [], 'no second command connection: the transport uses the storage\'s');
  const res = await fetch(`http://127.0.0.1:${port}/.well-known/mercure?topic=x`, { signal: AbortSignal.timeout(2000) });
  assert.equal(res.status, 200);
  await res.body?.cancel();
});
