/**
 * The fan-out core: the one `Transport` implementation, over any `Backend`.
 * A backend only appends to the shared stream and feeds it back (plus history
 * and presence when it has them); everything else lives here, once: the closed
 * guard, the subscriber index, the delivery rule, serialise-once, the
 * replay → live hand-over, the response Last-Event-ID, presence fallback and health.
 *
 * Replay longer than a subscriber's buffer. The Go hub queues history into a
 * 1000-slot channel and disconnects on overflow. Here the replay stops at the
 * first event the subscriber refuses (send() → false means that event was NOT
 * queued), no live event is sent after it, and the subscriber is closed with
 * 'replay-overflow'. The SSE side answers the request, flushes what it queued
 * and ends the response, so the client's last received ID is an exact resume
 * point: its EventSource reconnects with that Last-Event-ID and the replay
 * continues where it stopped. Nothing is skipped, and memory stays bounded
 * (live updates held during a replay are capped the same way). We chose this
 * over pausing the replay because backends read history synchronously per
 * batch; an async pull would need every backend to support it.
 */
import { QsError } from '../../host/errors.ts';
import { serializeUpdate } from './event.ts';
import { defaultSelectorStore, type TopicSelectorStore } from '../../topics/topic-selector.ts';
import { SubscriberIndex, authorised, createEntry, entryMatches, type Entry } from './subscriber-index.ts';
import { RecentIds } from './recent-ids.ts';
import type { Backend, BackendSink, DispatchResult, Subscriber, SubscriberInfo, Transport, TransportHealth, Update } from './contract.ts';

/** The reserved Last-Event-ID meaning "from the start" / "nothing yet". */
export const EARLIEST = 'earliest';
/** close() reasons the core uses. */
export const CLOSE_REASONS = {
  closed: 'transport closed',
  overflow: 'overflow',
  replayOverflow: 'replay-overflow',
} as const;

/** Tuning and wiring of a Fanout; every field is optional. */
export interface FanoutOptions {
  /** Shared match cache (the hub injects its own); the process-wide one by default. */
  selectors?: TopicSelectorStore;
  /** Live updates held per subscriber while its replay runs, before it is ended with 'replay-overflow'. */
  maxHeld?: number;
  /** Newest updates tail() may visit to answer an unknown Last-Event-ID (the Go hub scans 10,000). */
  tailLimit?: number;
  /** Where errors thrown by subscribers are reported. */
  onError?: (err: unknown, context: string) => void;
  /** Bound on a readiness check of the backend, ms (default 2,000); past it the transport is not ready. */
  healthTimeoutMs?: number;
  /** Newest stream IDs the core remembers for backends with `dedupe: 'core'` (default 10,000). */
  dedupeWindow?: number;
}

const closedError = (): QsError => new QsError('ERR_TRANSPORT_CLOSED', 'the Mercure transport is closed');

/** The Transport every backend gets. Call start() before use (the modules do). */
export class Fanout implements Transport {
  readonly #backend: Backend;
  #store: TopicSelectorStore;
  readonly #maxHeld: number;
  readonly #tailLimit: number;
  readonly #healthTimeoutMs: number;
  readonly #onError: (err: unknown, context: string) => void;
  readonly #index = new SubscriberIndex();
  /** Local subscribers in registration order (presence when the backend has none). */
  readonly #local = new Map<Subscriber, Entry>();
  #pass = 0;
  #lastId = EARLIEST;
  #closed = false;
  #closing: Promise<void> | undefined;
  #started: Promise<void> | undefined;
  #up = true;
  #downError: string | undefined;
  /** Dispatches in flight by update ID: a concurrent one with the same ID waits for it (idempotent publish). */
  readonly #inflight = new Map<string, Promise<DispatchResult>>();
  /** `dedupe: 'core'` only: the IDs seen in the stream. */
  readonly #recent: RecentIds | undefined;

  constructor(backend: Backend, options: FanoutOptions = {}) {
    this.#backend = backend;
    this.#store = options.selectors ?? defaultSelectorStore();
    this.#maxHeld = options.maxHeld ?? 10_000;
    this.#tailLimit = options.tailLimit ?? 10_000;
    this.#healthTimeoutMs = options.healthTimeoutMs ?? 2_000;
    this.#onError = options.onError ?? (() => {});
    if (backend.dedupe === 'core') this.#recent = new RecentIds(options.dedupeWindow ?? 10_000);
  }

  /** Opens the backend and starts receiving the stream. Idempotent. */
  start(): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    const sink: BackendSink = {
      deliver: (update, seq) => this.#deliver(update, seq),
      connection: (up, error) => {
        this.#up = up;
        this.#downError = up ? undefined : error instanceof Error ? error.message : String(error ?? 'backend connection lost');
      },
    };
    return (this.#started ??= this.#backend.start(sink).then(() => this.#primeRecent().catch(() => {})));
  }

