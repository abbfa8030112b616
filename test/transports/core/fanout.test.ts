/**
 * Core behaviour the conformance suite can't force through a real backend:
 * a stream that lags behind history, history without tail(), presence,
 * connection loss, backend errors, the held-updates cap, shared buffers.
 * The backend here is an in-memory implementation of the Backend contract.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Fanout } from '../../../src/transports/core/fanout.ts';
import { LocalBackend } from '../../../src/transports/local/backend.ts';
import type { Backend, BackendSink, HistoryResult, PresenceBackend, SubscriberInfo, Update } from '../../../src/transports/core/contract.ts';
import { Recorder, update } from '../recorder.ts';

/** History in an array; the live stream is released by hand (release()), so it can lag. */
class ManualBackend implements Backend {
  log: { update: Update; seq: bigint }[] = [];
  released = 0;
  sink!: BackendSink;
  failPublish: Error | undefined;
  failHistory: Error | undefined;
  /** When set, history() waits for it after taking its snapshot (a slow read). */
  gate: Promise<void> | undefined;
  presence?: PresenceBackend;
  async start(sink: BackendSink): Promise<void> { this.sink = sink; }
  async publish(u: Update): Promise<void> {
    if (this.failPublish) throw this.failPublish;
    this.log.push({ update: u, seq: BigInt(this.log.length + 1) });
  }
  release(upTo = this.log.length): void {
    for (; this.released < upTo; this.released++) this.sink.deliver(this.log[this.released]!.update, this.log[this.released]!.seq);
  }
  async history(afterId: string, visit: (u: Update, seq: bigint) => boolean | void): Promise<HistoryResult> {
    if (this.failHistory) throw this.failHistory;
    const head = this.log.length;
    if (this.gate) await this.gate;
    const at = afterId === 'earliest' ? 0 : this.log.findIndex((e) => e.update.id === afterId) + 1;
    if (at === 0 && afterId !== 'earliest') return { found: false, lastSeq: BigInt(head) };
    for (const e of this.log.slice(at, head)) if (visit(e.update, e.seq) === false) break;
    return { found: true, lastSeq: BigInt(head) };
  }
  async close(): Promise<void> {}
}

async function started(backend: Backend, opts = {}): Promise<Fanout> {
  const f = new Fanout(backend, opts);
  await f.start();
  return f;
}

test('a stream lagging behind history: replayed updates are not delivered again', async () => {
  const b = new ManualBackend();
  const t = await started(b);
  for (let i = 1; i <= 5; i++) await t.dispatch(update(`u${i}`, 'x'));
  b.release(2); // the stream has only delivered u1, u2 so far
  const sub = new Recorder(['x'], null, { fence: false });
  assert.equal(await t.subscribe(sub, 'u1'), 'u1');
  assert.deepEqual(sub.ids(), ['u2', 'u3', 'u4', 'u5']);
  await t.dispatch(update('u6', 'x'));
  b.release(); // u3…u6 arrive late from the stream
  assert.deepEqual(sub.ids(), ['u2', 'u3', 'u4', 'u5', 'u6']);
});

test('unknown ID without tail(): scans history, never discloses a private ID', async () => {
  const b = new ManualBackend();
  const t = await started(b);
  await t.dispatch(update('p1', 'x'));
  await t.dispatch(update('p2', 'x'));
  await t.dispatch(update('secret', 'x', { private: true }));
  assert.equal(await t.subscribe(new Recorder(['x']), 'gone'), 'p2');
  assert.equal(await t.subscribe(new Recorder(['x'], ['x']), 'gone'), 'secret');
});

test('all subscribers share one serialised buffer', async () => {
  const t = await started(new LocalBackend());
  const bufs: Buffer[] = [];
  for (let i = 0; i < 3; i++) {
    await t.subscribe({ id: `s${i}`, topics: ['x'], privateTopics: null, send: (buf) => { bufs.push(buf); return true; }, close() {} });
  }
  await t.dispatch(update('one', 'x'));
  assert.equal(bufs.length, 3);
  assert.ok(bufs[0] === bufs[1] && bufs[1] === bufs[2]);
});

test('presence goes through the backend when it has one', async () => {
  const b = new ManualBackend();
  const joined: SubscriberInfo[] = [];
  const left: string[] = [];
  b.presence = { join: (i) => { joined.push(i); }, leave: (id) => { left.push(id); }, list: async () => [{ id: 'remote', topics: ['*'] }] };
  const t = await started(b);
  const sub = new Recorder(['x'], null, { payload: { a: 1 }, fence: false });
  await t.subscribe(sub);
  assert.deepEqual(joined, [{ id: sub.id, topics: ['x'], payload: { a: 1 } }]);
  assert.deepEqual((await t.subscribers()).subscribers, [{ id: 'remote', topics: ['*'] }]);
  t.unsubscribe(sub);
  assert.deepEqual(left, [sub.id]);
});

