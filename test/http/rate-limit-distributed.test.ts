/**
 * Distributed rate limiting between TWO nodes (two contexts: separate usage
 * pools and data dirs, so separate instance IDs) sharing one real Redis through
 * caddy.storage.redis. Syncs are triggered explicitly (read()/write()) instead
 * of waiting for timers; the clock is injected.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { type RedisServer, redisSkipReason, startRedis } from '../helpers/redis-server.ts';
import { RateLimitHandler } from '../../src/http/rate-limit/handler.ts';
import type { RateLimitConfig } from '../../src/http/rate-limit/config.ts';
import { STORAGE_PREFIX } from '../../src/http/rate-limit/distributed.ts';
import type { RedisStorage } from '../../src/storage/redis-storage.ts';
import { REDIS_STORAGE_SERVICE as REGISTRY_KEY } from '../../src/host/services.ts';
import { CONNECTION_NAME } from '../../src/storage/connection.ts';
import { testContext } from '../storage/context.ts';
import { Clock, mount } from '../storage/http-server.ts';

const skip = redisSkipReason();
let server: RedisServer;
let raw: Redis;

before(async () => {
  if (skip) return;
  server = await startRedis();
  raw = new Redis({ host: server.host, port: server.port });
});
after(async () => {
  raw?.disconnect();
  await server?.destroy();
});

type T = { after(fn: () => unknown): void };
/** Syncs are driven by the test, so the timers are set far apart. */
const SYNC = { read_interval: '1h', write_interval: '1h' };

/** One node: its own context (pool, data dir, instance ID), the Redis storage as global storage, a served handler. */
async function node(t: T, clock: Clock, config: Omit<RateLimitConfig, 'handler'>, globalStorage = true) {
  const ctx = await testContext();
  const h = new RateLimitHandler({ handler: 'rate_limit', ...config }, { now: clock.now });
  let m: Awaited<ReturnType<typeof mount>> | undefined;
  t.after(async () => { await m?.close(); await h.cleanup(); await ctx.close(); });
  if (globalStorage) await ctx.useStorage({ module: 'redis', address: [server.address] });
  await h.provision(ctx);
  m = await mount(h);
  return { ctx, h, m, sync: h.distributed! };
}

const limited = (max: number, extra: Record<string, unknown> = {}) =>
  ({ rate_limits: { api: { key: '{http.request.header.X-Key}', window: '1m', max_events: max } }, distributed: SYNC, ...extra });

test('a client over the limit across both nodes gets 429 on each', { skip }, async (t) => {
  await raw.flushall();
  const clock = new Clock();
  const a = await node(t, clock, limited(4));
  const b = await node(t, clock, limited(4));
  assert.notEqual(a.sync.instanceId, b.sync.instanceId);
  const k = { headers: { 'X-Key': 'alice' } };
  assert.equal((await a.m.request('/', k)).status, 200);
  clock.advance(1000);
  assert.equal((await a.m.request('/', k)).status, 200);
  clock.advance(1000);
  assert.equal((await b.m.request('/', k)).status, 200);
  assert.equal((await b.m.request('/', k)).status, 200);
  await Promise.all([a.sync.write(), b.sync.write()]);
  await Promise.all([a.sync.read(), b.sync.read()]);

  const ra = await a.m.request('/', k);
  const rb = await b.m.request('/', k);
  assert.equal(ra.status, 429, 'a: 2 local + 2 on b');
  assert.equal(rb.status, 429, 'b: 2 local + 2 on a');
  // The oldest event in the window is a's first (t = 0); now t = 2s: wait 58s → 58.5 → "58".
  assert.equal(ra.retryAfter, '58');
  assert.equal(rb.retryAfter, '58', 'b derives the wait from a\'s oldest event');
  assert.equal((await a.m.request('/', { headers: { 'X-Key': 'bob' } })).status, 200, 'other keys are not affected');

  // The state files use the plugin's path under the storage prefix, one per instance.
  const files = (await raw.zrange(`caddy/${STORAGE_PREFIX}`, 0, '-1')).sort();
  assert.deepEqual(files, [`${a.sync.instanceId}.rlstate`, `${b.sync.instanceId}.rlstate`].sort());
  const stored = JSON.parse(Buffer.from((await (a.ctx.storage() as RedisStorage).load(`${STORAGE_PREFIX}/${a.sync.file}`))!).toString());
  assert.deepEqual(stored.Zones.api.alice, { Count: 2, OldestEvent: new Date(clock.t - 2000).toISOString() });
  assert.equal(stored.Timestamp, new Date(clock.t).toISOString());

  // Once the window has passed, the old snapshots and local events no longer count.
  clock.advance(60_001);
  assert.equal((await a.m.request('/', k)).status, 200);
});

