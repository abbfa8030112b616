/**
 * The one transport conformance suite (undici's cacheStoreTests habit). Every
 * backend's test file calls transportConformance() with a factory that returns
 * a started transport over a FRESH, empty stream, against a real service.
 * Waiting is always on events (Recorder.until, fences), never on sleeps.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { formatEvent } from '../../src/transports/core/event.ts';
import type { Transport } from '../../src/transports/core/contract.ts';
import { eventually, fence, Recorder, update } from './recorder.ts';

/** What the backend under test supports. */
export interface ConformanceOptions {
  /** The backend keeps history (replay, Last-Event-ID). */
  history: boolean;
  /** Check the subscriber list; 'shared' = presence may lag (polled). Default 'local'. */
  presence?: 'local' | 'shared' | false;
  /** Reason to skip the whole suite (e.g. no service URL in the environment). */
  skip?: string;
  /** Per-wait timeout, ms (default 10 000). */
  timeoutMs?: number;
}

/** Returns a started transport over a fresh, empty stream, and how to dispose of it. */
export type TransportFactory = () => Promise<{ transport: Transport; cleanup(): Promise<void> }>;

const BOOKS = 'https://example.com/books/{id}';
const book = (n: number | string): string => `https://example.com/books/${n}`;

/**
 * Registers the conformance tests for one backend: dispatch/receive, topic
 * matching, private delivery, once-per-update, ordering, custom IDs,
 * unsubscribe/overflow, last event ID, replay (earliest, by ID, unknown ID,
 * far back, replay→live join, longer than the buffer), presence, close.
 */