  /**
   * `dedupe: 'core'`: remembers the IDs already retained (newest first from
   * tail(), added oldest first). Best effort: a backend that started without
   * its connection (late start) primes nothing.
   */
  async #primeRecent(): Promise<void> {
    const recent = this.#recent;
    if (!recent || !this.#backend.tail) return;
    const ids: string[] = [];
    const max = this.#tailLimit;
    await this.#backend.tail((u) => { ids.push(u.id); return ids.length >= max; });
    for (let i = ids.length - 1; i >= 0; i--) recent.add(ids[i]!);
  }

  /** Replaces the match cache (the hub's `SetTopicSelectorStore`). */
  useSelectorStore(store: TopicSelectorStore): void { this.#store = store; }

  /**
   * Idempotent publish (transport.ts `Dedupe`): a dispatch whose ID is in
   * flight on this node waits for that one and, if it succeeded, is its
   * duplicate; otherwise the backend (or, for 'core', the window of recent IDs) decides.
   */
  async dispatch(update: Update): Promise<DispatchResult> {
    if (this.#closed) throw closedError();
    const dedupe = this.#backend.dedupe;
    if (!dedupe) return this.#publish(update);
    const id = update.id;
    const pending = this.#inflight.get(id);
    if (pending && await pending.then(() => true, () => false)) return { id, duplicate: true };
    if (this.#recent?.has(id)) return { id, duplicate: true };
    const p = this.#publish(update);
    this.#inflight.set(id, p);
    try {
      const r = await p;
      if (!r.duplicate) this.#recent?.add(id);
      return r;
    } finally {
      if (this.#inflight.get(id) === p) this.#inflight.delete(id);
    }
  }

  async #publish(update: Update): Promise<DispatchResult> {
    let outcome;
    try {
      outcome = await this.#backend.publish(update);
    } catch (err) {
      if (this.#closed) throw closedError();
      if (err instanceof QsError) throw err;
      throw new QsError('ERR_TRANSPORT_UNAVAILABLE', `the Mercure transport cannot reach its backend: ${message(err)}`, { cause: err });
    }
    return { id: update.id, duplicate: outcome === 'duplicate' };
  }

  async subscribe(sub: Subscriber, lastEventId?: string): Promise<string | undefined> {
    if (this.#closed) throw closedError();
    const replay = lastEventId !== undefined && lastEventId !== '';
    const e = createEntry(sub);
    if (replay && this.#backend.history) e.held = [];
    this.#register(e);
    if (!replay) return undefined;
    if (!this.#backend.history) return EARLIEST;
    try {
      return await this.#replay(e, lastEventId);
    } catch (err) {
      if (this.#local.get(sub) === e) this.#remove(e);
      if (err instanceof QsError) throw err;
      throw new QsError('ERR_TRANSPORT_UNAVAILABLE', `cannot read the Mercure history: ${message(err)}`, { cause: err });
    }
  }

  unsubscribe(sub: Subscriber): void {
    const e = this.#local.get(sub);
    if (e) this.#remove(e);
  }

  async subscribers(): Promise<{ lastEventId: string; subscribers: SubscriberInfo[] }> {
    const lastEventId = await this.lastEventId();
    const presence = this.#backend.presence;
    const subscribers = presence ? await presence.list() : [...this.#local.keys()].map(info);
    return { lastEventId, subscribers };
  }

  async lastEventId(): Promise<string> {
    if (this.#backend.lastEventId) return (await this.#backend.lastEventId()) ?? EARLIEST;
    return this.#lastId;
  }

  /**
   * Liveness is the process's own: never a backend call, so a locked table or
   * an exhausted pool cannot make an orchestrator restart a working node.
   * Readiness asks the backend, bounded by healthTimeoutMs.
   */
  async health(check: 'live' | 'ready' = 'ready'): Promise<TransportHealth> {
    if (this.#closed) return { ready: false, live: false, error: 'transport closed' };
    const connection: TransportHealth = this.#up ? { ready: true, live: true } : { ready: false, live: true, error: this.#downError ?? 'backend connection lost' };
    if (check === 'live' || !this.#up) return connection;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.#backend.health?.(),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`the backend did not answer its health check within ${this.#healthTimeoutMs} ms`)), this.#healthTimeoutMs); }),
      ]);
    } catch (err) {
      return { ready: false, live: true, error: message(err) };
    } finally {
      clearTimeout(timer);
    }
    return connection;
  }

  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    for (const e of [...this.#local.values()]) this.#drop(e, CLOSE_REASONS.closed);
    this.#closing = this.#backend.close();
    return this.#closing;
  }

  /** For the UsagePool: the transport is destroyed when its last user releases it. */
  destruct(): Promise<void> { return this.close(); }

  #register(e: Entry): void {
    const old = this.#local.get(e.sub);
    if (old) this.#remove(old);
    this.#local.set(e.sub, e);
    this.#index.add(e);
    this.#backend.presence?.join(info(e.sub));
  }

  #remove(e: Entry): void {
    if (!e.active) return;
    e.active = false;
    e.held = null;
    this.#index.remove(e);
    this.#local.delete(e.sub);
    this.#backend.presence?.leave(e.sub.id);
  }

  #drop(e: Entry, reason: string): void {
    this.#remove(e);
    try { e.sub.close(reason); } catch (err) { this.#onError(err, 'subscriber close'); }
  }

  #send(e: Entry, event: Buffer, update: Update): boolean {
    try { return e.sub.send(event, update); } catch (err) { this.#onError(err, 'subscriber send'); return false; }
  }

  /**
   * One update of the stream, in stream order. The hot path: one index lookup
   * per topic, one serialisation, one mark per subscriber, no allocation per subscriber.
   */
  #deliver(update: Update, seq: bigint): void {
    if (this.#closed) return;
    this.#lastId = update.id;
    this.#recent?.add(update.id);
    const buckets = this.#index.buckets(update.topics, this.#store);
    if (buckets.length === 0) return;
    const pass = ++this.#pass;
    const store = this.#store;
    let event: Buffer | undefined;
    let dead: Entry[] | undefined;
    for (const bucket of buckets) {
      for (const e of bucket) {
        if (e.mark === pass) continue;
        e.mark = pass;
        if (update.private && !authorised(e, update, store)) continue;
        event ??= serializeUpdate(update);
        if (e.held !== null) {
          // Replay still running: hold it, bounded (see the header comment).
          if (e.held.length < this.#maxHeld) e.held.push({ update, seq, event });
          else (dead ??= []).push(e);
          continue;
        }
        if (e.after !== null) {
          if (seq <= e.after) continue; // already replayed
          e.after = null;
        }
        if (!this.#send(e, event, update)) (dead ??= []).push(e);
      }
    }
    if (dead) for (const e of dead) this.#drop(e, e.held !== null ? CLOSE_REASONS.replayOverflow : CLOSE_REASONS.overflow);
  }

  /** History first, then the held live updates after the last replayed seq; resolves the response Last-Event-ID. */
  async #replay(e: Entry, lastEventId: string): Promise<string> {
    const store = this.#store;
    let stopped = false;
    const result = await this.#backend.history!(lastEventId, (update) => {
      if (stopped || !e.active) return false;
      if (!entryMatches(e, update, store)) return;
      if (!this.#send(e, serializeUpdate(update), update)) { stopped = true; return false; }
    });
    let header = lastEventId;
    if (lastEventId !== EARLIEST && !result.found) {
      // Unknown ID: the last retained update THIS subscriber may see, never a private ID it can't.
      header = (await this.#lastVisible(e, result.lastSeq)) ?? EARLIEST;
    } else if (lastEventId === EARLIEST) header = EARLIEST;
    if (!e.active) return header; // unsubscribed, dropped or closed meanwhile
    if (stopped) {
      this.#drop(e, CLOSE_REASONS.replayOverflow);
      return header;
    }
    const held = e.held ?? [];
    e.held = null;
    e.after = result.lastSeq;
    for (const h of held) {
      if (h.seq <= result.lastSeq) continue; // covered by the replay
      e.after = h.seq;
      if (!this.#send(e, h.event, h.update)) {
        this.#drop(e, CLOSE_REASONS.overflow);
        break;
      }
    }
    return header;
  }

  async #lastVisible(e: Entry, head: bigint): Promise<string | undefined> {
    const store = this.#store;
    let found: string | undefined;
    if (this.#backend.tail) {
      let visited = 0;
      await this.#backend.tail((update, seq) => {
        if (seq > head) return false;
        if (++visited > this.#tailLimit) return true;
        if (entryMatches(e, update, store)) { found = update.id; return true; }
        return false;
      });
      return found;
    }
    await this.#backend.history!(EARLIEST, (update, seq) => {
      if (seq > head) return false;
      if (entryMatches(e, update, store)) found = update.id;
    });
    return found;
  }
}

function info(sub: Subscriber): SubscriberInfo {
  return sub.payload === undefined ? { id: sub.id, topics: sub.topics } : { id: sub.id, topics: sub.topics, payload: sub.payload };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
