/**
 * One SSE stream: the `Subscriber` the fan-out core hands events to.
 *
 * Back-pressure contract: `send()` never blocks and never grows memory
 * without bound. Events go straight to the response while the socket keeps
 * up; once `res.write()` reports a full buffer they wait in a queue bounded
 * in updates (1000, Mercure's channel size) and in bytes (response buffer +
 * queue). Overflow disconnects the subscriber: nothing more is accepted, what
 * is queued is flushed, then the stream ends. A write that cannot drain within
 * `dispatch_timeout` destroys the connection, so a stalled client costs at
 * most the bound.
 */
import type { ServerResponse } from 'node:http';
import type { Subscriber, Update } from '../pubsub/transport.ts';

/** Mercure's per-subscriber channel size. */
export const MAX_QUEUED_UPDATES = 1000;
/** Byte bound on what one subscriber may hold (response buffer + queue). One event is always accepted into an empty buffer. */
export const DEFAULT_MAX_BUFFERED_BYTES = 4 << 20;

const HEARTBEAT = Buffer.from(':\n');

/** Stream timing, in milliseconds (0 disables). */
export interface StreamOptions {
  heartbeatMs: number;
  writeTimeoutMs: number;
  dispatchTimeoutMs: number;
  maxQueuedUpdates: number;
  maxBufferedBytes: number;
  /** JWT `exp` in seconds, when the subscriber's token has one. */
  expSeconds?: number;
  /** Injectable randomness for the 80–100 % jitter. */
  random?: () => number;
}

/** Why a stream ended, for logs and tests. */
export type EndReason = 'client' | 'write_timeout' | 'expired' | 'overflow' | 'dispatch_timeout' | 'transport' | 'hub';

export class SseSubscriber implements Subscriber {
  readonly id: string;
  readonly topics: string[];
  readonly privateTopics: string[] | null;
  readonly payload: unknown;
  /** Set once the stream has ended, with the reason. */
  endReason: EndReason | undefined;

  readonly #res: ServerResponse;
  readonly #opts: StreamOptions;
  #queue: Buffer[] = [];
  #queuedBytes = 0;
  #started = false;
  #blocked = false;
  #closing = false;
  #expired = false;
  #heartbeat: NodeJS.Timeout | undefined;
  #lifetime: NodeJS.Timeout | undefined;
  #stall: NodeJS.Timeout | undefined;

