/**
 * caddy.storage.redis against a real redis-server: the key layout of
 * caddy-storage-redis (envelope, ZSET directory index, locks), key_prefix,
 * encryption and compression, connection sharing, and the reusable client.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import pino from 'pino';
import { RedisServer, redisSkipReason, startRedis } from '../helpers/redis-server.ts';
import { RedisStorage } from '../../src/storage/redis-storage.ts';
import { REDIS_STORAGE_SERVICE as REGISTRY_KEY } from '../../src/host/services.ts';
import { CONNECTION_NAME } from '../../src/storage/connection.ts';
import { UsagePool } from '../../src/host/usage-pool.ts';
import { QsError } from '../../src/host/errors.ts';
import { testContext } from './context.ts';

const skip = redisSkipReason();
let server: RedisServer;
let raw: Redis;

before(async () => {
  if (skip) return;
  server = await startRedis();
  raw = new Redis({ host: server.host, port: server.port, lazyConnect: true });
  await raw.connect();
});
after(async () => {
  raw?.disconnect();
  await server?.destroy();
});

/** A provisioned storage on the test server with extra options; closed when the test ends. */
async function storage(t: { after(fn: () => Promise<void>): void }, extra: Record<string, unknown> = {}, pool?: UsagePool) {
  const ctx = await testContext(pool ? { pool } : {});
  t.after(() => ctx.close());
  const s = await ctx.useStorage({ module: 'redis', address: [server.address], ...extra }) as RedisStorage;
  return { s, ctx };
}

test('store, load, list and delete use the plugin key layout', { skip }, async (t) => {
  await raw.flushall();
  const { s } = await storage(t);
  await s.store('certificates/acme/example.com/example.com.crt', Buffer.from('CERT'));
  await s.store('certificates/acme/example.com/example.com.key', Buffer.from('KEY'));
  await s.store('acme/users/a.json', Buffer.from('{}'));

  const doc = JSON.parse((await raw.get('caddy/certificates/acme/example.com/example.com.crt'))!);
  assert.equal(Buffer.from(doc.value, 'base64').toString(), 'CERT');
  assert.equal(doc.size, 4);
  assert.equal(doc.compression, 0);
  assert.equal(doc.encryption, 0);
  assert.ok(!Number.isNaN(Date.parse(doc.modified)));
  assert.deepEqual((await raw.zrange('caddy/certificates/acme/example.com', 0, '-1')).sort(), ['example.com.crt', 'example.com.key']);
  assert.deepEqual(await raw.zrange('caddy/certificates/acme', 0, '-1'), ['example.com/']);
  assert.deepEqual((await raw.zrange('caddy', 0, '-1')).sort(), ['acme/', 'certificates/']);

  assert.equal(Buffer.from((await s.load('certificates/acme/example.com/example.com.key'))!).toString(), 'KEY');
  assert.equal(await s.load('certificates/nope'), undefined);
  assert.deepEqual((await s.list('certificates')).sort(), [
    'certificates/acme/example.com/example.com.crt', 'certificates/acme/example.com/example.com.key']);
  assert.deepEqual(await s.listDir('certificates', false), ['certificates/acme']);
  assert.equal((await s.stat('acme/users/a.json'))?.size, 2);
  assert.equal(await s.exists('acme/users/a.json'), true);

  await s.delete('acme/users/a.json');
  assert.equal(await s.load('acme/users/a.json'), undefined);
  assert.equal(await raw.exists('caddy/acme/users'), 0, 'the emptied directory is pruned');
  assert.deepEqual(await raw.zrange('caddy', 0, '-1'), ['certificates/'], 'and so is its parent entry');
});

test('key_prefix: trimmed of slashes, nested, placeholders resolved at provision', { skip }, async (t) => {
  await raw.flushall();
  process.env.QS_TEST_PREFIX = 'tenant';
  t.after(() => { delete process.env.QS_TEST_PREFIX; });
  const { s } = await storage(t, { key_prefix: '/apps/{env.QS_TEST_PREFIX}/' });
  assert.equal(s.keyPrefix, 'apps/tenant');
  await s.store('rate_limit/instances/x.rlstate', Buffer.from('{}'));
  assert.equal(await raw.exists('apps/tenant/rate_limit/instances/x.rlstate'), 1);
  assert.deepEqual(await raw.zrange('apps/tenant', 0, '-1'), ['rate_limit/']);
  assert.deepEqual(await raw.zrange('apps', 0, '-1'), ['tenant/'], 'the index climbs to the top of the prefix, as the plugin does');
  assert.deepEqual(await s.list('rate_limit/instances'), ['rate_limit/instances/x.rlstate']);
});

