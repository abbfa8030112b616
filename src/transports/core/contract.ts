/**
 * The transport contract. The hub talks only to `Transport`. Every transport is
 * the shared fan-out core (fanout.ts) plus a `Backend` that writes only its own
 * part: append to the shared stream, feed the stream back, read history by ID,
 * and share presence. Local subscribers, topic indexes, replay/live hand-over,
 * serialisation and back-pressure live in the core, once.
 */

import type { TopicSelectorStore } from '../../topics/topic-selector.ts';

/** One Mercure update. IDs are final before dispatch (the hub assigns urn:uuid:<v7> when none is given). */
export interface Update {
  id: string;
  /** First = canonical topic, others = alternate topics. */
  topics: string[];
  data: string;
  private: boolean;
  /** SSE `event:` field; '' or undefined = none. */
  type?: string;
  /**
   * SSE `retry:` field; 0 or undefined = none. An unsigned 64-bit integer, as
   * in the reference hub: a number up to Number.MAX_SAFE_INTEGER, a bigint
   * above (so no value is rounded). Codecs must keep both.
   */
  retry?: number | bigint;
}

/** What the subscriptions API and subscription events show about a subscriber, on any node. */
export interface SubscriberInfo {
  id: string;
  /** Query selectors, one per `topic` parameter, duplicates kept. */
  topics: string[];
  payload?: unknown;
}

/**
 * One connected subscriber, as the core sees it. The SSE side implements it.
 * `privateTopics` is null for anonymous subscribers (public updates only).
 */
export interface Subscriber extends SubscriberInfo {
  privateTopics: string[] | null;
  /**
   * Hands one serialised SSE event (shared buffer, never mutate) to the subscriber.
   * Must not block. Returns false when the subscriber is gone or its bounded
   * buffer overflowed; the core then drops it.
   */
  send(event: Buffer, update: Update): boolean;
  /**
   * Ends the stream (transport closed, or overflow detected by the core). The
   * SSE side flushes what it already queued, then ends the response cleanly, so
   * the client's Last-Event-ID is the last event it really got. May be called
   * while subscribe() is still pending (e.g. a replay longer than the buffer:
   * reason 'replay-overflow'); the response is then still answered, flushed and ended.
   */
  close(reason: string): void;
}

export interface TransportHealth {
  ready: boolean;
  live: boolean;
  error?: string;
}

/**
 * What dispatch() resolves with. `duplicate`: an update with this ID was
 * already retained, so nothing was stored or delivered again (idempotent
 * publish: a publisher's retry after a 503 or a lost answer is safe). `id` is
 * the ID the publisher is answered with (the stored update's).
 */
export interface DispatchResult { id: string; duplicate: boolean }

/** What the hub uses. Implemented once, by Fanout (fanout.ts), over any Backend. */
export interface Transport {
  /**
   * Persists (if the backend keeps history) and fans the update out on every
   * node, unless its ID is already retained (see DispatchResult). Rejects with
   * ERR_TRANSPORT_CLOSED / ERR_TRANSPORT_UNAVAILABLE; after an UNAVAILABLE
   * the update may or may not be stored, and a retry with the same ID settles it.
   */
  dispatch(update: Update): Promise<DispatchResult>;
  /**
   * Registers the subscriber. When lastEventId is given, replays the retained
   * updates after it (history first, then live, no gap, no duplicate) and
   * resolves with the value of the response `Last-Event-ID` header; resolves
   * undefined when none was requested.
   */
  subscribe(sub: Subscriber, lastEventId?: string): Promise<string | undefined>;
  unsubscribe(sub: Subscriber): void;
  /** Subscribers of every node (presence) and the current last event ID ('earliest' if none). */
  subscribers(): Promise<{ lastEventId: string; subscribers: SubscriberInfo[] }>;
  lastEventId(): Promise<string>;
  /**
   * 'live' answers at once from the process's own state and never waits on
   * the backend; 'ready' (default) asks the backend, within a short bound.
   */
  health(check?: 'live' | 'ready'): Promise<TransportHealth>;
  /**
   * Matches topics for delivery through this store (the hub's, sized by
   * `topic_selector_cache`). Hubs sharing one pooled transport share one
   * store: the last hub provisioned sets it.
   */
  useSelectorStore(store: TopicSelectorStore): void;
  /** Idempotent. Ends every local stream. */
  close(): Promise<void>;
}

