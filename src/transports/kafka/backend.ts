/**
 * The Kafka backend: every node appends to ONE topic with ONE partition and
 * reads it back from its own position, so every node sees every update in the
 * same order; the record offset is the update's position (seq = offset + 1,
 * so 0 means "before everything"). Record format: record.ts. Presence:
 * presence.ts. Topic provisioning and the one-partition rule: topic.ts.
 *
 * Reading. A dedicated connection long-polls Fetch from `#next`, the offset of
 * the next record this node has not handed to the core. It only moves forward
 * past records actually received, and an outage leaves it where it was: when
 * the broker comes back, reading resumes exactly there, so nothing is read
 * twice or skipped. (Records deleted by retention while a node was away are
 * the exception; they are reported in the log.) The consumer group
 * (`consumer_group`) is the group ID of this node's Kafka clients. The node
 * keeps its position in memory and commits none: a node always starts at the
 * head of the topic, like every transport, and replays come from history.
 *
 * History. An ID → offset index (id-index.ts) is built while reading: at start
 * the reader first reads the newest `index_size` retained records (their keys
 * only), then goes live. History requests wait for that catch-up, then read
 * the topic from the anchor's offset on a second connection, up to the high
 * watermark at call time; the core joins that with live delivery by seq.
 *
 * Outages: while the reader's fetches fail, publish, history and health fail
 * at once with ERR_TRANSPORT_UNAVAILABLE (503); the first successful fetch
 * restores them, without a restart.
 */
import { Admin, Producer } from '@platformatic/kafka';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Span } from '../../../grammar/ast.ts';
import { QsError } from '../../host/errors.ts';
import type { Backend, BackendSink, HistoryResult, Update } from '../core/contract.ts';
import { describeError, unavailable, type ClientOptions } from './client.ts';
import { IdIndex, uuidV7Time } from './id-index.ts';
import { newConsumer, OffsetOutOfRangeError, TopicLog, type LogRecord } from './log.ts';
import { KafkaPresence, type PresenceOptions } from './presence.ts';
import { CONTENT_TYPE, decodeValue, encodeValue } from './record.ts';
import { ensureTopic } from './topic.ts';

export interface KafkaBackendOptions {
  /** Connection settings (clientId is suffixed per connection). */
  client: ClientOptions;
  topic: string;
  /** This node's consumer group (unique per node). */
  group: string;
  /** IDs kept in the ID → offset index. */
  indexSize: number;
  /** This node's ID in presence records. */
  nodeId: string;
  presence?: PresenceOptions;
  /** Long-poll wait of the live reader, ms (default 1000). */
  maxWaitMs?: number;
  /** Where config errors (several partitions) point. */
  span?: Span;
  log?: Logger;
}

/** Most bytes of record values per produce request. */
const BATCH_BYTES = 1 << 20;
const CONTENT_TYPE_KEY = Buffer.from('content-type');
const CONTENT_TYPE_VALUE = Buffer.from(CONTENT_TYPE);
/** How long a history request waits for the start-up read of the retained history. */
const CATCH_UP_WAIT_MS = 30_000;
/** Fetch size per request of the catch-up and history reads. */
const READ_BYTES = 8 << 20;
/** Scan window before a v7 ID's time, for the fallback lookup (clock skew between publisher and broker). */
const V7_SKEW_MS = 60_000;

type Bytes = Producer<Buffer, Buffer, Buffer, Buffer>;

