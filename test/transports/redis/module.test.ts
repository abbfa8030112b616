/**
 * `mercure.transports.redis` as a host module, against real redis-server
 * processes: the shared module conformance suite, its connections,
 * `address caddy-storage-redis.alt`, and `tls` with a CA the
 * process trusts (what NODE_EXTRA_CA_CERTS gives in production).
 */
import { once } from 'node:events';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { Redis } from 'ioredis';
import type { ModuleContext, Storage } from '../../../src/host/module.ts';
import { UsagePool } from '../../../src/host/usage-pool.ts';
import { redisTransportModule, type RedisTransportConfig } from '../../../src/transports/redis/module.ts';
import { redisTransport } from '../../../src/transports/redis/index.ts';
import { moduleConformance } from '../module-conformance.ts';
import { freePort, makeTlsFiles, redisSkipReason, startRedis, streamName, type RedisServer } from '../../helpers/redis-server.ts';
import { Recorder, update } from '../recorder.ts';
import { testModuleContext } from '../../helpers/module-context.ts';

const skip = redisSkipReason();
let server: RedisServer;
before(async () => { if (!skip) server = await startRedis({ password: 'pw' }); });
after(() => server?.destroy());

function context(pool: UsagePool, storage?: Storage, registry = new Map<string, unknown>()): ModuleContext {
  const { ctx } = testModuleContext({ pool, registry, dataDir: '/nonexistent' });
  ctx.storage = () => storage;
  return ctx;
}

/** How many of our connections the server sees. */
async function ourConnections(s: RedisServer): Promise<number> {
  return (await s.cli('client', 'list')).split('\n').filter((l) => / name=quicksilver:/.test(l)).length;
}

const BOOK = 'https://example.com/books/1';

moduleConformance({
  descriptor: redisTransport,
  skip,
  config: async () => ({ addresses: [server.address], stream: streamName(), password: 'pw' }),
  different: (c) => ({ ...c, max_length: 10 }),
  unreachable: async () => ({ addresses: [`127.0.0.1:${await freePort()}`], stream: 's' }),
  invalid: { addresses: [], stream: 's' },
  legacy: ['rediss://h:6380/ha?max_len_approx=5', { addresses: ['h:6380'], stream: 'ha', tls: true, max_length: 5 }],
});

test('provision opens two connections (commands, blocking reader), shared by identical configs; the last cleanup closes both', { skip }, async () => {
  const cfg: RedisTransportConfig = { addresses: [server.address], stream: streamName(), password: 'pw' };
  const before = await ourConnections(server);
  const first = redisTransportModule.create(cfg);
  assert.equal(await ourConnections(server), before);
  const pool = new UsagePool();
  await first.provision(context(pool));
  assert.equal(await ourConnections(server), before + 2);
  const second = redisTransportModule.create({ ...cfg, '@span': 'Caddyfile:9:5' });
  await second.provision(context(pool));
  assert.equal(await ourConnections(server), before + 2);
  await first.cleanup();
  await second.cleanup();
  assert.equal(await ourConnections(server), before);
});

test('a wrong password fails the provision with the server answer and leaves no connection', { skip }, async () => {
  const pool = new UsagePool();
  const wrongPassword = redisTransportModule.create({ addresses: [server.address], stream: 's', password: 'nope' });
  await assert.rejects(wrongPassword.provision(context(pool)), { code: 'ERR_TRANSPORT_UNAVAILABLE', message: /WRONGPASS/ });
  await wrongPassword.cleanup();
  assert.equal(await ourConnections(server), 0);
});

test('address caddy-storage-redis.alt runs its commands on the storage module\'s connection', { skip }, async () => {
  const storageClient = new Redis({ host: server.host, port: server.port, password: 'pw', connectionName: 'caddy-storage-redis' });
  await once(storageClient, 'ready');
  const storage = { client: () => storageClient, toJSON: () => ({ address: [server.address] }) } as unknown as Storage;
  const cfg: RedisTransportConfig = { addresses: [], stream: streamName(), address_from_storage: true };
  const pool = new UsagePool();
  const names = async () => ((await storageClient.client('LIST')) as string).split('\n').map((l) => /name=(\S*)/.exec(l)?.[1] ?? '').filter(Boolean);
  const before = await names();
  for (const ctx of [context(pool, storage), context(pool, undefined, new Map([['caddy.storage.redis', storage]]))]) {
    const m = redisTransportModule.create(cfg);
    await m.provision(ctx);
    const sub = new Recorder([BOOK]);
    await m.transport.subscribe(sub);
    await m.transport.dispatch(update(`alt-${sub.id}`, BOOK));
    await sub.waitFor(1);
    // One connection set: the storage's own, plus the one blocking reader XREAD BLOCK needs.
    const added = (await names()).filter((n) => !before.includes(n));
    assert.equal(added.length, 1, `connections added: ${added.join(', ')}`);
    assert.match(added[0]!, /^quicksilver:.*:reader$/);
    await m.cleanup();
    assert.equal(storageClient.status, 'ready', 'the storage keeps its connection');
  }
  storageClient.disconnect();
  const none = redisTransportModule.create(cfg);
  await assert.rejects(none.provision(context(pool)), { code: 'ERR_CFG_VALUE', message: /needs the `storage redis` global option/ });
  await none.cleanup();
});

test('tls: true verifies against the CAs the process trusts', { skip }, async (t) => {
  const files = await makeTlsFiles();
  t.after(() => rm(files.dir, { recursive: true, force: true }));
  const tlsServer = await startRedis({ tls: files });
  t.after(() => tlsServer.destroy());
  const cfg: RedisTransportConfig = { addresses: [`localhost:${tlsServer.port}`], stream: streamName(), tls: true };
  const pool = new UsagePool();
  const untrusted = redisTransportModule.create(cfg);
  await assert.rejects(untrusted.provision(context(pool)), { code: 'ERR_TRANSPORT_UNAVAILABLE', message: /certificate/i });
  await untrusted.cleanup();
  setDefaultCACertificates([...getCACertificates('default'), files.caPem]);
  const m = redisTransportModule.create(cfg);
  await m.provision(context(pool));
  const sub = new Recorder([BOOK]);
  await m.transport.subscribe(sub);
  await m.transport.dispatch(update('over-tls', BOOK));
  await sub.waitFor(1);
  assert.deepEqual(await m.transport.health(), { ready: true, live: true });
  await m.cleanup();
});
