/**
 * A consumer: SUBSCRIBE (a named durable subscription, or a non-durable
 * reader starting after a message id), FLOW permits, MESSAGE frames (batch
 * entries split into their messages), ACK, SEEK, GET_LAST_MESSAGE_ID.
 *
 * Exactly once across reconnects (persistent topics): the consumer remembers the id of the last
 * message it handed to onMessage. After the connection drops or the broker
 * closes the consumer, it resubscribes with back-off: a reader restarts
 * after that id; a durable subscription resumes from its cursor. Either way,
 * messages at or before that id are dropped, so nothing is handed over twice
 * and nothing after it is skipped.
 */
import type { PulsarClient } from './client.ts';
import type { Connection, Handler } from './connection.ts';
import { PulsarError } from './errors.ts';
import type { Frame } from './frame.ts';
import { compareIds, EARLIEST, idFromProto, idToProto, LATEST, type MessageId } from './message-id.ts';
import { fromBig, SingleMessageMetadata, T, toBig } from './proto.ts';

export type SubType = 'Exclusive' | 'Shared' | 'Failover';
const SUB_TYPES: Record<SubType, number> = { Exclusive: 0, Shared: 1, Failover: 2 };

export interface Message {
  id: MessageId;
  payload: Buffer;
  properties: Record<string, string>;
  publishTime: number;
  eventTime: number;
  producerName: string;
  key?: string;
  redeliveryCount: number;
}

export interface ConsumerOptions {
  topic: string;
  subscription: string;
  /** Default Exclusive. */
  subType?: SubType;
  /** Default true. false = a reader: no cursor is kept on the broker. */
  durable?: boolean;
  /**
   * Where a new subscription (or a reader) starts: 'earliest', 'latest'
   * (default), or after this message id (exclusive: the first message handed
   * over is the one after it). Only readers honour a message id.
   */
  start?: 'earliest' | 'latest' | MessageId;
  /** FLOW permits kept outstanding (default 1000). */
  receiverQueueSize?: number;
  consumerName?: string;
  onMessage(msg: Message): void;
  /** Told when the consumer goes down (false) or is subscribed again (true). */
  onState?: (up: boolean, err?: Error) => void;
}

export class Consumer implements Handler {
  readonly options: ConsumerOptions;
  readonly #client: PulsarClient;
  readonly #id: bigint;
  #conn: Connection | undefined;
  #ready = false;
  #closed = false;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Last message handed over; nothing at or before it is handed over again. */
  #last: MessageId | undefined;
  /** After a seek: hand over messages from this id on (inclusive), then forget it. */
  #seekTo: MessageId | undefined;
  #unflowed = 0;
  readonly #transient: boolean;
  lastError: Error | undefined;

  constructor(client: PulsarClient, options: ConsumerOptions) {
    this.#client = client;
    this.options = options;
    this.#id = client.newId();
    this.#transient = options.topic.startsWith('non-persistent://');
    const s = options.start;
    if (s && typeof s === 'object') this.#last = s;
  }

