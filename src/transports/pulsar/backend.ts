/**
 * The Pulsar backend: every node appends to ONE non-partitioned persistent
 * topic and reads it back through its own named, non-durable Exclusive
 * subscription (`subscription_name`), so every node sees every update in the
 * topic's order. The message id gives the stream position (codec.ts).
 *
 * Start: the node subscribes from the oldest retained message and reads up
 * to the topic's last message id (GET_LAST_MESSAGE_ID) only to fill its
 * ID index (id-index.ts); delivery to subscribers starts after that head.
 * The subscription is non-durable on purpose: a restarted node must start at
 * the head, not where a previous process stopped, and no cursor is left
 * behind to hold a backlog.
 *
 * History: the index gives the position of an update ID (custom IDs
 * included); a reader (a second, short-lived non-durable subscription)
 * starts right after it and reads up to the position this node had
 * delivered when the request came. No topic scan per subscriber. Unknown
 * IDs (never seen, or older than the index) answer as on the other
 * transports: nothing replayed, the response Last-Event-ID is the last
 * update the subscriber may see, found newest first (tail()) in growing
 * windows of the index.
 *
 * Outages: the client reconnects with back-off; while the producer or the
 * subscription is down the backend reports itself down (publish → 503) and
 * the subscription resumes after the last message it delivered: nothing is
 * read twice or skipped.
 */
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from 'pino';
import { QsError } from '../../host/errors.ts';
import type { Backend, BackendSink, HistoryResult, Update } from '../core/contract.ts';
import { compareIds, EARLIEST, PulsarClient, PulsarError, type Consumer, type Message, type MessageId, type Producer } from './client/index.ts';
import { decodeUpdate, encodeUpdate, idOfSeq, seqOf } from './codec.ts';
import { IdIndex } from './id-index.ts';
import { PulsarPresence } from './presence.ts';

export interface PulsarBackendOptions {
  /** pulsar://host:6650 or pulsar+ssl://host:6651. */
  url: string;
  /** Topic name: a bare name means persistent://public/default/<name>. */
  topic: string;
  /** This node's subscription name (must differ per node). */
  subscriptionName: string;
  token?: string;
  tls?: ConnectionOptions;
  /** Update IDs the index remembers (default 100 000). */
  indexSize?: number;
  /** Presence expiry (ms, default 15 000). */
  presenceTtlMs?: number;
  nodeId: string;
  log?: Logger;
  /** Client tuning (tests). */
  operationTimeoutMs?: number;
  keepAliveMs?: number;
}

export const DEFAULT_INDEX_SIZE = 100_000;
/** Bound on one history or tail read. */
const READ_LIMIT_MS = 30_000;

