/**
 * Outages against a real redis-server: a killed connection and a server
 * restart. The backend must report the outage (health, publish → 503 code),
 * heal by itself, and resume reading with no gap and no duplicate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redisSkipReason, startRedis, startBackend, update, streamName, type RedisServer } from '../../helpers/redis-server.ts';

const skip = redisSkipReason();

/** CLIENT KILL every connection whose name starts with prefix; returns how many. */
async function killClients(server: RedisServer, prefix: string): Promise<number> {
  const list = await server.cli('client', 'list');
  let n = 0;
  for (const line of list.split('\n')) {
    const id = /\bid=(\d+)/.exec(line)?.[1];
    const name = /\bname=(\S*)/.exec(line)?.[1] ?? '';
    if (id && name.startsWith(prefix)) { await server.cli('client', 'kill', 'id', id); n++; }
  }
  return n;
}

test('a killed reader connection resumes from the last entry: no gap, no duplicate', { skip }, async (t) => {
  const server = await startRedis();
  t.after(() => server.destroy());
  const stream = streamName();
  const victim = await startBackend({ addresses: [server.address], stream, nodeId: 'victim' });
  const other = await startBackend({ addresses: [server.address], stream, nodeId: 'other' });
  t.after(() => Promise.all([victim.backend.close(), other.backend.close()]));
  for (let i = 0; i < 5; i++) await other.backend.publish(update(`k${i}`));
  await victim.sink.count(5);
  const down = victim.sink.connectionChange(false);
  assert.equal(await killClients(server, 'quicksilver:victim:reader'), 1);
  // Publish while the victim's reader is away; they must arrive after it is back.
  for (let i = 5; i < 10; i++) await other.backend.publish(update(`k${i}`));
  await down;
  await victim.sink.connectionChange(true);
  await victim.sink.count(10);
  await other.sink.count(10);
  assert.deepEqual(victim.sink.ids, other.sink.ids);
  assert.deepEqual(victim.sink.ids, Array.from({ length: 10 }, (_, i) => `k${i}`));
});

test('killing every connection: both nodes heal and carry on', { skip }, async (t) => {
  const server = await startRedis();
  t.after(() => server.destroy());
  const stream = streamName();
  const a = await startBackend({ addresses: [server.address], stream, nodeId: 'a' });
  const b = await startBackend({ addresses: [server.address], stream, nodeId: 'b' });
  t.after(() => Promise.all([a.backend.close(), b.backend.close()]));
  await a.backend.publish(update('before'));
  await b.sink.count(1);
  const ups = [a.sink.connectionChange(true), b.sink.connectionChange(true)];
  await killClients(server, 'quicksilver:');
  await Promise.all(ups);
  await a.backend.publish(update('after'));
  await b.sink.count(2);
  await a.sink.count(2);
  assert.deepEqual(a.sink.ids, ['before', 'after']);
  assert.deepEqual(b.sink.ids, ['before', 'after']);
});

test('a server restart: unhealthy and 503 while down, then resumes with history intact', { skip }, async (t) => {
  const server = await startRedis({ persistent: true });
  t.after(() => server.destroy());
  const stream = streamName();
  const a = await startBackend({ addresses: [server.address], stream, nodeId: 'a' });
  const b = await startBackend({ addresses: [server.address], stream, nodeId: 'b' });
  t.after(() => Promise.all([a.backend.close(), b.backend.close()]));
  a.backend.presence.join({ id: 'sub-1', topics: ['https://example.com/books/1'] });
  for (let i = 0; i < 3; i++) await b.backend.publish(update(`r${i}`));
  await a.sink.count(3);

  const down = Promise.all([a.sink.connectionChange(false), b.sink.connectionChange(false)]);
  await server.stop();
  await down;
  await assert.rejects(a.backend.publish(update('lost')), { code: 'ERR_TRANSPORT_UNAVAILABLE' });
  await assert.rejects(a.backend.health(), { code: 'ERR_TRANSPORT_UNAVAILABLE' });
  await assert.rejects(a.backend.history('earliest', () => {}), { code: 'ERR_TRANSPORT_UNAVAILABLE' });

  const up = Promise.all([a.sink.connectionChange(true), b.sink.connectionChange(true)]);
  await server.start();
  await up;
  await a.backend.health();
  for (let i = 3; i < 6; i++) await b.backend.publish(update(`r${i}`));
  await a.sink.count(6);
  await b.sink.count(6);
  const expected = Array.from({ length: 6 }, (_, i) => `r${i}`);
  assert.deepEqual(a.sink.ids, expected);
  assert.deepEqual(b.sink.ids, expected);
  const replay: string[] = [];
  await a.backend.history('earliest', (u) => { replay.push(u.id); });
  assert.deepEqual(replay, expected);
  // Presence is written again after the reconnect (the server may have lost it).
  assert.deepEqual((await b.backend.presence.list()).map((s) => s.id), ['sub-1']);
});

test('a restart that lost all data: reading continues with the new stream', { skip }, async (t) => {
  const server = await startRedis();
  t.after(() => server.destroy());
  const stream = streamName();
  const a = await startBackend({ addresses: [server.address], stream });
  t.after(() => a.backend.close());
  a.backend.presence.join({ id: 'sub-2', topics: ['x'] });
  await a.backend.publish(update('v0'));
  await a.sink.count(1);
  const up = a.sink.connectionChange(true);
  await server.restart();
  await up;
  await a.backend.publish(update('v1'));
  await a.sink.count(2);
  assert.deepEqual(a.sink.ids, ['v0', 'v1']);
  assert.deepEqual((await a.backend.presence.list()).map((s) => s.id), ['sub-2']);
});

test('start fails with ERR_TRANSPORT_UNAVAILABLE when nothing listens, and leaves nothing running', { skip }, async () => {
  const { freePort } = await import('../../helpers/redis-server.ts');
  const { RedisBackend } = await import('../../../src/transports/redis/backend.ts');
  const b = new RedisBackend({ addresses: [`127.0.0.1:${await freePort()}`], stream: 's' });
  await assert.rejects(b.start({ deliver() {}, connection() {} }), { code: 'ERR_TRANSPORT_UNAVAILABLE', message: /ECONNREFUSED/ });
  await b.close();
  await b.close();
});