export class KafkaBackend implements Backend {
  /** A retried publish is refused by the fan-out core's window of recent IDs (idempotent publish; see Dedupe). */
  readonly dedupe = 'core' as const;
  readonly options: KafkaBackendOptions;
  readonly presence: KafkaPresence;
  readonly #admin: Admin;
  readonly #producer: Bytes;
  /** The live reader's connection (long polls). */
  readonly #live: TopicLog;
  /** History, tail, offsets and health. */
  readonly #cmd: TopicLog;
  readonly #presenceLog: TopicLog;
  #index: IdIndex;
  #sink: BackendSink | undefined;
  #next = 0n;
  /** Records below this offset are only indexed (catch-up), never delivered. */
  #liveFrom = 0n;
  #caughtUp!: Promise<void>;
  #markCaughtUp: () => void = () => {};
  #up = false;
  #lastError: unknown;
  /** Publishes waiting for the produce request in flight. */
  #queue: { key: Buffer; value: Buffer; resolve: () => void; reject: (err: unknown) => void }[] = [];
  #sending = false;
  readonly #closed = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(options: KafkaBackendOptions) {
    this.options = options;
    const c = options.client;
    const named = (suffix: string) => ({ ...c, clientId: `${c.clientId}-${suffix}` });
    this.#admin = new Admin(named('admin') as ConstructorParameters<typeof Admin>[0]);
    this.#producer = new Producer({ ...named('producer'), acks: -1, retries: 0, idempotent: false } as ConstructorParameters<typeof Producer>[0]) as Bytes;
    this.#live = new TopicLog(newConsumer(named('reader'), options.group), options.topic);
    this.#cmd = new TopicLog(newConsumer(named('history'), options.group), options.topic);
    this.#presenceLog = new TopicLog(newConsumer(named('presence'), options.group), presenceTopic(options.topic));
    this.#index = new IdIndex(options.indexSize);
    this.presence = new KafkaPresence(this.#producer, this.#presenceLog, options.nodeId, { log: options.log, ...options.presence });
    this.#resetCatchUp();
  }