test('encryption and compression: sealed at rest, opened on load', { skip }, async (t) => {
  await raw.flushall();
  const key = 'k'.repeat(40);
  const big = Buffer.from('abcdefgh'.repeat(200));
  for (const [compression, flag] of [['zlib', 2], ['flate', 1], ['true', 1]] as const) {
    const { s } = await storage(t, { encryption_key: key, compression });
    await s.store(`c/${compression}`, big);
    const doc = JSON.parse((await raw.get(`caddy/c/${compression}`))!);
    assert.equal(doc.encryption, 1);
    assert.equal(doc.compression, flag);
    assert.equal(doc.size, big.length);
    assert.ok(!Buffer.from(doc.value, 'base64').includes('abcdefgh'), 'not readable at rest');
    assert.deepEqual(Buffer.from((await s.load(`c/${compression}`))!), big);
  }
  // Compression is kept only when it saves space.
  const { s } = await storage(t, { compression: 'zlib' });
  await s.store('small', Buffer.from('x'));
  assert.equal(JSON.parse((await raw.get('caddy/small'))!).compression, 0);
  // Without the key the value cannot be read, and says why.
  await assert.rejects(s.load('c/zlib'), (e: unknown) => e instanceof QsError && e.code === 'ERR_STORAGE' && /encrypted/.test(e.message));
  // Only the first 32 bytes of the key count, as in the plugin.
  const { s: same } = await storage(t, { encryption_key: 'k'.repeat(32) + 'different tail' });
  assert.deepEqual(Buffer.from((await same.load('c/flate'))!), big);
});

test('locks: exclusive, refreshed TTL, released by token only', { skip }, async (t) => {
  await raw.flushall();
  const { s: a } = await storage(t);
  const { s: b } = await storage(t);
  await a.lock('issue_cert_example.com');
  const pttl = await raw.pttl('caddy/locks/issue_cert_example.com');
  assert.ok(pttl > 0 && pttl <= 5000, `TTL ${pttl}`);

  let bGot = false;
  const bLock = b.lock('issue_cert_example.com').then(() => { bGot = true; });
  await b.unlock('issue_cert_example.com'); // not held by b: no effect
  assert.equal(await raw.exists('caddy/locks/issue_cert_example.com'), 1);
  assert.equal(bGot, false);
  await a.unlock('issue_cert_example.com');
  await bLock; // b's next poll takes it
  assert.equal(bGot, true);

  const ac = new AbortController();
  const waiting = a.lock('issue_cert_example.com', ac.signal);
  ac.abort();
  await assert.rejects(waiting, { name: 'AbortError' });
  await b.unlock('issue_cert_example.com');
  assert.equal(await raw.exists('caddy/locks/issue_cert_example.com'), 0);
});

test('client() is the live connection, registered for caddy-storage-redis.alt, shared across a reload', { skip }, async (t) => {
  const pool = new UsagePool();
  const { s, ctx } = await storage(t, {}, pool);
  assert.equal(ctx.app.registry.get(REGISTRY_KEY), s);
  const client = s.client();
  assert.equal(await client.ping(), 'PONG');
  await client.set('mercure-probe', '1');
  assert.equal(await raw.get('mercure-probe'), '1');

  // A reload with the same settings provisions a new module on the same connection.
  const { s: reloaded } = await storage(t, {}, pool);
  assert.equal(reloaded.client(), client);
  const named = (await raw.client('LIST') as string).split('\n').filter((l) => l.includes(`name=${CONNECTION_NAME}`));
  assert.equal(named.length, 1, 'one connection for both configs');

  // The old config's cleanup leaves the connection to the new one.
  await ctx.close();
  assert.equal(await reloaded.client().ping(), 'PONG');
  assert.throws(() => s.client(), /not provisioned/);
});

