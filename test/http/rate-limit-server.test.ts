/**
 * End to end through the host: a Caddyfile with `storage redis` and a
 * distributed `rate_limit` is adapted, provisioned and started by Instance,
 * and real requests show the 429 reaching `handle_errors`, where it can be
 * reshaped, or stripped of Retry-After.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adaptCaddyfile } from '../../directives/adapter.ts';
import { Instance } from '../../src/host/instance.ts';
import { UsagePool } from '../../src/host/usage-pool.ts';
import { registerStandardModules } from '../../src/runtime/standard.ts';
import type { HttpApp } from '../../src/http/app.ts';
import type { RedisStorage } from '../../src/storage/redis-storage.ts';
import { REDIS_STORAGE_SERVICE as REGISTRY_KEY } from '../../src/host/services.ts';
import { type RedisServer, redisSkipReason, startRedis } from '../helpers/redis-server.ts';

registerStandardModules();
const skip = redisSkipReason();
let server: RedisServer;
before(async () => { if (!skip) server = await startRedis(); });
after(async () => { await server?.destroy(); });

async function run(t: { after(fn: () => unknown): void }, caddyfile: string) {
  const { config } = adaptCaddyfile(caddyfile, { file: 'Caddyfile' });
  const dataDir = await mkdtemp(join(tmpdir(), 'qs-rl-'));
  const instance = new Instance(config, { log: pino({ level: 'silent' }), pool: new UsagePool(), dataDir });
  // Registered first, so a failed provision still removes the data dir.
  t.after(async () => { await instance.stop(0); await instance.cleanup(); await rm(dataDir, { recursive: true, force: true }); });
  await instance.provision();
  await instance.start();
  const app = instance.app.registry.get('apps.http') as HttpApp;
  return { instance, url: `http://127.0.0.1:${app.port('srv0')}` };
}

test('a Caddyfile with storage redis and rate_limit: 429 through handle_errors', { skip }, async (t) => {
  const { instance, url } = await run(t, `{
	admin off
	storage redis {
		address ${server.address}
		key_prefix e2e
	}
}
http://127.0.0.1:0 {
	rate_limit {
		zone per_client {
			key {remote_host}
			events 2
			window 1m
		}
		distributed
	}
	respond "ok"
	handle_errors 429 {
		respond "slow down ({http.rate_limit.exceeded.name})" 429
	}
}
`);
  assert.equal((await fetch(url)).status, 200);
  assert.equal((await fetch(url)).status, 200);
  const refused = await fetch(url);
  assert.equal(refused.status, 429);
  assert.equal(await refused.text(), 'slow down (per_client)');
  const retry = Number(refused.headers.get('retry-after'));
  assert.ok(retry >= 59 && retry <= 61, `Retry-After ${retry}`);
  // The global storage is the one registered for `address caddy-storage-redis.alt`.
  const storage = instance.app.registry.get(REGISTRY_KEY) as RedisStorage;
  assert.equal(await storage.client().ping(), 'PONG');
});

test('without error routes the 429 is empty; handle_errors can drop Retry-After', { skip }, async (t) => {
  const zone = 'zone z {\n\t\t\tkey static\n\t\t\tevents 1\n\t\t\twindow 1m\n\t\t}';
  const plain = await run(t, `{\n\tadmin off\n}\nhttp://127.0.0.1:0 {\n\trate_limit {\n\t\t${zone}\n\t}\n\trespond "ok"\n}\n`);
  await fetch(plain.url);
  const r = await fetch(plain.url);
  assert.deepEqual([r.status, await r.text(), r.headers.get('retry-after')], [429, '', '60']);

  const stripped = await run(t, `{\n\tadmin off\n}\nhttp://127.0.0.1:0 {\n\trate_limit {\n\t\tzone z2 {\n\t\t\tkey static\n\t\t\tevents 1\n\t\t\twindow 1m\n\t\t}\n\t}\n\trespond "ok"\n\thandle_errors {\n\t\theader -Retry-After\n\t\trespond "{err.status_code}" 429\n\t}\n}\n`);
  await fetch(stripped.url);
  const s = await fetch(stripped.url);
  assert.deepEqual([s.status, await s.text(), s.headers.get('retry-after')], [429, '429', null]);
});
