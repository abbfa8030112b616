/**
 * Presence across nodes on a compacted companion topic (`<topic>-presence`,
 * one partition). Each node writes one record keyed by its node ID whose value
 * lists its subscribers:
 *
 *   key    node ID (host:pid:random)
 *   value  {"node":"…","at":<ms>,"ttl":<ms>,"subscribers":[{"id":"…","topics":[…],"payload":…},…]}
 *          null (tombstone) when the node closes cleanly
 *
 * A node rewrites its record shortly after each join/leave (coalesced, at most
 * one write in flight) and every HEARTBEAT_MS. Every node reads the topic from
 * the start (compaction keeps one record per node) and lists the union of the
 * entries heard within TTL_MS. So a node that dies without closing drops out of
 * every list at most TTL_MS after its last heartbeat (15 s by default); one
 * that closes cleanly drops out as soon as the tombstone is read. Entries read
 * at start age by the record's timestamp; live ones by the time they arrived,
 * so clocks need not agree for live entries.
 *
 * A node that died leaves its last record behind. So that the topic does not
 * keep one record per process ever started, any node that has not heard from
 * a node for SWEEP_FACTOR × its TTL writes a tombstone for it (idempotent;
 * compaction then drops both).
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Producer } from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { PresenceBackend, SubscriberInfo } from '../core/contract.ts';
import { OffsetOutOfRangeError, type TopicLog } from './log.ts';

export const HEARTBEAT_MS = 5_000;
export const TTL_MS = 15_000;
/** Silent for this many TTLs: a dead node's record is tombstoned. */
export const SWEEP_FACTOR = 4;
/** Delay before writing after a join/leave, so a burst of subscribers costs one record. */
const COALESCE_MS = 20;

interface Entry { seen: number; ttl: number; subscribers: SubscriberInfo[] }

export interface PresenceOptions {
  heartbeatMs?: number;
  ttlMs?: number;
  log?: Logger;
}

export class KafkaPresence implements PresenceBackend {
  readonly nodeId: string;
  readonly #producer: Producer<Buffer, Buffer, Buffer, Buffer>;
  readonly #log: TopicLog;
  readonly #heartbeatMs: number;
  readonly #ttlMs: number;
  readonly #logger: Logger | undefined;
  readonly #local = new Map<string, SubscriberInfo>();
  readonly #nodes = new Map<string, Entry>();
  readonly #closed = new AbortController();
  #next = 0n;
  #dirty = false;
  #writing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #loop: Promise<void> | undefined;

  constructor(producer: Producer<Buffer, Buffer, Buffer, Buffer>, log: TopicLog, nodeId: string, options: PresenceOptions = {}) {
    this.#producer = producer;
    this.#log = log;
    this.nodeId = nodeId;
    this.#heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
    this.#ttlMs = options.ttlMs ?? TTL_MS;
    this.#logger = options.log;
  }

  /** Reads every node's current record, announces this node, then follows the topic. */
  async start(): Promise<void> {
    const { start, end } = await this.#log.bounds();
    const now = Date.now();
    this.#next = await this.#log.read(start, end, (r) => this.#apply(r.key, r.value, Math.min(now, Number(r.timestamp))));
    await this.#write();
    this.#timer = setInterval(() => { this.#schedule(0); void this.#sweep(); }, this.#heartbeatMs);
    this.#timer.unref();
    this.#loop = this.#follow();
  }

  join(info: SubscriberInfo): void {
    this.#local.set(info.id, info);
    this.#schedule(COALESCE_MS);
  }