test('only the first Redis storage of a config registers itself', { skip }, async (t) => {
  const registry = new Map<string, unknown>();
  const a = await testContext({ registry });
  const b = await testContext({ registry });
  t.after(async () => { await b.close(); await a.close(); });
  const first = await a.useStorage({ module: 'redis', address: [server.address] });
  await b.useStorage({ module: 'redis', address: [server.address], db: 1 });
  assert.equal(registry.get(REGISTRY_KEY), first);
  await a.close();
  assert.equal(registry.has(REGISTRY_KEY), false, 'cleanup unregisters');
});

test('host and port lists pair by index; db selects the database', { skip }, async (t) => {
  await raw.flushall();
  const { s } = await storage(t, { address: undefined, host: ['127.0.0.1'], port: [String(server.port)], db: '{env.QS_TEST_UNSET_DB}3' });
  await s.store('x', Buffer.from('y'));
  const db3 = new Redis({ host: server.host, port: server.port, db: 3 });
  t.after(() => db3.disconnect());
  assert.equal(await db3.exists('caddy/x'), 1);
});

test('a failed provision (nothing listening) cleans up and can be cleaned up again', { skip }, async (t) => {
  const ctx = await testContext();
  t.after(() => ctx.close());
  const dead = new RedisServer();
  await dead.start();
  const port = dead.port;
  await dead.destroy();
  await assert.rejects(ctx.useStorage({ module: 'redis', address: [`127.0.0.1:${port}`], timeout: '2' }), /redis storage: .*ECONNREFUSED|connect/);
  assert.equal(ctx.app.registry.has(REGISTRY_KEY), false);
});

test('provision-time validation uses the plugin messages', { skip }, async (t) => {
  const ctx = await testContext();
  t.after(() => ctx.close());
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ key_prefix: 'a/../b' }, /invalid key_prefix segment: "\.\."/],
    [{ value_prefix: 'x' }, /unknown field "value_prefix" in caddy.storage.redis/],
    [{ encryption_key: 'short' }, /invalid length for 'encryption_key', must contain at least 32 bytes/],
    [{ client_type: 'failover' }, /'master_name' is required when using 'failover' client type/],
    [{ address: ['no-port'] }, /invalid address: no-port/],
    [{ address: undefined, port: ['x'] }, /invalid port value: x/],
    [{ timeout: 'soon' }, /invalid timeout value: soon/],
    [{ compression: 'gzip' }, /invalid value for 'compression': gzip \(expected 'true', 'flate', 'zlib', or 'false'\)/],
    [{ tls_enabled: true, tls_server_certs_pem: 'x', tls_server_certs_path: '/x' }, /Cannot specify TlsServerCertsPEM alongside TlsServerCertsPath/],
  ];
  for (const [extra, re] of cases) {
    await assert.rejects(ctx.useStorage({ module: 'redis', address: [server.address], ...extra }), re, JSON.stringify(extra));
  }
});

test('the printed config masks password, sentinel_password and encryption_key', () => {
  const s = new RedisStorage({ address: ['x:1'], password: 'p', sentinel_password: 'sp', encryption_key: 'e'.repeat(32), username: 'u' });
  const shown = JSON.parse(String(s));
  assert.deepEqual(shown, { address: ['x:1'], password: 'REDACTED', sentinel_password: 'REDACTED', encryption_key: 'REDACTED', username: 'u' });
});

test('options without an effect here are accepted and logged as ignored', { skip }, async (t) => {
  const lines: { level: number; msg: string }[] = [];
  const ctx = await testContext();
  t.after(() => ctx.close());
  ctx.log = pino({ level: 'info' }, new Writable({ write(chunk, _e, cb) { lines.push(JSON.parse(String(chunk))); cb(); } }));
  await ctx.useStorage({ module: 'redis', address: [server.address], route_by_latency: true, master_name: 'm', tls_insecure: true });
  const warnings = lines.filter((l) => l.level === 40).map((l) => l.msg);
  assert.equal(warnings.length, 3, warnings.join('\n'));
  assert.match(warnings.join('\n'), /route_by_latency/);
  assert.match(warnings.join('\n'), /master_name: only used with failover/);
  assert.match(warnings.join('\n'), /tls_insecure/);
});