test('a node provisioned later reads the others at once', { skip }, async (t) => {
  await raw.flushall();
  const clock = new Clock();
  const a = await node(t, clock, limited(2));
  const k = { headers: { 'X-Key': 'carol' } };
  await a.m.request('/', k);
  await a.m.request('/', k);
  await a.sync.write();
  const b = await node(t, clock, limited(2));
  assert.equal(b.sync.peers, 1);
  assert.equal((await b.m.request('/', k)).status, 429);
});

test('stale snapshots are ignored, purged with purge_age, and corrupt ones skipped', { skip }, async (t) => {
  await raw.flushall();
  const clock = new Clock();
  const a = await node(t, clock, limited(1));
  const b = await node(t, clock, limited(1, { distributed: { ...SYNC, purge_age: '10m' } }));
  const k = { headers: { 'X-Key': 'dave' } };
  await a.m.request('/', k);
  await a.sync.write();
  await (b.ctx.storage() as RedisStorage).store(`${STORAGE_PREFIX}/garbage.rlstate`, Buffer.from('not json'));
  await b.sync.read();
  assert.equal(b.sync.peers, 1, 'the corrupt file is skipped');
  assert.equal((await b.m.request('/', k)).status, 429);

  clock.advance(61_000); // a's snapshot is now older than the window: ignored, but kept (younger than purge_age)
  await b.sync.read();
  assert.equal((await b.m.request('/', k)).status, 200);
  assert.equal(await raw.exists(`caddy/${STORAGE_PREFIX}/${a.sync.file}`), 1);
  clock.advance(10 * 60_000);
  await b.sync.read();
  assert.equal(await raw.exists(`caddy/${STORAGE_PREFIX}/${a.sync.file}`), 0, 'purged after purge_age');
});

test('`storage redis { … }` inside rate_limit overrides the global storage', { skip }, async (t) => {
  await raw.flushall();
  const clock = new Clock();
  const own = { module: 'redis', address: [server.address], key_prefix: 'limits' };
  const a = await node(t, clock, limited(1, { storage: own }), false);
  const b = await node(t, clock, limited(1, { storage: own }), false);
  await a.m.request('/', { headers: { 'X-Key': 'erin' } });
  await a.sync.write();
  await b.sync.read();
  assert.equal((await b.m.request('/', { headers: { 'X-Key': 'erin' } })).status, 429);
  assert.equal(await raw.exists(`limits/${STORAGE_PREFIX}/${a.sync.file}`), 1);
  assert.equal(a.ctx.app.registry.has(REGISTRY_KEY), false, 'a rate limiter\'s own storage is not the one `caddy-storage-redis.alt` reuses');
});

test('the rate limiter state travels over the storage connection that client() exposes', { skip }, async (t) => {
  await raw.flushall();
  const clock = new Clock();
  const a = await node(t, clock, limited(3));
  const b = await node(t, clock, limited(3));
  const client = (a.ctx.app.registry.get(REGISTRY_KEY) as RedisStorage).client();
  assert.equal(client, (a.ctx.storage() as RedisStorage).client());
  await a.m.request('/', { headers: { 'X-Key': 'frank' } });
  await a.sync.write();
  const doc = JSON.parse((await client.get(`caddy/${STORAGE_PREFIX}/${a.sync.file}`))!);
  assert.equal(JSON.parse(Buffer.from(doc.value, 'base64').toString()).Zones.api.frank.Count, 1);
  // One storage connection per node, whatever the rate limiter does.
  void b;
  const named = (await raw.client('LIST') as string).split('\n').filter((l) => l.includes(`name=${CONNECTION_NAME}`));
  assert.equal(named.length, 2);
});