export function transportConformance(name: string, factory: TransportFactory, opts: ConformanceOptions): void {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const rec = (topics: string[], priv: string[] | null = null, o: { payload?: unknown; fence?: boolean } = {}): Recorder =>
    new Recorder(topics, priv, { ...o, timeoutMs });

  /** Runs body with a fresh transport, cleaned up whatever happens. */
  const withTransport = async (body: (t: Transport) => Promise<void>): Promise<void> => {
    const { transport, cleanup } = await factory();
    try { await body(transport); } finally { await cleanup(); }
  };
  const it = (title: string, body: (t: Transport) => Promise<void>, o: { skip?: string | false } = {}): void => {
    test(title, { skip: o.skip || undefined }, () => withTransport(body));
  };
  const historyOnly = opts.history ? false : 'backend keeps no history';

  describe(`transport conformance: ${name}`, { skip: opts.skip }, () => {
    it('delivers a dispatched update as the exact SSE bytes', async (t) => {
      const sub = rec([book(1)]);
      await t.subscribe(sub);
      const u = update('a', book(1), { data: 'line 1\nline 2', type: 'tick', retry: 7 });
      await t.dispatch(u);
      await sub.waitFor(1);
      assert.equal(sub.received[0]!.bytes, formatEvent(u));
      assert.deepEqual(sub.received[0]!.update.topics, [book(1)]);
    });

    it('matches exact topics, URI templates and *', async (t) => {
      const exact = rec([book(1)]), template = rec([BOOKS]), all = rec(['*']), none = rec(['https://example.com/authors/{id}']);
      for (const s of [exact, template, all, none]) await t.subscribe(s);
      await t.dispatch(update('b1', book(1)));
      await t.dispatch(update('b2', book(2)));
      await t.dispatch(update('deep', 'https://example.com/books/1/2'));
      await t.dispatch(update('other', 'string'));
      await fence(t, exact, template, all, none);
      assert.deepEqual(exact.ids(), ['b1']);
      assert.deepEqual(template.ids(), ['b1', 'b2']);
      assert.deepEqual(all.ids(), ['b1', 'b2', 'deep', 'other']);
      assert.deepEqual(none.ids(), []);
    });

    it('applies the private delivery rule, alternate topics included', async (t) => {
      const anonymous = rec([BOOKS]);
      const viaAlternate = rec([BOOKS], ['https://example.com/users/foo/{?topic}']);
      const everything = rec([BOOKS], ['*']);
      const jwtOnly = rec(['https://example.com/unrelated'], ['*']);
      for (const s of [anonymous, viaAlternate, everything, jwtOnly]) await t.subscribe(s);
      const alt = (user: string): string => `https://example.com/users/${user}/?topic=${encodeURIComponent(book(1))}`;
      await t.dispatch(update('foo', [book(1), alt('foo')], { private: true }));
      await t.dispatch(update('bar', [book(1), alt('bar')], { private: true }));
      await t.dispatch(update('public', book(1)));
      await fence(t, anonymous, viaAlternate, everything, jwtOnly);
      assert.deepEqual(anonymous.ids(), ['public']);
      assert.deepEqual(viaAlternate.ids(), ['foo', 'public']);
      assert.deepEqual(everything.ids(), ['foo', 'bar', 'public']);
      assert.deepEqual(jwtOnly.ids(), [], 'a selector only in the JWT never causes delivery');
    });

    it('delivers an update once even when several topics and selectors match', async (t) => {
      const sub = rec([book(1), BOOKS, '*', book(2)], [book(1), '*']);
      await t.subscribe(sub);
      await t.dispatch(update('twice', [book(1), book(2)], { private: true }));
      await fence(t, sub);
      assert.deepEqual(sub.ids(), ['twice']);
    });

    it('keeps one stream order for every subscriber under concurrent dispatch', async (t) => {
      const a = rec([BOOKS]), b = rec(['*']);
      await t.subscribe(a);
      await t.subscribe(b);
      const ids = Array.from({ length: 200 }, (_, i) => `c${i}`);
      await Promise.all(ids.map((id, i) => t.dispatch(update(id, book(i)))));
      await fence(t, a, b);
      assert.deepEqual([...a.ids()].sort(), [...ids].sort(), 'each update exactly once');
      assert.deepEqual(a.ids(), b.ids(), 'same order for everyone');
      const sequential = Array.from({ length: 50 }, (_, i) => `s${i}`);
      for (const id of sequential) await t.dispatch(update(id, book(1)));
      await fence(t, a);
      assert.deepEqual(a.ids().slice(-50), sequential, 'sequential dispatches arrive in order');
    });

    it('idempotent publish: an ID already retained is answered as a duplicate and delivered once', async (t) => {
      const sub = rec([book(1)]);
      await t.subscribe(sub);
      assert.deepEqual(await t.dispatch(update('once', book(1), { data: 'first' })), { id: 'once', duplicate: false });
      assert.deepEqual(await t.dispatch(update('once', book(1), { data: 'retry' })), { id: 'once', duplicate: true });
      // Concurrent retries of one ID (one node here; across nodes the backend's atomic check decides).
      const racing = await Promise.all(Array.from({ length: 8 }, () => t.dispatch(update('race', book(1)))));
      assert.equal(racing.filter((r) => !r.duplicate).length, 1, 'exactly one of the racing dispatches stored');
      await t.dispatch(update('after', book(1)));
      await fence(t, sub);
      assert.deepEqual(sub.ids(), ['once', 'race', 'after']);
      assert.equal(sub.received[0]!.update.data, 'first');
      const replay = rec([book(1)]);
      await t.subscribe(replay, 'earliest');
      await fence(t, replay);
      assert.deepEqual(replay.ids(), ['once', 'race', 'after'], 'the store holds each ID once');
    }, { skip: historyOnly });

    it('without history every dispatch is delivered, repeated IDs included (nothing is retained)', async (t) => {
      const sub = rec([book(1)]);
      await t.subscribe(sub);
      assert.deepEqual(await t.dispatch(update('same', book(1))), { id: 'same', duplicate: false });
      assert.deepEqual(await t.dispatch(update('same', book(1))), { id: 'same', duplicate: false });
      await fence(t, sub);
      assert.deepEqual(sub.ids(), ['same', 'same']);
    }, { skip: opts.history ? 'the backend keeps history (see the idempotent publish test)' : false });

    it('keeps custom IDs exactly as given', async (t) => {
      const sub = rec([book(1)]);
      await t.subscribe(sub);
      const ids = ['custom-id', 'urn:uuid:0190d4a2-7b3c-7def-8abc-000000000001', 'with space', 'ünïcødé-😀', '42'];
      for (const id of ids) await t.dispatch(update(id, book(1)));
      await fence(t, sub);
      assert.deepEqual(sub.ids(), ids);
      assert.ok(sub.received[3]!.bytes.startsWith('id: ünïcødé-😀\n'));
    });

    it('stops delivering after unsubscribe and drops a subscriber that refuses an event', async (t) => {
      const gone = rec([book(1)]), full = rec([book(1)]), ok = rec([book(1)]);
      full.capacity = 1;
      for (const s of [gone, full, ok]) await t.subscribe(s);
      t.unsubscribe(gone);
      await t.dispatch(update('x1', book(1)));
      await t.dispatch(update('x2', book(1)));
      await fence(t, ok);
      await full.waitClosed();
      assert.deepEqual(gone.ids(), []);
      assert.deepEqual(full.ids(), ['x1']);
      assert.equal(full.closedWith, 'overflow');
      assert.deepEqual(ok.ids(), ['x1', 'x2']);
    });

    it('reports the last event ID', async (t) => {
      assert.equal(await t.lastEventId(), 'earliest');
      const sub = rec([book(1)]);
      await t.subscribe(sub);
      await t.dispatch(update('first', book(1)));
      await t.dispatch(update('last', book(9)));
      await t.dispatch(update('seen', book(1)));
      await sub.waitForId('seen');
      assert.equal(await t.lastEventId(), 'seen');
      assert.equal((await t.subscribers()).lastEventId, 'seen');
    });

    it('answers earliest and replays nothing without history', async (t) => {
      await t.dispatch(update('old', book(1)));
      const sub = rec([book(1)]);
      assert.equal(await t.subscribe(sub, 'old'), 'earliest');
      assert.equal(await t.subscribe(rec([book(1)])), undefined, 'no header when none was requested');
      await fence(t, sub);
      assert.deepEqual(sub.ids(), []);
    }, { skip: opts.history ? 'backend keeps history' : false });

    it('replays from earliest and from an ID, matching updates only', async (t) => {
      await t.dispatch(update('h1', book(1)));
      await t.dispatch(update('h2', 'https://example.com/authors/1'));
      await t.dispatch(update('h3', book(2), { private: true }));
      await t.dispatch(update('h4', book(3)));
      const fromStart = rec([BOOKS]);
      assert.equal(await t.subscribe(fromStart, 'earliest'), 'earliest');
      assert.deepEqual(fromStart.ids(), ['h1', 'h4'], 'replayed before subscribe resolves');
      const fromId = rec([BOOKS], ['*']);
      assert.equal(await t.subscribe(fromId, 'h1'), 'h1');
      assert.deepEqual(fromId.ids(), ['h3', 'h4']);
      const fromHead = rec([BOOKS]);
      assert.equal(await t.subscribe(fromHead, 'h4'), 'h4');
      await t.dispatch(update('live', book(5)));
      await fence(t, fromStart, fromId, fromHead);
      assert.deepEqual(fromHead.ids(), ['live']);
      assert.deepEqual(fromStart.ids(), ['h1', 'h4', 'live']);
    }, { skip: historyOnly });

    it('answers an unknown ID with the last update the subscriber may see, never a private one', async (t) => {
      await t.dispatch(update('pub-1', book(1)));
      await t.dispatch(update('secret', book(1), { private: true }));
      await t.dispatch(update('elsewhere', 'https://example.com/authors/1'));
      const anonymous = rec([BOOKS]);
      assert.equal(await t.subscribe(anonymous, 'no-such-id'), 'pub-1');
      const authorised = rec([BOOKS], [book(1)]);
      assert.equal(await t.subscribe(authorised, 'no-such-id'), 'secret');
      const nothing = rec(['https://example.com/nothing']);
      assert.equal(await t.subscribe(nothing, 'no-such-id'), 'earliest');
      await fence(t, anonymous, authorised, nothing);
      assert.deepEqual(anonymous.ids(), [], 'nothing replayed for an unknown ID');
      assert.deepEqual(authorised.ids(), []);
    }, { skip: historyOnly });

    it('replays from an ID 1,500 events back', async (t) => {
      const ids = Array.from({ length: 1501 }, (_, i) => `far-${i}`);
      for (const id of ids) await t.dispatch(update(id, book(1)));
      const sub = rec([book(1)]);
      assert.equal(await t.subscribe(sub, 'far-0'), 'far-0');
      assert.deepEqual(sub.ids(), ids.slice(1));
    }, { skip: historyOnly });

    it('joins replay and live with no gap and no duplicate while dispatching', async (t) => {
      const ids = Array.from({ length: 3000 }, (_, i) => `j${i}`);
      for (const id of ids.slice(0, 2500)) await t.dispatch(update(id, book(1)));
      const sub = rec([book(1)]);
      let subscribed: Promise<string | undefined> | undefined;
      for (let i = 2500; i < 3000; i++) {
        await t.dispatch(update(ids[i]!, book(1)));
        if (i === 2510) subscribed = t.subscribe(sub, 'j0');
        if (i % 10 === 0) await turn(); // let the replay make progress in between
      }
      assert.equal(await subscribed, 'j0');
      await fence(t, sub);
      assert.deepEqual(sub.ids(), ids.slice(1));
    }, { skip: historyOnly });

    it('ends a replay longer than the buffer cleanly, so the client resumes where it stopped', async (t) => {
      const ids = Array.from({ length: 250 }, (_, i) => `r${i}`);
      for (const id of ids) await t.dispatch(update(id, book(1)));
      const first = rec([book(1)]);
      first.capacity = 100;
      assert.equal(await t.subscribe(first, 'earliest'), 'earliest');
      await first.waitClosed();
      assert.equal(first.closedWith, 'replay-overflow');
      assert.deepEqual(first.ids(), ids.slice(0, 100), 'a gap-free prefix');
      await t.dispatch(update('after', book(1)));
      const resumed = rec([book(1)]);
      assert.equal(await t.subscribe(resumed, first.ids().at(-1)), 'r99');
      await fence(t, resumed);
      assert.deepEqual(resumed.ids(), [...ids.slice(100), 'after']);
      assert.deepEqual(first.ids(), ids.slice(0, 100), 'nothing after the close');
    }, { skip: historyOnly });

    it('lists subscribers with their topics and payload, and forgets them', async (t) => {
      const a = rec([book(1), book(1), BOOKS], null, { payload: { user: 'a' }, fence: false });
      const b = rec(['*'], ['*'], { fence: false });
      await t.subscribe(a);
      await t.subscribe(b);
      const byId = async (): Promise<Map<string, unknown>> => new Map((await t.subscribers()).subscribers.map((s) => [s.id, s]));
      await eventually(async () => (await byId()).has(a.id) && (await byId()).has(b.id), 'both subscribers listed');
      assert.deepEqual((await byId()).get(a.id), { id: a.id, topics: [book(1), book(1), BOOKS], payload: { user: 'a' } });
      assert.deepEqual((await byId()).get(b.id), { id: b.id, topics: ['*'] });
      t.unsubscribe(a);
      await eventually(async () => !(await byId()).has(a.id), 'a removed');
      assert.ok((await byId()).has(b.id));
    }, { skip: opts.presence === false ? 'no subscriber list' : false });

    it('closes: streams end, dispatch and subscribe reject with ERR_TRANSPORT_CLOSED', async (t) => {
      assert.deepEqual(await t.health(), { ready: true, live: true });
      const a = rec([book(1)]), b = rec(['*']);
      await t.subscribe(a);
      await t.subscribe(b, opts.history ? 'earliest' : undefined);
      await t.close();
      await Promise.all([a.waitClosed(), b.waitClosed()]);
      await t.close(); // idempotent
      await assert.rejects(t.dispatch(update('late', book(1))), { code: 'ERR_TRANSPORT_CLOSED' });
      await assert.rejects(t.subscribe(rec([book(1)])), { code: 'ERR_TRANSPORT_CLOSED' });
      assert.equal((await t.health()).ready, false);
      assert.deepEqual(a.ids(), []);
    });
  });
}