  get ready(): boolean { return this.#ready; }
  /** The id of the last message handed to onMessage (or the start id). */
  get lastMessageId(): MessageId | undefined { return this.#last; }

  async open(): Promise<void> {
    const o = this.options;
    const conn = await this.#client.lookup(o.topic);
    if (this.#closed) throw new PulsarError('Closed', 'consumer closed');
    conn.consumers.set(this.#id, this);
    const requestId = conn.newRequestId();
    const durable = o.durable ?? true;
    const sub: Record<string, unknown> = {
      topic: o.topic, subscription: o.subscription, subType: SUB_TYPES[o.subType ?? 'Exclusive'],
      consumer_id: fromBig(this.#id), request_id: fromBig(requestId), durable,
      initialPosition: o.start === 'earliest' ? 1 : 0,
    };
    if (o.consumerName) sub.consumer_name = o.consumerName;
    if (!durable) {
      // A reader resumes after the last message handed over (or at its start).
      const from = this.#seekTo ? { ...this.#seekTo, batchIndex: -1 } : this.#last ?? (o.start === 'earliest' ? EARLIEST : LATEST);
      sub.start_message_id = idToProto(from);
    }
    try {
      await conn.request({ type: T.SUBSCRIBE, subscribe: sub }, requestId);
    } catch (err) {
      conn.consumers.delete(this.#id);
      throw err;
    }
    this.#conn = conn;
    this.#ready = true;
    this.#attempt = 0;
    this.#unflowed = 0;
    conn.send({ type: T.FLOW, flow: { consumer_id: fromBig(this.#id), messagePermits: this.#queue() } });
  }

  #queue(): number { return this.options.receiverQueueSize ?? 1000; }

  frame(f: Frame): void {
    if (f.command.type !== T.MESSAGE || !this.#ready) return;
    const m = f.command.message;
    const entry = idFromProto(m.message_id);
    const meta = f.metadata ?? {};
    const count: number = meta.num_messages_in_batch ?? 1;
    const batched = meta.num_messages_in_batch !== undefined;
    this.#permit(count);
    if (f.checksumOk === false || (meta.compression ?? 0) !== 0) {
      // Corrupt or compressed (unsupported) entries are skipped; a durable subscription still acks them.
      if ((this.options.durable ?? true)) this.ack(entry);
      return;
    }
    const base = {
      publishTime: Number(toBig(meta.publish_time)), eventTime: Number(toBig(meta.event_time)),
      producerName: String(meta.producer_name ?? ''), redeliveryCount: m.redelivery_count ?? 0,
    };
    if (!batched) {
      this.#hand({ ...base, id: entry, payload: f.payload!, properties: props(meta.properties), key: meta.partition_key });
      return;
    }
    let at = 0;
    const buf = f.payload!;
    for (let i = 0; i < count && at + 4 <= buf.length; i++) {
      const size = buf.readUInt32BE(at);
      const single = SingleMessageMetadata.toObject(SingleMessageMetadata.decode(buf.subarray(at + 4, at + 4 + size)), { defaults: false });
      at += 4 + size;
      const len: number = single.payload_size ?? 0;
      const payload = buf.subarray(at, at + len);
      at += len;
      if (single.compacted_out) continue;
      this.#hand({ ...base, id: { ...entry, batchIndex: i }, payload, properties: props(single.properties), key: single.partition_key,
        eventTime: single.event_time ? Number(toBig(single.event_time)) : base.eventTime });
    }
  }

  #hand(msg: Message): void {
    // Non-persistent topics give every message the same placeholder id: nothing to order or resume by.
    if (this.#transient) { this.options.onMessage(msg); return; }
    if (this.#seekTo) {
      if (compareIds(msg.id, this.#seekTo) < 0) return;
      this.#seekTo = undefined;
    } else if (this.#last && compareIds(msg.id, this.#last) <= 0) return;
    this.#last = msg.id;
    this.options.onMessage(msg);
  }

  /** Returns permits as messages are handed over, in chunks of half the queue. */
  #permit(n: number): void {
    this.#unflowed += n;
    if (this.#unflowed < Math.max(1, this.#queue() >> 1) || !this.#conn) return;
    const permits = this.#unflowed;
    this.#unflowed = 0;
    try { this.#conn.send({ type: T.FLOW, flow: { consumer_id: fromBig(this.#id), messagePermits: permits } }); } catch { /* reconnecting */ }
  }

  /** Individual ack (durable subscriptions). Fire-and-forget, as in the protocol. */
  ack(id: MessageId, cumulative = false): void {
    if (!this.#conn || !this.#ready) return;
    const entry = { ...id, batchIndex: -1 };
    try { this.#conn.send({ type: T.ACK, ack: { consumer_id: fromBig(this.#id), ack_type: cumulative ? 1 : 0, message_id: [idToProto(entry)] } }); } catch { /* reconnecting */ }
  }

  /** GET_LAST_MESSAGE_ID: the id of the newest message of the topic ({-1,-1} style ids when empty). */
  async getLastMessageId(): Promise<MessageId> {
    const conn = this.#usable();
    const requestId = conn.newRequestId();
    const res = await conn.request({ type: T.GET_LAST_MESSAGE_ID, getLastMessageId: { consumer_id: fromBig(this.#id), request_id: fromBig(requestId) } }, requestId);
    return idFromProto(res.getLastMessageIdResponse.last_message_id);
  }

  /**
   * SEEK: the next message handed over is `id` itself (inclusive), or the
   * first one after it. The broker then drops the consumer; it resubscribes
   * at once.
   */
  async seek(id: MessageId): Promise<void> {
    const conn = this.#usable();
    const requestId = conn.newRequestId();
    this.#seekTo = id;
    this.#last = undefined;
    await conn.request({ type: T.SEEK, seek: { consumer_id: fromBig(this.#id), request_id: fromBig(requestId), message_id: idToProto({ ...id, batchIndex: -1 }) } }, requestId);
  }

  #usable(): Connection {
    if (this.#closed) throw new PulsarError('Closed', 'consumer closed');
    if (!this.#conn || !this.#ready) throw new PulsarError('Disconnected', `consumer on ${this.options.topic} is reconnecting`);
    return this.#conn;
  }

  closed(byBroker: boolean): void {
    this.#conn?.consumers.delete(this.#id);
    const wasReady = this.#ready;
    this.#conn = undefined;
    this.#ready = false;
    if (this.#closed) return;
    const err = new PulsarError('Disconnected', byBroker ? `broker closed the consumer on ${this.options.topic}` : `connection lost under the consumer on ${this.options.topic}`);
    this.lastError = err;
    if (wasReady && !(byBroker && this.#seekTo)) this.options.onState?.(false, err);
    this.#schedule(byBroker && this.#seekTo !== undefined);
  }

  #schedule(now = false): void {
    if (this.#closed || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.open().then(() => this.options.onState?.(true), (err: Error) => {
        this.lastError = err;
        this.#attempt++;
        this.#schedule();
      });
    }, now ? 0 : this.#client.backoff(this.#attempt));
    this.#timer.unref();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#client.release(this);
    const conn = this.#conn;
    this.#conn = undefined;
    this.#ready = false;
    if (conn && !conn.closed) {
      conn.consumers.delete(this.#id);
      const requestId = conn.newRequestId();
      await conn.request({ type: T.CLOSE_CONSUMER, close_consumer: { consumer_id: fromBig(this.#id), request_id: fromBig(requestId) } }, requestId).catch(() => undefined);
    }
  }
}

function props(list: { key: string; value: string }[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) out[kv.key] = kv.value;
  return out;
}