  constructor(res: ServerResponse, id: string, topics: string[], privateTopics: string[] | null, payload: unknown, opts: StreamOptions) {
    this.#res = res;
    this.id = id;
    this.topics = topics;
    this.privateTopics = privateTopics;
    this.payload = payload;
    this.#opts = opts;
    res.on('drain', () => this.#onDrain());
    res.on('close', () => this.#onClose());
  }

  /** Bytes this subscriber currently holds (response buffer + queue). */
  get bufferedBytes(): number {
    return this.#res.writableLength + this.#queuedBytes;
  }

  /** False once the stream is ending or gone. */
  get open(): boolean {
    return !this.#closing && !this.#res.destroyed;
  }

  send(event: Buffer, _update: Update): boolean {
    if (!this.open) return false;
    const held = this.bufferedBytes;
    if (this.#queue.length >= this.#opts.maxQueuedUpdates || (held > 0 && held + event.length > this.#opts.maxBufferedBytes)) {
      this.#finish('overflow');
      return false;
    }
    if (this.#started && !this.#blocked) this.#write(event, true);
    else { this.#queue.push(event); this.#queuedBytes += event.length; }
    return true;
  }

  close(_reason: string): void {
    this.#finish('transport');
  }

  /**
   * Writes the status line, headers and the `:\n` comment, flushes what was
   * queued during registration, and starts the timers.
   */
  start(headers: [string, string][]): void {
    const res = this.#res;
    if (res.destroyed) return;
    res.statusCode = 200;
    for (const [k, v] of headers) res.setHeader(k, v);
    this.#started = true;
    this.#write(HEARTBEAT, false);
    res.flushHeaders(); // HEAD: writes are ignored, so push the headers out explicitly
    this.#flushQueue();
    this.#armTimers();
    if (this.#closing) this.#endWhenDrained();
  }

  #armTimers(): void {
    const o = this.#opts;
    const rnd = o.random ?? Math.random;
    const now = Date.now();
    let deadline = o.writeTimeoutMs > 0 ? now + o.writeTimeoutMs * (0.8 + 0.2 * rnd()) : undefined;
    if (o.expSeconds !== undefined) {
      const until = o.expSeconds * 1000 - now;
      const expDeadline = now + Math.max(0, until) * (0.8 + 0.2 * rnd());
      if (deadline === undefined || expDeadline < deadline) deadline = expDeadline;
    }
    if (deadline !== undefined) {
      if (o.writeTimeoutMs > 0) {
        const ms = Math.max(0, deadline - o.dispatchTimeoutMs - now);
        const reason: EndReason = o.expSeconds !== undefined && deadline < now + o.writeTimeoutMs * 0.8 ? 'expired' : 'write_timeout';
        this.#lifetime = setTimeout(() => this.#finish(reason, true), ms);
      } else {
        // Without write_timeout the exp-derived deadline only bites on the next write.
        this.#lifetime = setTimeout(() => { this.#expired = true; }, Math.max(0, deadline - now));
      }
      this.#lifetime.unref?.();
    }
    if (o.heartbeatMs > 0) {
      this.#heartbeat = setTimeout(() => this.#beat(), o.heartbeatMs);
    }
  }

  #beat(): void {
    if (!this.open) return;
    if (!this.#blocked && this.#queue.length === 0) this.#write(HEARTBEAT, false);
    this.#heartbeat?.refresh();
  }

  /** Hands one chunk to the response; tracks back-pressure. */
  #write(chunk: Buffer, isEvent: boolean): void {
    if (this.#expired) { this.#destroy('expired'); return; }
    const ok = this.#res.write(chunk);
    if (isEvent) this.#heartbeat?.refresh();
    if (!ok && !this.#blocked) {
      this.#blocked = true;
      if (this.#opts.dispatchTimeoutMs > 0) {
        this.#stall = setTimeout(() => this.#destroy('dispatch_timeout'), this.#opts.dispatchTimeoutMs);
      }
    }
  }

  #flushQueue(): void {
    if (this.#queue.length === 0) return;
    const res = this.#res;
    res.cork(); // one writev for the batch
    while (this.#queue.length > 0 && !this.#blocked && !res.destroyed) {
      const chunk = this.#queue.shift()!;
      this.#queuedBytes -= chunk.length;
      this.#write(chunk, true);
    }
    res.uncork();
  }

  #onDrain(): void {
    this.#blocked = false;
    if (this.#stall) { clearTimeout(this.#stall); this.#stall = undefined; }
    this.#flushQueue();
    if (this.#closing) this.#endWhenDrained();
  }

  /**
   * Stops accepting events. `discard` drops what is queued (lifetime end);
   * otherwise queued events are flushed first (overflow, transport close).
   */
  #finish(reason: EndReason, discard = false): void {
    if (this.#closing || this.#res.destroyed) return;
    this.#closing = true;
    this.endReason ??= reason;
    if (discard) { this.#queue = []; this.#queuedBytes = 0; }
    if (this.#started) this.#endWhenDrained();
  }

  #endWhenDrained(): void {
    if (this.#queue.length > 0 || this.#res.writableEnded) return;
    this.#clearTimers(false);
    this.#res.end();
    if (this.#res.writableLength > 0 && !this.#stall) {
      // A client that stops reading must not keep the socket forever.
      const grace = this.#opts.dispatchTimeoutMs > 0 ? this.#opts.dispatchTimeoutMs : 5000;
      this.#stall = setTimeout(() => this.#destroy('dispatch_timeout'), grace);
    }
  }

  #destroy(reason: EndReason): void {
    this.endReason ??= reason;
    this.#closing = true;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#res.destroy();
  }

  #clearTimers(all: boolean): void {
    if (this.#heartbeat) clearTimeout(this.#heartbeat);
    if (this.#lifetime) clearTimeout(this.#lifetime);
    this.#heartbeat = this.#lifetime = undefined;
    if (all && this.#stall) { clearTimeout(this.#stall); this.#stall = undefined; }
  }

  #onClose(): void {
    this.endReason ??= 'client';
    this.#closing = true;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#clearTimers(true);
  }
}
