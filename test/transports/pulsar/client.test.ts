/**
 * The Pulsar binary-protocol client (no Mercure) against ONE real standalone
 * broker started for this file, plus the framing and checksum on their own.
 * The broker (one for the file) requires token authentication on both its
 * plain and its TLS port.
 * Not covered: LOOKUP redirects (a standalone broker owns every topic, so it
 * always answers Connect).
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { crc32c } from '../../../src/transports/pulsar/client/crc32c.ts';
import { encodeCommand, encodePayloadCommand, FrameReader } from '../../../src/transports/pulsar/client/frame.ts';
import { T } from '../../../src/transports/pulsar/client/proto.ts';
import { parseServiceUrl, PulsarClient, PulsarError, type Message, type MessageId } from '../../../src/transports/pulsar/client/index.ts';
import { PulsarBroker, pulsarSkipReason, pulsarToken } from '../../helpers/brokers/pulsar.ts';
import { makeTlsFiles, type TlsFiles } from '../../helpers/redis-server.ts';
import { eventually } from '../recorder.ts';

describe('pulsar framing', () => {
  test('CRC32C matches the Castagnoli check value', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  });

  test('simple and payload frames round-trip through the reader, split at any byte; a flipped payload bit fails the checksum', () => {
    const simple = encodeCommand({ type: T.PING, ping: {} });
    const payload = encodePayloadCommand({ type: T.SEND, send: { producer_id: 1, sequence_id: 7 } },
      { producer_name: 'p', sequence_id: 7, publish_time: 1, properties: [{ key: 'k', value: 'v' }] }, Buffer.from('hello'));
    const all = Buffer.concat([simple, payload]);
    for (let cut = 1; cut < all.length; cut += 7) {
      const r = new FrameReader();
      const frames = [...r.push(all.subarray(0, cut)), ...r.push(all.subarray(cut))];
      assert.equal(frames.length, 2);
      assert.equal(frames[0]!.command.type, T.PING);
      assert.equal(frames[1]!.payload!.toString(), 'hello');
      assert.equal(frames[1]!.checksumOk, true);
      assert.deepEqual(frames[1]!.metadata!.properties, [{ key: 'k', value: 'v' }]);
    }
    const bad = Buffer.from(payload);
    bad[bad.length - 1] ^= 1;
    assert.equal(new FrameReader().push(bad)[0]!.checksumOk, false);
    assert.throws(() => new FrameReader(100).push(payload.subarray(0, 4).fill(0xff)), { code: 'ProtocolError' });
  });

  test('service URLs: pulsar:// and pulsar+ssl:// with default ports, several hosts; others are typed errors', () => {
    assert.deepEqual(parseServiceUrl('pulsar://a'), [{ host: 'a', port: 6650, tls: false }]);
    assert.deepEqual(parseServiceUrl('pulsar+ssl://a:1,b'), [{ host: 'a', port: 1, tls: true }, { host: 'b', port: 6651, tls: true }]);
    assert.throws(() => parseServiceUrl('http://a:1'), { code: 'InvalidUrl' });
  });
});

const skip = await pulsarSkipReason();
let broker: PulsarBroker;
let tls: TlsFiles;
const secret = randomBytes(32);
const token = pulsarToken(secret, 'hub');
before(async () => {
  if (skip) return;
  tls = await makeTlsFiles();
  broker = await PulsarBroker.create({ tls, tokenSecret: secret });
}, { timeout: 600_000 });
after(async () => { await broker?.destroy(); if (tls) await rm(tls.dir, { recursive: true, force: true }); });

describe('pulsar client against a real broker', { skip }, () => {
  let client: PulsarClient;
  before(() => { client = new PulsarClient({ serviceUrl: broker.url, token, operationTimeoutMs: 5_000, backoffMaxMs: 1_000 }); });
  after(async () => { await client?.close(); });

  const topic = () => `persistent://public/default/client-${randomUUID().slice(0, 8)}`;
  const collect = () => {
    const got: Message[] = [];
    return { got, onMessage: (m: Message) => { got.push(m); }, texts: () => got.map((m) => m.payload.toString()) };
  };

  test('PRODUCER/SEND/SEND_RECEIPT give increasing ids; GET_LAST_MESSAGE_ID is the last one; readers start after an id or at earliest', async () => {
    const t = topic();
    const p = await client.createProducer({ topic: t });
    const ids: MessageId[] = [];
    for (let i = 0; i < 5; i++) ids.push(await p.send({ payload: Buffer.from(`m${i}`), properties: { i: String(i) }, key: 'k' }));
    for (let i = 1; i < 5; i++) assert.ok(ids[i]!.entryId > ids[i - 1]!.entryId || ids[i]!.ledgerId > ids[i - 1]!.ledgerId);
    const after2 = collect(), all = collect();
    const r1 = await client.subscribe({ topic: t, subscription: 'r1', durable: false, start: ids[1]!, onMessage: after2.onMessage });
    const r2 = await client.subscribe({ topic: t, subscription: 'r2', durable: false, start: 'earliest', onMessage: all.onMessage });
    assert.deepEqual(await r1.getLastMessageId(), ids[4]);
    await eventually(async () => after2.got.length === 3 && all.got.length === 5, 'readers catch up');
    assert.deepEqual(after2.texts(), ['m2', 'm3', 'm4'], 'the start id is exclusive');
    assert.deepEqual(all.texts(), ['m0', 'm1', 'm2', 'm3', 'm4']);
    assert.deepEqual(all.got[3]!.properties, { i: '3' });
    assert.equal(all.got[3]!.key, 'k');
    assert.equal(all.got[3]!.producerName, p.name);
    await Promise.all([r1.close(), r2.close(), p.close()]);
  });

  test('a named Exclusive durable subscription: a second consumer gets ConsumerBusy; unacked messages come back after a resubscribe', async () => {
    const t = topic();
    const p = await client.createProducer({ topic: t });
    const a = collect();
    const c1 = await client.subscribe({ topic: t, subscription: 'named', subType: 'Exclusive', start: 'earliest', onMessage: a.onMessage });
    await assert.rejects(client.subscribe({ topic: t, subscription: 'named', onMessage: () => {} }),
      (err: PulsarError) => err instanceof PulsarError && err.code === 'ConsumerBusy' && err.serverError === 5);
    for (let i = 0; i < 4; i++) await p.send({ payload: Buffer.from(`d${i}`) });
    await eventually(async () => a.got.length === 4, 'four delivered');
    c1.ack(a.got[0]!.id);
    c1.ack(a.got[1]!.id);
    await c1.close();
    const b = collect();
    const c2 = await client.subscribe({ topic: t, subscription: 'named', onMessage: b.onMessage });
    await eventually(async () => b.got.length === 2, 'the two unacked ones are redelivered');
    assert.deepEqual(b.texts(), ['d2', 'd3']);
    await Promise.all([c2.close(), p.close()]);
  });

  test('SEEK back to an id replays from it (inclusive); batches are split into their messages with batch indexes', async () => {
    const t = topic();
    const p = await client.createProducer({ topic: t });
    const first = await p.send({ payload: Buffer.from('one') });
    const batchId = await p.sendBatch([{ payload: Buffer.from('b0'), properties: { n: '0' } }, { payload: Buffer.from('b1'), properties: { n: '1' } }]);
    await p.send({ payload: Buffer.from('two') });
    const a = collect();
    const c = await client.subscribe({ topic: t, subscription: 'seeker', start: 'earliest', onMessage: a.onMessage });
    await eventually(async () => a.got.length === 4, 'all four');
    assert.deepEqual(a.texts(), ['one', 'b0', 'b1', 'two']);
    assert.deepEqual(a.got.slice(1, 3).map((m) => [m.id.entryId, m.id.batchIndex, m.properties.n]), [[batchId.entryId, 0, '0'], [batchId.entryId, 1, '1']]);
    await c.seek(first);
    await eventually(async () => a.got.length === 8, 'replayed after the seek');
    assert.deepEqual(a.texts().slice(4), ['one', 'b0', 'b1', 'two']);
    await Promise.all([c.close(), p.close()]);
  });

  test('a dropped connection: producer and reader reconnect with back-off; the reader resumes after its last message (nothing twice, nothing skipped)', async () => {
    const t = topic();
    const p = await client.createProducer({ topic: t });
    const a = collect();
    const states: boolean[] = [];
    const r = await client.subscribe({ topic: t, subscription: 'resumer', durable: false, start: 'earliest', onMessage: a.onMessage, onState: (up) => states.push(up) });
    for (let i = 0; i < 3; i++) await p.send({ payload: Buffer.from(`x${i}`) });
    await eventually(async () => a.got.length === 3, 'three before');
    (await client.lookup(t)).close();
    await assert.rejects(p.send({ payload: Buffer.from('lost') }), { code: 'Disconnected' });
    await eventually(async () => p.ready && r.ready, 'both back');
    for (let i = 3; i < 6; i++) await p.send({ payload: Buffer.from(`x${i}`) });
    await eventually(async () => a.got.length === 6, 'three after');
    assert.deepEqual(a.texts(), ['x0', 'x1', 'x2', 'x3', 'x4', 'x5']);
    assert.deepEqual(states, [false, true]);
    await Promise.all([r.close(), p.close()]);
  });

  test('a topic unload: the broker sends CLOSE_PRODUCER and CLOSE_CONSUMER; both come back by themselves, nothing lost or repeated', async () => {
    const t = topic();
    const p = await client.createProducer({ topic: t });
    const a = collect();
    const states: string[] = [];
    const r = await client.subscribe({ topic: t, subscription: 'unload', durable: false, start: 'earliest', onMessage: a.onMessage, onState: (up) => states.push(`consumer ${up}`) });
    await p.send({ payload: Buffer.from('u0') });
    await eventually(async () => a.got.length === 1, 'one before');
    await broker.admin('PUT', `/admin/v2/persistent/${t.slice('persistent://'.length)}/unload`);
    await eventually(async () => states.includes('consumer false') && p.ready && r.ready, 'closed by the broker, then back');
    await p.send({ payload: Buffer.from('u1') });
    await eventually(async () => a.got.length === 2, 'one after');
    assert.deepEqual(a.texts(), ['u0', 'u1']);
    await Promise.all([r.close(), p.close()]);
  });

  test('a non-persistent topic: every message is handed over although all carry the same placeholder id', async () => {
    const t = `non-persistent://public/default/np-${randomUUID().slice(0, 8)}`;
    const a = collect();
    const r = await client.subscribe({ topic: t, subscription: 'np', durable: false, start: 'latest', onMessage: a.onMessage });
    const p = await client.createProducer({ topic: t });
    for (let i = 0; i < 3; i++) await p.send({ payload: Buffer.from(`n${i}`) });
    await eventually(async () => a.got.length === 3, 'three non-persistent messages');
    assert.deepEqual(a.texts(), ['n0', 'n1', 'n2']);
    await Promise.all([r.close(), p.close()]);
  });

  test('PING/PONG keeps an idle connection open; a message above max_message_size is a typed error before it is sent', async () => {
    const c = new PulsarClient({ serviceUrl: broker.url, token, keepAliveMs: 200 });
    try {
      const t = topic();
      const p = await c.createProducer({ topic: t });
      const conn = await c.lookup(t);
      await new Promise((r) => setTimeout(r, 1_000)); // idle for 5 keep-alive periods: only PING/PONG keeps it
      assert.equal(conn.closed, false);
      assert.equal(p.maxMessageSize, 5 * 1024 * 1024, 'the broker announces its maximum message size');
      await assert.rejects(p.send({ payload: Buffer.alloc(6 << 20) }), { code: 'MessageTooLarge' });
      assert.ok((await p.send({ payload: Buffer.from('still fine') })).entryId >= 0n);
    } finally { await c.close(); }
  });
});

describe('pulsar client: token authentication, TLS', { skip }, () => {
  test('pulsar+ssl:// with the CA and a valid token: produce and read back', async () => {
    const c = new PulsarClient({ serviceUrl: broker.urlTls, tls: { ca: tls.caPem }, token });
    try {
      const t = `persistent://public/default/tls-${randomUUID().slice(0, 8)}`;
      const p = await c.createProducer({ topic: t });
      const id = await p.send({ payload: Buffer.from('secure') });
      const got: string[] = [];
      await c.subscribe({ topic: t, subscription: 'r', durable: false, start: 'earliest', onMessage: (m) => { got.push(m.payload.toString()); } });
      await eventually(async () => got.length === 1, 'read back over TLS');
      assert.deepEqual(got, ['secure']);
      assert.ok(id.entryId >= 0n);
    } finally { await c.close(); }
  });

  test('a wrong token is AuthenticationError; no token is refused too; an unknown CA fails the TLS handshake', async () => {
    for (const wrong of [pulsarToken(randomBytes(32), 'hub'), undefined]) {
      const c = new PulsarClient({ serviceUrl: broker.urlTls, tls: { ca: tls.caPem }, token: wrong });
      try {
        await assert.rejects(c.createProducer({ topic: 'persistent://public/default/nope' }), (err: PulsarError) => err instanceof PulsarError && err.code === 'AuthenticationError' && err.serverError === 3);
      } finally { await c.close(); }
    }
    const c = new PulsarClient({ serviceUrl: broker.urlTls, token });
    try {
      await assert.rejects(c.createProducer({ topic: 'persistent://public/default/nope' }), (err: PulsarError) => err.code === 'Disconnected' && /certificate/i.test(err.message));
    } finally { await c.close(); }
  });
});