  leave(id: string): void {
    if (this.#local.delete(id)) this.#schedule(COALESCE_MS);
  }

  /** This node's subscribers (always current) and every other live node's. */
  async list(): Promise<SubscriberInfo[]> {
    const out = [...this.#local.values()];
    const now = Date.now();
    for (const [node, e] of this.#nodes) {
      if (node === this.nodeId || now - e.seen > e.ttl) continue;
      out.push(...e.subscribers);
    }
    return out;
  }

  /** After an outage: write our record again at once (others may have expired it). */
  invalidate(): void {
    this.#schedule(0);
  }

  /** Stops heartbeats and writes a tombstone so the others forget this node at once. */
  async close(): Promise<void> {
    if (this.#closed.signal.aborted) return;
    this.#closed.abort();
    clearInterval(this.#timer);
    await this.#writing?.catch(() => {});
    try {
      await this.#producer.send({ messages: [{ topic: this.#log.topic, key: Buffer.from(this.nodeId), value: undefined, partition: 0 }], acks: -1 });
    } catch { /* broker down: the entry expires after its TTL */ }
    await this.#loop?.catch(() => {});
  }

  /** Tombstones the records of nodes silent for SWEEP_FACTOR × their TTL. */
  async #sweep(): Promise<void> {
    const now = Date.now();
    const dead = [...this.#nodes].filter(([node, e]) => node !== this.nodeId && now - e.seen > SWEEP_FACTOR * e.ttl).map(([node]) => node);
    if (dead.length === 0 || this.#closed.signal.aborted) return;
    for (const node of dead) this.#nodes.delete(node);
    try {
      await this.#producer.send({ messages: dead.map((node) => ({ topic: this.#log.topic, key: Buffer.from(node), value: undefined, partition: 0 })), acks: -1 });
      this.#logger?.info({ nodes: dead }, 'kafka transport: removed the presence records of nodes silent for too long');
    } catch { /* the next sweep (of whichever node) retries */ }
  }

  #schedule(ms: number): void {
    this.#dirty = true;
    if (this.#writing || this.#closed.signal.aborted) return;
    this.#writing = delay(ms).then(async () => {
      while (this.#dirty && !this.#closed.signal.aborted) {
        this.#dirty = false;
        try { await this.#write(); } catch (err) {
          this.#logger?.debug({ err }, 'kafka transport: presence heartbeat failed; retrying with the next one');
          break;
        }
      }
    }).finally(() => { this.#writing = undefined; });
  }

  async #write(): Promise<void> {
    const value = { node: this.nodeId, at: Date.now(), ttl: this.#ttlMs, subscribers: [...this.#local.values()] };
    await this.#producer.send({
      messages: [{ topic: this.#log.topic, key: Buffer.from(this.nodeId), value: Buffer.from(JSON.stringify(value)), partition: 0 }],
      acks: -1,
    });
  }

  /** Follows the topic; errors pause it (the stream reader reports outages). */
  async #follow(): Promise<void> {
    const { signal } = this.#closed;
    while (!signal.aborted) {
      try {
        const { records } = await this.#log.fetch(this.#next, 1_000);
        const now = Date.now();
        for (const r of records) {
          this.#next = r.offset + 1n;
          this.#apply(r.key, r.value, now);
        }
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof OffsetOutOfRangeError) {
          // Compaction or deletion moved the log start past us: start over from the beginning.
          this.#next = (await this.#log.bounds().catch(() => ({ start: 0n }))).start;
          continue;
        }
        await delay(500, undefined, { signal }).catch(() => {});
      }
    }
  }

  #apply(key: Buffer | null, value: Buffer | null, seen: number): void {
    if (!key) return;
    const node = key.toString('utf8');
    if (!value) { this.#nodes.delete(node); return; }
    try {
      const v = JSON.parse(value.toString('utf8')) as { ttl?: unknown; subscribers?: unknown };
      if (!Array.isArray(v.subscribers)) return;
      const ttl = typeof v.ttl === 'number' && v.ttl > 0 ? Math.min(v.ttl, 10 * TTL_MS) : this.#ttlMs;
      this.#nodes.set(node, { seen, ttl, subscribers: v.subscribers as SubscriberInfo[] });
    } catch {
      // not a presence record: ignore
    }
  }
}
