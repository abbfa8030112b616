/**
 * RedisBackend against a real standalone redis-server: ordering across nodes,
 * history by index (repeated IDs, trimming), entry formats, large updates.
 * Presence, outages, auth/TLS and Cluster have their own files.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  redisSkipReason, startRedis, startBackend, update, streamName, type RedisServer,
} from '../../helpers/redis-server.ts';
import type { RedisBackend } from '../../../src/transports/redis/backend.ts';
import type { Update } from '../../../src/transports/core/contract.ts';
import { entryIdToSeq } from '../../../src/transports/redis/codec.ts';

const skip = redisSkipReason();
let server: RedisServer;
const open: RedisBackend[] = [];

before(async () => { if (!skip) server = await startRedis(); });
after(async () => {
  await Promise.all(open.map((b) => b.close()));
  await server?.destroy();
});

async function node(stream: string, extra: { maxLength?: number; binary?: boolean } = {}) {
  const n = await startBackend({ addresses: [server.address], stream, ...extra });
  open.push(n.backend);
  return n;
}

async function history(b: RedisBackend, afterId: string, stopAfter = Infinity) {
  const seen: { update: Update; seq: bigint }[] = [];
  const res = await b.history(afterId, (u, seq) => { seen.push({ update: u, seq }); if (seen.length >= stopAfter) return false; });
  return { ...res, ids: seen.map((s) => s.update.id), seqs: seen.map((s) => s.seq) };
}

test('every node sees every update once, in one order, with increasing seqs', { skip }, async () => {
  const stream = streamName();
  const a = await node(stream);
  const b = await node(stream);
  const sent = Array.from({ length: 40 }, () => update());
  await Promise.all(sent.map((u, i) => (i % 2 ? a : b).backend.publish(u)));
  await a.sink.count(40);
  await b.sink.count(40);
  assert.deepEqual(a.sink.ids, b.sink.ids);
  assert.deepEqual(new Set(a.sink.ids), new Set(sent.map((u) => u.id)));
  assert.equal(a.sink.updates.length, 40);
  for (let i = 1; i < 40; i++) assert.ok(a.sink.updates[i]!.seq > a.sink.updates[i - 1]!.seq);
  // seq is the stream entry ID, mapped.
  const ids = (await server.cli('xrange', stream, '-', '+')).split('\n').filter((l) => /^\d+-\d+$/.test(l));
  assert.deepEqual(a.sink.updates.map((u) => u.seq), ids.map(entryIdToSeq));
});

test('a node starts at the head: earlier updates are history, not live', { skip }, async () => {
  const stream = streamName();
  const a = await node(stream);
  await a.backend.publish(update('old'));
  await a.sink.count(1);
  const b = await node(stream);
  await a.backend.publish(update('new'));
  await b.sink.count(1);
  await a.sink.count(2);
  assert.deepEqual(b.sink.ids, ['new']);
});

test('history: earliest, after an ID, unknown ID, early stop, empty stream', { skip }, async () => {
  const stream = streamName();
  const a = await node(stream);
  assert.deepEqual(await history(a.backend, 'earliest'), { found: true, lastSeq: 0n, ids: [], seqs: [] });
  assert.deepEqual(await history(a.backend, 'nope'), { found: false, lastSeq: 0n, ids: [], seqs: [] });
  for (const id of ['a', 'b', 'c', 'd']) await a.backend.publish(update(id, { private: id === 'c', type: 't', retry: 7 }));
  await a.sink.count(4);
  const seqs = a.sink.updates.map((u) => u.seq);
  const all = await history(a.backend, 'earliest');
  assert.deepEqual(all.ids, ['a', 'b', 'c', 'd']);
  assert.deepEqual(all.seqs, seqs);
  assert.equal(all.lastSeq, seqs[3]);
  const afterB = await history(a.backend, 'b');
  assert.deepEqual([afterB.found, afterB.ids, afterB.lastSeq], [true, ['c', 'd'], seqs[3]]);
  const afterD = await history(a.backend, 'd');
  assert.deepEqual([afterD.found, afterD.ids, afterD.lastSeq], [true, [], seqs[3]]);
  // Unknown: nothing visited, lastSeq = head.
  assert.deepEqual(await history(a.backend, 'zzz'), { found: false, lastSeq: seqs[3], ids: [], seqs: [] });
  // visit → false stops the read.
  const stopped = await history(a.backend, 'earliest', 2);
  assert.deepEqual([stopped.ids, stopped.lastSeq], [['a', 'b'], seqs[1]]);
  // Every field survives the round trip.
  const replayed: Update[] = [];
  await a.backend.history('b', (u) => { replayed.push(u); });
  assert.deepEqual(replayed[0], { id: 'c', topics: ['https://example.com/books/1'], data: 'data of c', private: true, type: 't', retry: 7 });
});

test('history pages through more than one batch', { skip }, async () => {
  const stream = streamName();
  const a = await node(stream);
  const sent = Array.from({ length: 1300 }, (_, i) => update(`p${i}`));
  await Promise.all(sent.map((u) => a.backend.publish(u)));
  await a.sink.count(1300);
  const all = await history(a.backend, 'earliest');
  assert.deepEqual(all.ids, a.sink.ids);
  const tail = await history(a.backend, a.sink.ids[99]!);
  assert.deepEqual(tail.ids, a.sink.ids.slice(100));
  // tail(): newest first, stops when asked.
  const back: string[] = [];
  await a.backend.tail((u) => { back.push(u.id); return back.length === 600; });
  assert.deepEqual(back, a.sink.ids.slice(-600).reverse());
});

test('a custom ID already retained is not appended again (idempotent publish)', { skip }, async () => {
  const stream = streamName();
  const a = await node(stream);
  const outcomes: string[] = [];
  for (const id of ['x', 'a', 'x', 'b', 'x', 'c']) outcomes.push(await a.backend.publish(update(id)));
  assert.deepEqual(outcomes, ['stored', 'stored', 'duplicate', 'stored', 'duplicate', 'stored']);
  await a.sink.count(4);
  assert.equal(await server.cli('xlen', stream), '4');
  assert.deepEqual((await history(a.backend, 'x')).ids, ['a', 'b', 'c']);
});

test('an ID trimmed out of the stream may be published again, and anchors at its new entry', { skip }, async () => {
  const stream = streamName();
  await server.cli('config', 'set', 'stream-node-max-entries', '1');
  try {
    const a = await node(stream, { maxLength: 4 });
    for (const id of ['x', 'a', 'b', 'c', 'd']) await a.backend.publish(update(id));
    await a.sink.count(5);
    assert.equal(await server.cli('xlen', stream), '4');
    assert.deepEqual((await history(a.backend, 'x')).found, false);
    assert.equal(await a.backend.publish(update('x')), 'stored');
    assert.equal(await a.backend.publish(update('c')), 'duplicate');
    await a.sink.count(6);
    assert.deepEqual((await history(a.backend, 'c')).ids, ['d', 'x']);
    assert.deepEqual((await history(a.backend, 'a')).found, false);
  } finally {
    await server.cli('config', 'set', 'stream-node-max-entries', '100');
  }
});

test('max_length trims approximately and the index follows the stream', { skip }, async () => {
  const stream = streamName();
  const a = await node(stream, { maxLength: 50 });
  for (let i = 0; i < 400; i++) await a.backend.publish(update(`m${i}`));
  await a.sink.count(400);
  const len = Number(await server.cli('xlen', stream));
  assert.ok(len >= 50 && len < 400, `xlen ${len}`);
  assert.equal(Number(await server.cli('hlen', `{${stream}}:ids`)), len);
  assert.equal(Number(await server.cli('llen', `{${stream}}:order`)), len);
  const first = (await history(a.backend, 'earliest')).ids[0]!;
  assert.equal(first, `m${400 - len}`);
  assert.equal((await history(a.backend, 'm0')).found, false);
  assert.deepEqual((await history(a.backend, 'm398')).ids, ['m399']);
});

test('JSON entries are readable by any client; unknown entries are skipped', { skip }, async () => {
  const stream = streamName();
  const a = await node(stream);
  await server.cli('xadd', stream, '*', 'foo', 'bar');
  await a.backend.publish(update('j1', { type: 'ev', retry: 5, topics: ['t1', 't2'], data: 'line1\nline2' }));
  await a.sink.count(1);
  const raw = await server.cli('xrevrange', stream, '+', '-', 'count', '1');
  const lines = raw.split('\n');
  assert.equal(lines[1], 'update');
  assert.deepEqual(JSON.parse(lines.slice(2).join('\n')), { ID: 'j1', Topics: ['t1', 't2'], Data: 'line1\nline2', Private: false, Type: 'ev', Retry: 5 });
  assert.deepEqual(a.sink.ids, ['j1']);
  assert.deepEqual((await history(a.backend, 'earliest')).ids, ['j1']);
  assert.equal(await a.backend.lastEventId(), 'j1');
});

test('gob: compact binary entries, and nodes read either encoding', { skip }, async () => {
  const stream = streamName();
  const bin = await node(stream, { binary: true });
  const json = await node(stream);
  const u1 = update('g1', { type: 'é', retry: 300, private: true, topics: ['a', 'ü/𝄞', ''], data: 'x\u0000y 𝄞' });
  await bin.backend.publish(u1);
  await json.backend.publish(update('g2'));
  await bin.sink.count(2);
  await json.sink.count(2);
  assert.deepEqual(json.sink.updates[0]!.update, u1);
  assert.deepEqual(bin.sink.ids, ['g1', 'g2']);
  const fields = (await server.cli('xrange', stream, '-', '+')).split('\n');
  assert.ok(fields.includes('bin') && fields.includes('update'));
  assert.deepEqual((await history(json.backend, 'earliest')).ids, ['g1', 'g2']);
});

for (const binary of [false, true]) {
  test(`a 1 MB update goes through live and history (${binary ? 'gob' : 'json'})`, { skip }, async () => {
    const stream = streamName();
    const a = await node(stream, { binary });
    const b = await node(stream);
    const data = 'é"\\\n'.repeat(256 * 1024);
    const big = update('big', { data });
    await a.backend.publish(big);
    await b.sink.count(1);
    assert.equal(b.sink.updates[0]!.update.data, data);
    const h: Update[] = [];
    await b.backend.history('earliest', (u) => { h.push(u); });
    assert.equal(h[0]!.data.length, data.length);
    assert.deepEqual(h[0], big);
  });
}
