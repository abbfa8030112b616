/**
 * Authentication and TLS against real redis-server processes: requirepass,
 * an ACL user, and TLS on loopback with a CA made by openssl for the test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { redisSkipReason, startRedis, startBackend, makeTlsFiles, update, streamName } from '../../helpers/redis-server.ts';
import { RedisBackend, type RedisBackendOptions } from '../../../src/transports/redis/backend.ts';

const skip = redisSkipReason();

/** Starting must fail with the transport's code and a message matching re. */
async function startFails(options: RedisBackendOptions, re: RegExp): Promise<void> {
  const b = new RedisBackend(options);
  await assert.rejects(b.start({ deliver() {}, connection() {} }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ERR_TRANSPORT_UNAVAILABLE');
    assert.match(err.message, re);
    return true;
  });
  await b.close();
}

let trips = 0;
/** Publishes one update (a new ID each time: a retained ID is not appended twice) and waits for it to come back. */
async function roundTrip(options: RedisBackendOptions): Promise<void> {
  const { backend, sink } = await startBackend(options);
  const id = `auth-${++trips}`;
  try {
    await backend.publish(update(id));
    await sink.count(1);
    assert.deepEqual(sink.ids, [id]);
  } finally {
    await backend.close();
  }
}

test('password (requirepass)', { skip }, async (t) => {
  const server = await startRedis({ password: 's3cret' });
  t.after(() => server.destroy());
  const base = { addresses: [server.address], stream: streamName() };
  await roundTrip({ ...base, password: 's3cret' });
  await startFails({ ...base, password: 'wrong' }, /WRONGPASS|invalid password/i);
  await startFails(base, /NOAUTH|Authentication required/i);
});

test('ACL user with username and password', { skip }, async (t) => {
  const server = await startRedis({ users: [{ name: 'mercure', password: 'hub-pass' }] });
  t.after(() => server.destroy());
  const base = { addresses: [server.address], stream: streamName() };
  await roundTrip({ ...base, username: 'mercure', password: 'hub-pass' });
  await startFails({ ...base, username: 'mercure', password: 'nope' }, /WRONGPASS/);
  await startFails({ ...base, username: 'nobody', password: 'hub-pass' }, /WRONGPASS/);
});

test('TLS on loopback, with password', { skip }, async (t) => {
  const files = await makeTlsFiles();
  t.after(() => rm(files.dir, { recursive: true, force: true }));
  const server = await startRedis({ tls: files, password: 'pw' });
  t.after(() => server.destroy());
  const base = { addresses: [server.address], stream: streamName(), password: 'pw' };
  await roundTrip({ ...base, tls: { ca: files.caPem } });
  // Also by host name: the certificate names localhost.
  await roundTrip({ ...base, addresses: [`localhost:${server.port}`], tls: { ca: files.caPem } });
  // The system CAs don't know the test CA.
  await startFails({ ...base, tls: true }, /certificate/i);
  // A plain client against the TLS port never gets a reply.
  const plain = new RedisBackend({ ...base });
  const started = plain.start({ deliver() {}, connection() {} });
  await assert.rejects(started, { code: 'ERR_TRANSPORT_UNAVAILABLE' });
  await plain.close();
});