/** persistent://public/default/<name> unless already a full topic name. */
export function fullTopicName(topic: string): string {
  if (/^(persistent|non-persistent):\/\//.test(topic)) return topic;
  const parts = topic.split('/');
  if (parts.length === 3) return `persistent://${topic}`;
  return `persistent://public/default/${topic}`;
}

/** The presence topic beside the update topic. */
export function presenceTopicName(topic: string): string {
  return fullTopicName(topic).replace(/^(persistent|non-persistent):\/\//, 'non-persistent://') + '-presence';
}

export class PulsarBackend implements Backend {
  /** A retried publish is refused by the fan-out core's window of recent IDs (idempotent publish; see Dedupe). */
  readonly dedupe = 'core' as const;
  readonly options: PulsarBackendOptions;
  readonly topic: string;
  readonly presence: PulsarPresence;
  readonly #client: PulsarClient;
  readonly #index: IdIndex;
  #sink: BackendSink | undefined;
  #producer: Producer | undefined;
  #live: Consumer | undefined;
  /** Position of the last message delivered (or indexed at start). */
  #head = 0n;
  /** Deliveries start after this position (the topic's head at start). */
  #deliverAfter: MessageId | undefined;
  #caughtUp: (() => void) | undefined;
  /** Position of this node's newest acknowledged publish, and who waits for the live reader to reach a position. */
  #lastSent = 0n;
  readonly #seenWaiters = new Set<{ seq: bigint; resolve: () => void }>();
  #up = false;
  #closed = false;
  #readers = 0;
  #lastError: Error | undefined;

  constructor(options: PulsarBackendOptions) {
    this.options = options;
    this.topic = fullTopicName(options.topic);
    this.#index = new IdIndex(options.indexSize ?? DEFAULT_INDEX_SIZE);
    this.#client = new PulsarClient({
      serviceUrl: options.url, token: options.token, tls: options.tls,
      operationTimeoutMs: options.operationTimeoutMs, keepAliveMs: options.keepAliveMs,
    });
    this.presence = new PulsarPresence(this.#client, presenceTopicName(options.topic), `${options.subscriptionName}-presence`, options.nodeId, options.presenceTtlMs, options.log);
  }

  async start(sink: BackendSink): Promise<void> {
    this.#sink = sink;
    try {
      this.#producer = await this.#client.createProducer({ topic: this.topic, onState: () => this.#state() });
      // The head at start: older messages only fill the index, newer ones are delivered.
      const probe = await this.#client.subscribe({ topic: this.topic, subscription: `${this.options.subscriptionName}-probe`, durable: false, start: 'latest', onMessage: () => {} });
      const head = await probe.getLastMessageId().finally(() => probe.close());
      this.#deliverAfter = head;
      const caughtUp = head.entryId < 0n ? Promise.resolve() : new Promise<void>((resolve) => { this.#caughtUp = resolve; });
      this.#live = await this.#client.subscribe({
        topic: this.topic, subscription: this.options.subscriptionName, durable: false, start: 'earliest',
        onMessage: (m) => this.#onMessage(m), onState: () => this.#state(),
      });
      await within(caughtUp, 120_000, 'catching up with the topic at start');
      await this.presence.start();
    } catch (err) {
      await this.#client.close();
      throw new QsError('ERR_TRANSPORT_UNAVAILABLE', `pulsar transport: cannot start on ${this.options.url} (topic ${this.topic}): ${(err as Error).message}`, { cause: err });
    }
    this.#up = true;
    this.options.log?.info({ topic: this.topic, subscription_name: this.options.subscriptionName, indexed: this.#index.size }, 'pulsar transport: subscribed');
  }

  #onMessage(m: Message): void {
    const seq = seqOf(m.id);
    this.#head = seq;
    for (const w of this.#seenWaiters) if (w.seq <= seq) { this.#seenWaiters.delete(w); w.resolve(); }
    const u = decodeUpdate(m.payload);
    if (u) this.#index.add(seq, u.id);
    const after = this.#deliverAfter;
    if (after && compareIds({ ...m.id, batchIndex: -1 }, { ...after, batchIndex: -1 }) <= 0) {
      if (compareIds({ ...m.id, batchIndex: -1 }, { ...after, batchIndex: -1 }) === 0 && this.#caughtUp) { this.#caughtUp(); this.#caughtUp = undefined; }
      return;
    }
    if (this.#caughtUp) { this.#caughtUp(); this.#caughtUp = undefined; }
    if (!u) return;
    try { this.#sink!.deliver(u, seq); } catch (err) {
      this.options.log?.error({ err }, 'pulsar transport: delivering an update failed');
    }
  }

  async publish(update: Update): Promise<void> {
    this.#usable();
    const { payload, properties } = encodeUpdate(update);
    try {
      const seq = seqOf(await this.#producer!.send({ payload, properties }));
      if (seq > this.#lastSent) this.#lastSent = seq;
    } catch (err) {
      throw mapError(err);
    }
  }

  /**
   * Waits until the live reader has indexed this node's own acknowledged
   * publishes, so the reads that walk the index (history's anchor, tail, the
   * last event ID) start from the head at call time: an update this node
   * published is never missed for arriving late.
   */
  async #seenOwnWrites(): Promise<void> {
    const seq = this.#lastSent;
    if (seq <= this.#head) return;
    let entry!: { seq: bigint; resolve: () => void };
    const seen = new Promise<void>((resolve) => { entry = { seq, resolve }; this.#seenWaiters.add(entry); });
    try { await within(seen, this.options.operationTimeoutMs ?? 10_000, 'reading back this node\'s publishes'); } finally { this.#seenWaiters.delete(entry); }
  }

  async history(afterId: string, visit: (update: Update, seq: bigint) => boolean | void): Promise<HistoryResult> {
    this.#usable();
    await this.#seenOwnWrites().catch((err: unknown) => { throw mapError(err); });
    let from: bigint | undefined;
    if (afterId !== 'earliest') {
      from = this.#index.find(afterId);
      if (from === undefined) return { found: false, lastSeq: this.#head };
    }
    let lastSeq = from ?? 0n;
    await this.#read(from === undefined ? EARLIEST : idOfSeq(from), undefined, (u, seq) => {
      lastSeq = seq;
      return u ? visit(u, seq) !== false : true;
    });
    return { found: true, lastSeq };
  }

  /** Newest first, from this node's head, in windows of the index growing ×4 from 32. */
  async tail(visit: (update: Update, seq: bigint) => boolean | void): Promise<void> {
    this.#usable();
    await this.#seenOwnWrites().catch((err: unknown) => { throw mapError(err); });
    let end = this.#index.size;
    for (let count = 32; end > 0; count *= 4) {
      const begin = Math.max(0, end - count);
      // Start after the entry before the window; at the index's oldest entry when the ring lost its predecessors (that one entry is then not visited).
      const start = begin > 0 ? idOfSeq(this.#index.at(begin - 1).seq) : this.#index.truncated ? idOfSeq(this.#index.at(0).seq) : EARLIEST;
      const stop = this.#index.at(end - 1).seq;
      const batch: [Update, bigint][] = [];
      await this.#read(start, stop, (u, seq) => { if (u) batch.push([u, seq]); return true; });
      for (let i = batch.length - 1; i >= 0; i--) if (visit(batch[i]![0], batch[i]![1]) === true) return;
      end = begin;
    }
  }

  async lastEventId(): Promise<string | undefined> {
    this.#usable();
    await this.#seenOwnWrites().catch((err: unknown) => { throw mapError(err); });
    return this.#index.last()?.id;
  }

  async health(): Promise<void> {
    this.#usable();
  }

  /**
   * Reads the topic strictly after `from` up to and including position `to`
   * (default: the topic's last message at call time, or this node's head if
   * further) with a short-lived reader; `each` returning false stops early.
   */
  async #read(from: MessageId, to: bigint | undefined, each: (u: Update | undefined, seq: bigint) => boolean): Promise<void> {
    let done!: () => void;
    const finished = new Promise<void>((resolve) => { done = resolve; });
    let over = false;
    let limit = to;
    const early: Message[] = [];
    const take = (m: Message): void => {
      if (over) return;
      if (limit === undefined) { early.push(m); return; }
      const seq = seqOf(m.id);
      if (seq > limit) { over = true; done(); return; }
      if (!each(decodeUpdate(m.payload), seq) || seq === limit) { over = true; done(); }
    };
    const reader = await this.#client.subscribe({
      topic: this.topic, subscription: `${this.options.subscriptionName}-reader-${++this.#readers}`, durable: false, start: from,
      onMessage: take,
    }).catch((err: unknown) => { throw mapError(err); });
    try {
      if (limit === undefined) {
        const last = await reader.getLastMessageId().catch((err: unknown) => { throw mapError(err); });
        const head = last.entryId < 0n ? 0n : seqOf(last);
        limit = head > this.#head ? head : this.#head;
        const start = compareIds(from, EARLIEST) === 0 ? 0n : seqOf(from);
        if (limit <= start || limit === 0n) return;
        for (const m of early.splice(0)) take(m);
      }
      await within(finished, READ_LIMIT_MS, `reading history of ${this.topic}`);
    } finally {
      await reader.close();
    }
  }

  #state(): void {
    if (this.#closed || !this.#sink) return;
    const up = !!this.#producer?.ready && !!this.#live?.ready;
    if (up === this.#up) return;
    this.#up = up;
    if (up) {
      this.options.log?.info({ topic: this.topic }, 'pulsar transport: connection restored; resuming the topic');
      this.#lastError = undefined;
      this.#sink.connection(true);
    } else {
      this.#lastError = this.#live?.lastError ?? this.#producer?.lastError;
      this.options.log?.warn({ err: this.#lastError, topic: this.topic }, 'pulsar transport: connection lost; retrying');
      this.#sink.connection(false, this.#lastError);
    }
  }

  #usable(): void {
    if (this.#closed) throw new QsError('ERR_TRANSPORT_CLOSED', 'pulsar transport is closed');
    if (!this.#up) throw new QsError('ERR_TRANSPORT_UNAVAILABLE', `pulsar transport: not connected${this.#lastError ? ': ' + this.#lastError.message : ''}`, { cause: this.#lastError });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.presence.close().catch(() => undefined);
    await this.#client.close();
  }
}

function mapError(err: unknown): QsError {
  if (err instanceof QsError) return err;
  if (err instanceof PulsarError && err.code === 'MessageTooLarge') {
    return new QsError('ERR_TRANSPORT_REJECTED', `pulsar transport: ${err.message}`, { cause: err });
  }
  return new QsError('ERR_TRANSPORT_UNAVAILABLE', `pulsar transport: ${(err as Error).message}`, { cause: err });
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new PulsarError('Timeout', `${what}: no progress within ${ms} ms`)), ms); });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}