  /** Creates or checks the topics, positions the reader at the head, and starts reading. */
  async start(sink: BackendSink): Promise<void> {
    this.#sink = sink;
    const log = this.options.log;
    const topic = this.options.topic;
    try {
      const stream = await ensureTopic(this.#admin, topic, 'stream', this.options.span);
      await ensureTopic(this.#admin, presenceTopic(topic), 'presence', this.options.span);
      if (stream.created) {
        log?.info({ topic, ...stream.retention }, `kafka transport: created topic ${topic} (1 partition); history is kept as long as the broker's log.retention.ms / log.retention.hours and log.retention.bytes allow (or the topic's retention.ms / retention.bytes)`);
      } else {
        log?.info({ topic, ...stream.retention }, `kafka transport: using topic ${topic}; history is kept as long as its retention.ms / retention.bytes allow`);
      }
      const { start, end } = await this.#cmd.bounds();
      this.#liveFrom = end;
      const size = BigInt(this.options.indexSize);
      const from = end - size > start ? end - size : start;
      this.#next = from;
      this.#index = new IdIndex(this.options.indexSize, from);
      if (from >= end) this.#markCaughtUp();
      await this.#live.describe();
      await this.presence.start();
    } catch (err) {
      await this.#release();
      if (err instanceof QsError) throw err;
      throw new QsError('ERR_TRANSPORT_UNAVAILABLE', `kafka transport: cannot start on ${this.options.client.bootstrapBrokers.join(', ')}: ${describeError(err)}`, { cause: err });
    }
    this.#up = true;
    this.#loop = this.#readLoop();
  }

  /**
   * Appends the update. Publishes that arrive while a produce request is in
   * flight are sent together in the next one (one record batch, in arrival
   * order): one round trip per batch instead of per update.
   */
  publish(update: Update): Promise<void> {
    try { this.#usable(); } catch (err) { return Promise.reject(err); }
    const value = encodeValue(update);
    return new Promise((resolve, reject) => {
      this.#queue.push({ key: Buffer.from(update.id), value, resolve, reject });
      if (!this.#sending) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#sending = true;
    while (this.#queue.length > 0) {
      // Up to BATCH_BYTES per request (a single larger record goes alone).
      let n = 0, bytes = 0;
      while (n < this.#queue.length && (n === 0 || bytes + this.#queue[n]!.value.length <= BATCH_BYTES)) bytes += this.#queue[n++]!.value.length;
      const batch = this.#queue.splice(0, n);
      try {
        if (this.#closed.signal.aborted) throw new QsError('ERR_TRANSPORT_CLOSED', 'kafka transport is closed');
        await this.#producer.send({
          messages: batch.map((p) => ({ topic: this.options.topic, partition: 0, key: p.key, value: p.value, headers: new Map([[CONTENT_TYPE_KEY, CONTENT_TYPE_VALUE]]) })),
          acks: -1,
        });
        for (const p of batch) p.resolve();
      } catch (err) {
        const e = this.#closed.signal.aborted ? new QsError('ERR_TRANSPORT_CLOSED', 'kafka transport is closed') : unavailable(err, 'cannot publish');
        for (const p of batch) p.reject(e);
      }
    }
    this.#sending = false;
  }

  async history(afterId: string, visit: (update: Update, seq: bigint) => boolean | void): Promise<HistoryResult> {
    this.#usable();
    await this.#waitCaughtUp();
    try {
      const { start, end } = await this.#cmd.bounds();
      this.#index.trim(start);
      let from = start;
      if (afterId !== 'earliest') {
        const anchor = await this.#locate(afterId, start, end);
        if (anchor === undefined) return { found: false, lastSeq: end };
        from = anchor + 1n;
      }
      const next = await this.#cmd.read(from, end, (r) => {
        const u = this.#decode(r);
        if (u && visit(u, r.offset + 1n) === false) return false;
      });
      // seq of the last record covered: everything in [from, next) was visited (or skipped as foreign).
      return { found: true, lastSeq: next > from ? next : from };
    } catch (err) {
      throw unavailable(err, 'cannot read the history');
    }
  }

  /** Newest first from the head, until visit returns true; small first page, as the answer is usually recent. */
  async tail(visit: (update: Update, seq: bigint) => boolean | void): Promise<void> {
    this.#usable();
    try {
      const { start, end } = await this.#cmd.bounds();
      let to = end;
      for (let count = 32n; to > start; count = count * 4n > 2048n ? 2048n : count * 4n) {
        const from = to - count > start ? to - count : start;
        const page: LogRecord[] = [];
        await this.#cmd.read(from, to, (r) => { page.push(r); });
        for (let i = page.length - 1; i >= 0; i--) {
          const u = this.#decode(page[i]!);
          if (u && visit(u, page[i]!.offset + 1n) === true) return;
        }
        to = from;
      }
    } catch (err) {
      throw unavailable(err, 'cannot read the history');
    }
  }

  async lastEventId(): Promise<string | undefined> {
    let id: string | undefined;
    await this.tail((u) => { id = u.id; return true; });
    return id;
  }

  /** Throws unless the reader is up and the broker answers ListOffsets for the topic. */
  async health(): Promise<void> {
    this.#usable();
    try { await this.#cmd.bounds(); } catch (err) { throw unavailable(err); }
  }

  async close(): Promise<void> {
    if (this.#closed.signal.aborted) return;
    this.#closed.abort();
    this.#markCaughtUp();
    if (this.#loop) await this.presence.close();
    await this.#release();
    await this.#loop?.catch(() => {});
  }

  /** The offset of the oldest retained record with key `id`, or undefined. */
  async #locate(id: string, start: bigint, end: bigint): Promise<bigint | undefined> {
    const hit = this.#index.get(id);
    if (hit !== undefined && hit >= start) return hit;
    const key = Buffer.from(id);
    const scan = async (from: bigint, to: bigint): Promise<bigint | undefined> => {
      let found: bigint | undefined;
      if (from < to) await this.#cmd.read(from, to, (r) => { if (r.key?.equals(key)) { found = r.offset; return false; } });
      return found;
    };
    // Fallback: the retained records older than the index covers.
    const floor = this.#index.floor;
    if (floor > start) {
      let from = start;
      const t = uuidV7Time(id);
      if (t !== undefined) {
        const at = await this.#cmd.offsetForTime(BigInt(t - V7_SKEW_MS));
        if (at !== undefined && at > from) from = at;
      }
      const old = await scan(from, floor < end ? floor : end);
      if (old !== undefined) return old;
    }
    // Records this node's reader has not indexed yet (written a moment ago).
    return scan(this.#next > floor ? this.#next : floor, end);
  }

  /** Reads from #next forever; an outage pauses it, a reconnect resumes where it stopped. */
  async #readLoop(): Promise<void> {
    const { signal } = this.#closed;
    const wait = this.options.maxWaitMs ?? 1_000;
    let failures = 0;
    while (!signal.aborted) {
      let records: LogRecord[];
      try {
        const catchingUp = this.#next < this.#liveFrom;
        ({ records } = await this.#live.fetch(this.#next, catchingUp ? 0 : wait, catchingUp ? READ_BYTES : 1 << 20));
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof OffsetOutOfRangeError) {
          await this.#outOfRange().catch((e: unknown) => this.#failed(e));
          continue;
        }
        this.#failed(err);
        failures++;
        await delay(Math.min(100 * 2 ** Math.min(failures, 5), 2_000), undefined, { signal }).catch(() => {});
        continue;
      }
      failures = 0;
      if (!this.#up) this.#restored();
      for (const r of records) {
        this.#next = r.offset + 1n;
        if (r.offset < this.#liveFrom) {
          if (r.key) this.#index.add(r.key.toString('utf8'), r.offset);
          continue;
        }
        const u = this.#decode(r);
        if (!u) continue;
        this.#index.add(u.id, r.offset);
        // The core handles its subscribers' errors; this guard only keeps the reader alive whatever happens.
        try { this.#sink!.deliver(u, r.offset + 1n); } catch (err) {
          this.options.log?.error({ err, offset: String(r.offset) }, 'kafka transport: delivering an update failed');
        }
      }
      if (this.#next >= this.#liveFrom) this.#markCaughtUp();
    }
  }

  /** `#next` is outside the retained range: retention deleted records this node had not read, or the topic was recreated. */
  async #outOfRange(): Promise<void> {
    const { start, end } = await this.#cmd.bounds();
    const log = this.options.log;
    if (this.#next < start) {
      log?.warn({ topic: this.options.topic, from: String(this.#next), to: String(start) }, 'kafka transport: records were deleted by retention before this node read them; skipping to the oldest retained record');
      this.#next = start;
      this.#index.trim(start);
    } else if (this.#next > end) {
      log?.warn({ topic: this.options.topic, expected: String(this.#next), end: String(end) }, 'kafka transport: the topic is shorter than this node has read (was it deleted and recreated?); continuing from its end');
      this.#next = end;
      this.#index.reset(end);
    }
    if (this.#liveFrom > this.#next) this.#liveFrom = this.#next;
  }

  #failed(err: unknown): void {
    this.#lastError = err;
    if (!this.#up) return;
    this.#up = false;
    this.options.log?.warn({ err: describeError(err), topic: this.options.topic }, 'kafka transport: connection lost; retrying');
    this.#sink?.connection(false, unavailable(err));
  }

  #restored(): void {
    this.#up = true;
    this.#lastError = undefined;
    this.options.log?.info({ topic: this.options.topic, offset: String(this.#next) }, 'kafka transport: connection restored; resuming the topic where this node stopped');
    this.presence.invalidate();
    this.#sink?.connection(true);
  }

  #decode(r: LogRecord): Update | undefined {
    if (!r.value) return undefined;
    try {
      return decodeValue(r.value);
    } catch (err) {
      this.options.log?.warn({ err: describeError(err), offset: String(r.offset) }, 'kafka transport: skipping a record that is not a Mercure update');
      return undefined;
    }
  }

  /** History waits for the start-up read that fills the index, bounded: a broker lost meanwhile gives a 503. */
  async #waitCaughtUp(): Promise<void> {
    const timer = new AbortController();
    try {
      await Promise.race([this.#caughtUp, delay(CATCH_UP_WAIT_MS, undefined, { signal: timer.signal }).catch(() => {})]);
    } finally {
      timer.abort();
    }
    this.#usable();
    if (this.#next < this.#liveFrom) throw new QsError('ERR_TRANSPORT_UNAVAILABLE', 'kafka transport: still reading the retained history at start; retry shortly');
  }

  #resetCatchUp(): void {
    this.#caughtUp = new Promise((resolve) => { this.#markCaughtUp = resolve; });
  }

  async #release(): Promise<void> {
    await Promise.allSettled([
      this.#producer.close(true), this.#admin.close(),
      this.#live.consumer.close(true), this.#cmd.consumer.close(true), this.#presenceLog.consumer.close(true),
    ]);
  }

  #usable(): void {
    if (this.#closed.signal.aborted) throw new QsError('ERR_TRANSPORT_CLOSED', 'kafka transport is closed');
    if (!this.#up) {
      throw new QsError('ERR_TRANSPORT_UNAVAILABLE', `kafka transport: not connected${this.#lastError ? ': ' + describeError(this.#lastError) : ''}`, { cause: this.#lastError });
    }
  }
}

/** The presence companion topic of `topic`. */
export function presenceTopic(topic: string): string {
  return `${topic}-presence`;
}
