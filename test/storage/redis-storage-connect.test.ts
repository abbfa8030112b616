/**
 * How caddy.storage.redis reaches Redis: ACL users with `{env.*}` secrets,
 * TLS with a private CA (PEM inline or from a file), Redis Cluster (several
 * addresses), and Sentinel (`failover`). Every case talks to real servers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { Cluster, Redis } from 'ioredis';
import { makeTlsFiles, redisSkipReason, startRedis, startRedisCluster } from '../helpers/redis-server.ts';
import { startSentinel } from '../helpers/redis-storage-server.ts';
import type { RedisStorage } from '../../src/storage/redis-storage.ts';
import { testContext } from './context.ts';

const skip = redisSkipReason();

async function roundTrip(s: RedisStorage): Promise<void> {
  for (let i = 0; i < 5; i++) await s.store(`dir${i}/sub/file${i}`, Buffer.from(`v${i}`));
  for (let i = 0; i < 5; i++) assert.equal(Buffer.from((await s.load(`dir${i}/sub/file${i}`))!).toString(), `v${i}`);
  assert.deepEqual(await s.list('dir3'), ['dir3/sub/file3']);
  await s.lock('l');
  await s.unlock('l');
}

test('ACL user and password from {env.*} placeholders', { skip }, async (t) => {
  const server = await startRedis({ users: [{ name: 'caddy', password: 's3cret' }], password: 'default-pass' });
  t.after(() => server.destroy());
  process.env.QS_TEST_REDIS_USER = 'caddy';
  process.env.QS_TEST_REDIS_PASS = 's3cret';
  t.after(() => { delete process.env.QS_TEST_REDIS_USER; delete process.env.QS_TEST_REDIS_PASS; });
  const ctx = await testContext();
  t.after(() => ctx.close());
  const s = await ctx.useStorage({
    module: 'redis', host: ['127.0.0.1'], port: [String(server.port)], username: '{env.QS_TEST_REDIS_USER}', password: '{env.QS_TEST_REDIS_PASS}',
  }) as RedisStorage;
  await roundTrip(s);
  assert.equal(await s.client().call('ACL', 'WHOAMI'), 'caddy');
  await assert.rejects(ctx.useStorage({ module: 'redis', address: [server.address], username: 'caddy', password: 'wrong' }), /WRONGPASS|invalid/i);
});

test('TLS: verified against tls_server_certs_pem or _path; tls_insecure skips verification', { skip }, async (t) => {
  const tls = await makeTlsFiles();
  t.after(() => rm(tls.dir, { recursive: true, force: true }));
  const server = await startRedis({ tls });
  t.after(() => server.destroy());
  const ctx = await testContext();
  t.after(() => ctx.close());
  const base = { module: 'redis', address: [server.address], tls_enabled: true };
  await roundTrip(await ctx.useStorage({ ...base, tls_server_certs_pem: tls.caPem }) as RedisStorage);
  await roundTrip(await ctx.useStorage({ ...base, tls_server_certs_path: tls.ca, key_prefix: 'p2' }) as RedisStorage);
  await roundTrip(await ctx.useStorage({ ...base, tls_insecure: true, key_prefix: 'p3' }) as RedisStorage);
  // Verification is on by default (since v1.7): the system CAs do not know the test CA.
  await assert.rejects(ctx.useStorage({ ...base, timeout: '3' }), /certificate|self.signed|verify/i);
});

test('several addresses make a Redis Cluster client; the index and locks work across slots', { skip, timeout: 60_000 }, async (t) => {
  const cluster = await startRedisCluster(3);
  t.after(() => cluster.destroy());
  const ctx = await testContext();
  t.after(() => ctx.close());
  const s = await ctx.useStorage({ module: 'redis', address: cluster.addresses, route_randomly: true }) as RedisStorage;
  assert.ok(s.client() instanceof Cluster);
  await roundTrip(s);
  // `cluster` with a single seed address selects the cluster client too.
  const one = await ctx.useStorage({ module: 'redis', client_type: 'cluster', address: [cluster.addresses[0]!], key_prefix: 'one' }) as RedisStorage;
  assert.ok(one.client() instanceof Cluster);
  await roundTrip(one);
});

test('failover: the master is found through Sentinel by master_name', { skip }, async (t) => {
  const master = await startRedis({ password: 'mpass' });
  t.after(() => master.destroy());
  const sentinel = await startSentinel(master, 'mymaster', 'mpass');
  t.after(() => sentinel.stop());
  const ctx = await testContext();
  t.after(() => ctx.close());
  const s = await ctx.useStorage({
    module: 'redis', client_type: 'failover', address: [sentinel.address], master_name: 'mymaster', password: 'mpass', db: 2,
  }) as RedisStorage;
  assert.ok(s.client() instanceof Redis);
  await roundTrip(s);
  assert.equal(await master.cli('-n', '2', 'EXISTS', 'caddy/dir0/sub/file0'), '1');
});
