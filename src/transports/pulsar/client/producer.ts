/**
 * A producer on one topic: PRODUCER → PRODUCER_SUCCESS, then SEND (payload
 * frames, one message per frame, no batching) answered by SEND_RECEIPT with
 * the message id, or SEND_ERROR. When the connection drops or the broker
 * closes the producer (topic unloaded), pending sends fail with
 * 'Disconnected' (the message may or may not have been stored) and the
 * producer re-creates itself with back-off until close().
 */
import type { PulsarClient } from './client.ts';
import type { Connection, Handler } from './connection.ts';
import { brokerError } from './connection.ts';
import { PulsarError } from './errors.ts';
import { idFromProto, type MessageId } from './message-id.ts';
import { fromBig, SingleMessageMetadata, T, toBig } from './proto.ts';
import type { Frame } from './frame.ts';

export interface ProducerOptions {
  topic: string;
  /** Producer name; the broker picks a unique one when absent. */
  name?: string;
  /** Told when the producer goes down (false) or is ready again (true). */
  onState?: (up: boolean, err?: Error) => void;
}

export interface OutgoingMessage {
  payload: Uint8Array;
  properties?: Record<string, string>;
  key?: string;
  eventTime?: number;
}

interface PendingSend { resolve(id: MessageId): void; reject(e: Error): void }

export class Producer implements Handler {
  readonly options: ProducerOptions;
  readonly #client: PulsarClient;
  readonly #id: bigint;
  #conn: Connection | undefined;
  #name = '';
  #seq = 0n;
  #pending = new Map<bigint, PendingSend>();
  #ready = false;
  #closed = false;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  lastError: Error | undefined;

  constructor(client: PulsarClient, options: ProducerOptions) {
    this.#client = client;
    this.options = options;
    this.#id = client.newId();
  }