/** Where a backend hands the shared stream back to the core, in stream order. */
export interface BackendSink {
  /**
   * One update of the shared stream. `seq` is the update's position in the
   * stream (strictly increasing per stream); the core uses it to join history
   * and live delivery without gaps or duplicates.
   */
  deliver(update: Update, seq: bigint): void;
  /** The backend lost (false) or regained (true) its connection. */
  connection(up: boolean, error?: unknown): void;
}

/** Result of a history read. */
export interface HistoryResult {
  /** Whether afterId was found among retained updates ('earliest' is always found). */
  found: boolean;
  /** The seq of the last update visited (or of the anchor), so live delivery resumes after it. */
  lastSeq: bigint;
}

/** Presence shared across nodes. Optional: without it the core's local list is used. */
export interface PresenceBackend {
  join(info: SubscriberInfo): void;
  leave(id: string): void;
  /** Every live node's subscribers. Dead nodes' entries expire (documented per backend). */
  list(): Promise<SubscriberInfo[]>;
}

/**
 * What Backend.publish resolves with: 'stored' (appended; it comes back
 * through sink.deliver) or 'duplicate' (an update with the same ID is already
 * retained: nothing appended, nothing delivered). void counts as 'stored'.
 */
export type PublishOutcome = 'stored' | 'duplicate';

/**
 * How a backend keeps publishes idempotent (an ID already retained is not stored again):
 * - 'atomic': publish() checks and appends in one atomic step, race-free
 *   across nodes, and resolves 'duplicate' (bolt: one SQLite transaction;
 *   redis: one Lua script, check + XADD; postgres: check under the publish
 *   lock, backed by a unique index).
 * - 'core': the backend cannot check; the core refuses IDs it has seen in the
 *   stream (the newest `FanoutOptions.dedupeWindow` updates, primed from tail()
 *   at start). Best effort: a retry that reaches a node before that node has
 *   read the first copy back is stored again. For brokers (Kafka, Pulsar).
 * - absent: no deduplication (local: nothing is retained, and an in-process
 *   publish never ends in doubt).
 * Either way the core coalesces concurrent dispatches of one ID on one node.
 */
export type Dedupe = 'atomic' | 'core';

/** The part each backend writes. */
export interface Backend {
  /** Connects and starts feeding the stream to sink (from the current head). */
  start(sink: BackendSink): Promise<void>;
  /**
   * Appends to the shared stream. The update comes back through sink.deliver
   * on every node, this one included. With `dedupe: 'atomic'`, an update whose
   * ID is already retained is not appended: resolve 'duplicate'.
   */
  publish(update: Update): Promise<PublishOutcome | void>;
  /** See Dedupe. */
  readonly dedupe?: Dedupe;
  /**
   * Visits retained updates strictly after afterId ('earliest' = all), in stream
   * order, up to the head at call time. Backends without history omit it.
   * When afterId is not retained nothing is visited (found: false, lastSeq: the head).
   * If several updates share afterId, the oldest is the anchor. visit returning
   * false asks the backend to stop early (the core lost interest); honouring
   * it is optional.
   */
  history?(afterId: string, visit: (update: Update, seq: bigint) => boolean | void): Promise<HistoryResult>;
  /**
   * Optional backward read: visits retained updates newest first, from the head
   * at call time, until visit returns true. The core uses it to answer an
   * unknown Last-Event-ID (the last retained update the subscriber may see)
   * without scanning from the oldest; without it the core scans history('earliest').
   */
  tail?(visit: (update: Update, seq: bigint) => boolean | void): Promise<void>;
  /** The last update of the retained stream, for lastEventId(); undefined when empty. */
  lastEventId?(): Promise<string | undefined>;
  presence?: PresenceBackend;
  /** Throws when unhealthy. */
  health?(): Promise<void>;
  close(): Promise<void>;
}