test('health follows the backend connection; errors become ERR_TRANSPORT_UNAVAILABLE', async () => {
  const b = new ManualBackend();
  const t = await started(b);
  assert.deepEqual(await t.health(), { ready: true, live: true });
  b.sink.connection(false, new Error('connection reset'));
  assert.deepEqual(await t.health(), { ready: false, live: true, error: 'connection reset' });
  b.sink.connection(true);
  assert.equal((await t.health()).ready, true);
  b.failPublish = new Error('broker down');
  await assert.rejects(t.dispatch(update('x', 'x')), { code: 'ERR_TRANSPORT_UNAVAILABLE', message: /broker down/ });
  b.failHistory = new Error('read failed');
  const sub = new Recorder(['x']);
  await assert.rejects(t.subscribe(sub, 'earliest'), { code: 'ERR_TRANSPORT_UNAVAILABLE' });
  b.failPublish = undefined;
  await t.dispatch(update('after', 'x'));
  b.release();
  assert.deepEqual(sub.ids(), [], 'a failed subscribe leaves nothing registered');
});

test('live updates held during a replay are capped: the subscriber ends with replay-overflow', async () => {
  const b = new ManualBackend();
  const t = await started(b, { maxHeld: 3 });
  await t.dispatch(update('h', 'x'));
  b.release();
  let open!: () => void;
  b.gate = new Promise((r) => { open = r; });
  const sub = new Recorder(['x']);
  const pending = t.subscribe(sub, 'earliest');
  for (let i = 0; i < 5; i++) await t.dispatch(update(`l${i}`, 'x'));
  b.release(); // arrives while the replay waits: held, up to 3
  assert.equal(sub.closedWith, 'replay-overflow');
  open();
  assert.equal(await pending, 'earliest');
  assert.deepEqual(sub.ids(), [], 'dropped before its replay sent anything: it resumes from the same ID');
});

test('a throwing subscriber is dropped without hurting the others', async () => {
  const t = await started(new LocalBackend(), { onError: () => {} });
  let closed = '';
  await t.subscribe({ id: 'bad', topics: ['x'], privateTopics: null, send: () => { throw new Error('boom'); }, close: (r) => { closed = r; } });
  const ok = new Recorder(['x']);
  await t.subscribe(ok);
  await t.dispatch(update('u', 'x'));
  assert.deepEqual(ok.ids(), ['u']);
  assert.equal(closed, 'overflow');
});

test('template index stays right as template selectors come and go', async () => {
  const t = await started(new LocalBackend());
  const a = new Recorder(['https://example.com/books/{id}']);
  await t.subscribe(a);
  await t.dispatch(update('1', 'https://example.com/books/1')); // remembers the topic's template buckets
  const b = new Recorder(['https://example.com/{kind}/1']);
  await t.subscribe(b);
  await t.dispatch(update('2', 'https://example.com/books/1'));
  t.unsubscribe(a);
  await t.dispatch(update('3', 'https://example.com/books/1'));
  const again = new Recorder(['https://example.com/books/{id}']);
  await t.subscribe(again);
  await t.dispatch(update('4', 'https://example.com/books/1'));
  assert.deepEqual(a.ids(), ['1', '2']);
  assert.deepEqual(b.ids(), ['2', '3', '4']);
  assert.deepEqual(again.ids(), ['4']);
});

/** A broker-like backend (Kafka, Pulsar) that cannot check IDs: the core does, over the IDs it saw. */
class CoreDedupeBackend extends ManualBackend {
  readonly dedupe = 'core';
  async tail(visit: (u: Update, seq: bigint) => boolean | void): Promise<void> {
    for (let i = this.log.length - 1; i >= 0; i--) if (visit(this.log[i]!.update, this.log[i]!.seq) === true) return;
  }
}

test("dedupe 'core': IDs retained before start, seen in the stream or in flight are not published again", async () => {
  const b = new CoreDedupeBackend();
  b.log.push({ update: update('old', 'x'), seq: 1n }); // written before this node started
  b.released = 1;
  const t = await started(b, { dedupeWindow: 3 });
  assert.deepEqual(await t.dispatch(update('old', 'x')), { id: 'old', duplicate: true }, 'primed from tail() at start');
  // Another node's update, read back from the stream.
  b.log.push({ update: update('remote', 'x'), seq: 2n });
  b.release();
  assert.deepEqual(await t.dispatch(update('remote', 'x')), { id: 'remote', duplicate: true });
  // Concurrent dispatches of one ID on this node: one publish.
  const racing = await Promise.all([1, 2, 3].map(() => t.dispatch(update('race', 'x'))));
  assert.deepEqual(racing.map((r) => r.duplicate).sort(), [false, true, true]);
  assert.deepEqual(b.log.map((e) => e.update.id), ['old', 'remote', 'race']);
  // A failed publish is not remembered: its retry is published.
  b.failPublish = new Error('broker down');
  await assert.rejects(t.dispatch(update('retry-me', 'x')), { code: 'ERR_TRANSPORT_UNAVAILABLE' });
  b.failPublish = undefined;
  assert.deepEqual(await t.dispatch(update('retry-me', 'x')), { id: 'retry-me', duplicate: false });
  // The window is bounded: the oldest IDs leave it.
  for (const id of ['a', 'b', 'c']) await t.dispatch(update(id, 'x'));
  b.release();
  assert.deepEqual(await t.dispatch(update('old', 'x')), { id: 'old', duplicate: false }, 'out of the window');
});

test('a backend without dedupe (local) publishes every dispatch, repeated IDs included', async () => {
  const b = new ManualBackend();
  const t = await started(b);
  assert.deepEqual(await t.dispatch(update('same', 'x')), { id: 'same', duplicate: false });
  assert.deepEqual(await t.dispatch(update('same', 'x')), { id: 'same', duplicate: false });
  assert.equal(b.log.length, 2);
});