  get ready(): boolean { return this.#ready; }
  get name(): string { return this.#name; }
  /** The broker's maximum message size (from CONNECTED). */
  get maxMessageSize(): number { return this.#conn?.maxMessageSize ?? 5 * 1024 * 1024; }

  async open(): Promise<void> {
    const conn = await this.#client.lookup(this.options.topic);
    if (this.#closed) throw new PulsarError('Closed', 'producer closed');
    conn.producers.set(this.#id, this);
    const requestId = conn.newRequestId();
    const body: Record<string, unknown> = { topic: this.options.topic, producer_id: fromBig(this.#id), request_id: fromBig(requestId) };
    if (this.options.name) body.producer_name = this.options.name;
    try {
      const res = await conn.request({ type: T.PRODUCER, producer: body }, requestId);
      this.#name = res.producer_success?.producer_name ?? '';
      const last = BigInt.asIntN(64, toBig(res.producer_success?.last_sequence_id ?? -1));
      if (last >= this.#seq) this.#seq = last + 1n;
    } catch (err) {
      conn.producers.delete(this.#id);
      throw err;
    }
    this.#conn = conn;
    this.#ready = true;
    this.#attempt = 0;
  }

  /** Sends one message; resolves with its id once the broker stored it. */
  send(msg: OutgoingMessage): Promise<MessageId> {
    if (this.#closed) return Promise.reject(new PulsarError('Closed', 'producer closed'));
    if (!this.#ready || !this.#conn) return Promise.reject(new PulsarError('Disconnected', `producer on ${this.options.topic} is reconnecting${this.lastError ? ': ' + this.lastError.message : ''}`));
    const seq = this.#seq++;
    const metadata: Record<string, unknown> = {
      producer_name: this.#name, sequence_id: fromBig(seq), publish_time: fromBig(BigInt(Date.now())),
      properties: Object.entries(msg.properties ?? {}).map(([key, value]) => ({ key, value })),
    };
    if (msg.key !== undefined) metadata.partition_key = msg.key;
    if (msg.eventTime) metadata.event_time = fromBig(BigInt(msg.eventTime));
    return new Promise((resolve, reject) => {
      try {
        this.#conn!.sendPayload({ type: T.SEND, send: { producer_id: fromBig(this.#id), sequence_id: fromBig(seq), num_messages: 1 } }, metadata, msg.payload);
      } catch (err) {
        reject(err);
        return;
      }
      this.#pending.set(seq, { resolve, reject });
    });
  }

  /**
   * Sends several messages as ONE batch entry (num_messages_in_batch): they
   * share a ledger entry and get ids with batch indexes 0…n-1. Resolves with the entry's id.
   */
  sendBatch(msgs: OutgoingMessage[]): Promise<MessageId> {
    if (this.#closed) return Promise.reject(new PulsarError('Closed', 'producer closed'));
    if (!this.#ready || !this.#conn) return Promise.reject(new PulsarError('Disconnected', `producer on ${this.options.topic} is reconnecting`));
    const parts: Buffer[] = [];
    for (const m of msgs) {
      const single: Record<string, unknown> = { payload_size: m.payload.length, properties: Object.entries(m.properties ?? {}).map(([key, value]) => ({ key, value })) };
      if (m.key !== undefined) single.partition_key = m.key;
      const meta = SingleMessageMetadata.encode(SingleMessageMetadata.fromObject(single)).finish();
      const size = Buffer.allocUnsafe(4);
      size.writeUInt32BE(meta.length, 0);
      parts.push(size, Buffer.from(meta), Buffer.from(m.payload));
    }
    const seq = this.#seq;
    this.#seq += BigInt(msgs.length);
    const metadata = {
      producer_name: this.#name, sequence_id: fromBig(seq), publish_time: fromBig(BigInt(Date.now())), num_messages_in_batch: msgs.length,
    };
    return new Promise((resolve, reject) => {
      try {
        this.#conn!.sendPayload({ type: T.SEND, send: { producer_id: fromBig(this.#id), sequence_id: fromBig(seq), num_messages: msgs.length } }, metadata, Buffer.concat(parts));
      } catch (err) { reject(err); return; }
      this.#pending.set(seq, { resolve, reject });
    });
  }

  frame(f: Frame): void {
    const c = f.command;
    if (c.type === T.SEND_RECEIPT) {
      const seq = toBig(c.send_receipt.sequence_id);
      const p = this.#pending.get(seq);
      if (!p) return;
      this.#pending.delete(seq);
      p.resolve(idFromProto(c.send_receipt.message_id ?? {}));
    } else if (c.type === T.SEND_ERROR) {
      const seq = toBig(c.send_error.sequence_id);
      const p = this.#pending.get(seq);
      this.#pending.delete(seq);
      p?.reject(brokerError(c.send_error));
      // The broker closes the producer after a send error; CLOSE_PRODUCER follows.
    }
  }

  closed(byBroker: boolean): void {
    if (!this.#ready && !this.#conn) return;
    this.#conn?.producers.delete(this.#id);
    this.#conn = undefined;
    this.#ready = false;
    const err = new PulsarError('Disconnected', byBroker ? `broker closed the producer on ${this.options.topic}` : `connection lost under the producer on ${this.options.topic}`);
    this.lastError = err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    if (this.#closed) return;
    this.options.onState?.(false, err);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#closed || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.open().then(() => this.options.onState?.(true), (err: Error) => {
        this.lastError = err;
        this.#attempt++;
        this.#schedule();
      });
    }, this.#client.backoff(this.#attempt));
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
    const err = new PulsarError('Closed', 'producer closed');
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    if (conn && !conn.closed) {
      conn.producers.delete(this.#id);
      const requestId = conn.newRequestId();
      await conn.request({ type: T.CLOSE_PRODUCER, close_producer: { producer_id: fromBig(this.#id), request_id: fromBig(requestId) } }, requestId).catch(() => undefined);
    }
  }
}
