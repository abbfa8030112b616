/**
 * Presence across nodes on a real redis-server: union of live nodes, leave,
 * clean close, and a dead node (a SIGKILLed child process) expiring within
 * the TTL while a live node with the same TTL stays listed.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { redisSkipReason, startRedis, startBackend, streamName, waitFor, type RedisServer } from '../../helpers/redis-server.ts';

const skip = redisSkipReason();
let server: RedisServer;
before(async () => { if (!skip) server = await startRedis(); });
after(() => server?.destroy());

const ids = async (list: Promise<{ id: string }[]>) => (await list).map((s) => s.id).sort();

test('list() is the union of every node; leave and close remove entries', { skip }, async () => {
  const stream = streamName();
  const a = await startBackend({ addresses: [server.address], stream });
  const b = await startBackend({ addresses: [server.address], stream });
  a.backend.presence.join({ id: 'a1', topics: ['t1', 't1'], payload: { user: 'alice' } });
  a.backend.presence.join({ id: 'a2', topics: ['t2'] });
  b.backend.presence.join({ id: 'b1', topics: ['t3'] });
  assert.deepEqual(await ids(b.backend.presence.list()), ['a1', 'a2', 'b1']);
  const a1 = (await b.backend.presence.list()).find((s) => s.id === 'a1');
  assert.deepEqual(a1, { id: 'a1', topics: ['t1', 't1'], payload: { user: 'alice' } });
  a.backend.presence.leave('a2');
  assert.deepEqual(await ids(b.backend.presence.list()), ['a1', 'b1']);
  await a.backend.close();
  assert.deepEqual(await ids(b.backend.presence.list()), ['b1']);
  await b.backend.close();
});

test('a dead node\'s subscribers expire within the TTL; a live node\'s stay', { skip }, async (t) => {
  const stream = streamName();
  const ttl = 600;
  const live = await startBackend({ addresses: [server.address], stream, presenceTtlMs: ttl });
  t.after(() => live.backend.close());
  live.backend.presence.join({ id: 'live-1', topics: ['t'] });
  const joinedAt = Date.now();

  // A second node in its own process, so it can die without a goodbye.
  const redisTs = pathToFileURL(join(import.meta.dirname, '../../../src/transports/redis/backend.ts')).href;
  const code = `
    import { RedisBackend } from ${JSON.stringify(redisTs)};
    const b = new RedisBackend({ addresses: [${JSON.stringify(server.address)}], stream: ${JSON.stringify(stream)}, presenceTtlMs: ${ttl} });
    await b.start({ deliver() {}, connection() {} });
    b.presence.join({ id: 'dead-1', topics: ['t'] });
    b.presence.join({ id: 'dead-2', topics: ['t'] });
    await b.presence.list();
    process.stdout.write('ready\\n');
    setInterval(() => {}, 1 << 30);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  await once(child.stdout!, 'data');
  assert.deepEqual(await ids(live.backend.presence.list()), ['dead-1', 'dead-2', 'live-1']);

  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
  const killedAt = Date.now();
  await waitFor(async () => (await ids(live.backend.presence.list())).join() === 'live-1', 5_000, 20);
  const gone = Date.now() - killedAt;
  assert.ok(gone <= ttl + 250, `dead node listed for ${gone} ms (TTL ${ttl} ms)`);
  // The live node has outlived several TTLs thanks to its heartbeat.
  await waitFor(() => Date.now() - joinedAt > 2 * ttl, 5_000, 20);
  assert.deepEqual(await ids(live.backend.presence.list()), ['live-1']);
});
