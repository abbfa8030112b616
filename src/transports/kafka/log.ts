/**
 * Reading the transport's topic (one partition) by offset, with plain Fetch
 * requests: no consumer-group assignment, no client-side position, so the
 * transport alone decides where each read starts and nothing is read twice
 * or skipped across reconnects. One TopicLog per client connection: a
 * long-polling fetch holds its connection, so the live reader has its own.
 */
import { Consumer, findErrorBy, type GenericError } from '@platformatic/kafka';

export interface LogRecord {
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  /** Producer time (ms since epoch). */
  timestamp: bigint;
}

export interface FetchResult {
  records: LogRecord[];
  /** Offset of the next record to be written (the partition's end). */
  highWatermark: bigint | undefined;
}

export interface TopicInfo {
  id: string;
  leader: number;
  partitions: number;
}

/** Kafka batch attribute: control (transaction marker) batch, never data. */
const CONTROL_BATCH = 0x20;

/** The client's answer for a topic the broker does not have. */
export function isUnknownTopic(err: unknown): boolean {
  return (err instanceof Error && /^Unknown topic /.test(err.message)) || findErrorBy(err as Error, 'apiId', 'UNKNOWN_TOPIC_OR_PARTITION') !== null;
}

/** The topic is absent (the caller creates it or reports it). */
export class MissingTopicError extends Error {}

/** Raised by fetch() when `from` lies outside [log start, high watermark]. */
export class OffsetOutOfRangeError extends Error {}

export class TopicLog {
  readonly consumer: Consumer;
  readonly topic: string;
  #info: TopicInfo | undefined;

  constructor(consumer: Consumer, topic: string) {
    this.consumer = consumer;
    this.topic = topic;
  }

  /** The topic's ID, partition count and leader; cached until a fetch fails. */
  async describe(force = false): Promise<TopicInfo> {
    if (this.#info && !force) return this.#info;
    let md;
    try {
      md = await this.consumer.metadata({ topics: [this.topic], forceUpdate: true });
    } catch (err) {
      if (isUnknownTopic(err)) throw new MissingTopicError(`topic ${this.topic} does not exist`);
      throw err;
    }
    const t = md.topics.get(this.topic);
    if (!t) throw new MissingTopicError(`topic ${this.topic} does not exist`);
    this.#info = { id: t.id, leader: t.partitions[0]?.leader ?? -1, partitions: t.partitionsCount ?? t.partitions.length };
    return this.#info;
  }

  /** [log start offset, high watermark) of partition 0. */
  async bounds(): Promise<{ start: bigint; end: bigint }> {
    const [start, end] = await Promise.all([-2n, -1n].map(async (timestamp) => {
      const offsets = await this.consumer.listOffsets({ topics: [this.topic], timestamp, isolationLevel: 0 });
      return offsets.get(this.topic)?.[0] ?? 0n;
    }));
    return { start: start!, end: end! };
  }

  /** The first offset whose timestamp is ≥ ts (ms), or undefined when none. */
  async offsetForTime(ts: bigint): Promise<bigint | undefined> {
    const offsets = await this.consumer.listOffsets({ topics: [this.topic], timestamp: ts, isolationLevel: 0 });
    const o = offsets.get(this.topic)?.[0];
    return o === undefined || o < 0n ? undefined : o;
  }

  /**
   * One Fetch from `from` (records before it, from a batch that straddles it,
   * are dropped). Waits up to maxWaitMs for at least one byte.
   */
  async fetch(from: bigint, maxWaitMs: number, maxBytes = 8 << 20): Promise<FetchResult> {
    const info = await this.describe();
    let res;
    try {
      res = await this.consumer.fetch({
        node: info.leader,
        topics: [{ topicId: info.id, partitions: [{ partition: 0, fetchOffset: from, partitionMaxBytes: maxBytes, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }],
        maxWaitTime: maxWaitMs,
        minBytes: 1,
        maxBytes,
        isolationLevel: 0,
      });
    } catch (err) {
      this.#info = undefined; // leader or topic may have changed: ask again next time
      if (findErrorBy<GenericError>(err as Error, 'apiId', 'OFFSET_OUT_OF_RANGE')) throw new OffsetOutOfRangeError(`offset ${from} is out of range`);
      throw err;
    }
    const records: LogRecord[] = [];
    let highWatermark: bigint | undefined;
    for (const t of res.responses) {
      for (const p of t.partitions) {
        if (p.partitionIndex !== 0) continue;
        highWatermark = p.highWatermark;
        for (const batch of p.records ?? []) {
          if (batch.attributes & CONTROL_BATCH) continue;
          for (const r of batch.records) {
            const offset = batch.firstOffset + BigInt(r.offsetDelta);
            if (offset < from) continue;
            records.push({ offset, key: r.key, value: r.value, timestamp: batch.firstTimestamp + r.timestampDelta });
          }
        }
      }
    }
    return { records, highWatermark };
  }

  /**
   * Reads [from, until) in order, calling visit per record until it returns
   * false. Returns the offset after the last record visited (or `until`).
   */
  async read(from: bigint, until: bigint, visit: (r: LogRecord) => boolean | void): Promise<bigint> {
    let next = from;
    let empty = 0;
    while (next < until) {
      const { records } = await this.fetch(next, empty === 0 ? 0 : 100);
      if (records.length === 0) {
        // Never skip an offset on a guess: after a few empty answers, stop early (the caller resumes from `next`).
        if (++empty > 3) return next;
        continue;
      }
      empty = 0;
      for (const r of records) {
        if (r.offset >= until) return until;
        next = r.offset + 1n;
        if (visit(r) === false) return next;
      }
    }
    return until;
  }
}

/** A Consumer used only for fetches, offsets and metadata (its group ID names it in broker logs). */
export function newConsumer(options: object, groupId: string): Consumer {
  return new Consumer<Buffer, Buffer, Buffer, Buffer>({ ...(options as ConstructorParameters<typeof Consumer<Buffer, Buffer, Buffer, Buffer>>[0]), groupId });
}
