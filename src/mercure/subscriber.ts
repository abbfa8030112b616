/**
 * One SSE stream: the `Subscriber` the fan-out core hands events to.
 *
 * Write path. send() only queues the (shared) event bytes; once per event-loop
 * turn (setImmediate) every stream with something queued hands ALL of it to
 * its connection in one write, so a burst costs one syscall per stream, not
 * one per event (a loopback write costs ~10 µs here, building bytes ~0.1 µs).
 * The bytes of a batch are built once for all streams given the same events
 * (sse-framing.ts). An HTTP/1.1 chunked stream is hijacked (http/hijack.ts):
 * once its head is out, node:http lets go of the connection, and the stream
 * keeps only its socket (~4 KB instead of ~15 KB per idle stream) and writes
 * each batch, framed as one chunk, straight to it (ServerResponse.write costs
 * a cork, a nextTick and three buffers per call). Anything else (HTTP/2,
 * HTTP/1.0, HEAD, an encoded body) goes through the response, head to end.
 *
 * Back-pressure contract: `send()` never blocks and never grows memory
 * without bound. Once the connection reports a full buffer, events wait in the
 * queue, bounded in updates (1000, Mercure's channel size) and in bytes
 * (connection buffer + queue). Overflow disconnects the subscriber: nothing
 * more is accepted, what is queued is flushed, then the stream ends. A write
 * that cannot drain within `dispatch_timeout` destroys the connection, so a
 * stalled client costs at most the bound. A subscriber dropped for overflow
 * gets a short grace (`dispatch_timeout`, at most 5 s) to read what is
 * queued; then its connection is reset (http/reset.ts), which also frees
 * what the kernel still holds for it: a plain close would leave a full send
 * buffer in FIN-WAIT-1 for as long as the stalled client stays connected.
 *
 * Timers: heartbeats and lifetimes live in process-wide lists
 * (stream-clock.ts), not in two Timeouts per stream.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Subscriber, Update } from '../transports/core/contract.ts';
import { HijackedStream, hijack } from '../http/hijack.ts';
import { resetConnection } from '../http/reset.ts';
import { connectionOf, isHttp2, type LiveStream } from '../http/response.ts';
import { HEARTBEAT_CHUNK, framedBatch, plainBatch, resetBatches } from './sse-framing.ts';
import { type BeatList, type Beating, type Deadlined, beatList, deadlines } from './stream-clock.ts';

/** Mercure's per-subscriber channel size. */
export const MAX_QUEUED_UPDATES = 1000;
/** Byte bound on what one subscriber may hold (response buffer + queue). One event is always accepted into an empty buffer. */
export const DEFAULT_MAX_BUFFERED_BYTES = 4 << 20;
/**
 * A queue this long, or this large, is written at once instead of waiting for
 * the flush round: a burst must not approach the update bound, and big
 * events gain nothing from sharing a syscall (nor should they wait in memory).
 */
const FLUSH_AT = 256;
const FLUSH_BYTES = 16 << 10;

const HEARTBEAT = Buffer.from(':\n');
/** Longest a subscriber dropped for overflow may take to read what is queued before its connection is reset. */
const OVERFLOW_GRACE_MS = 5_000;

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
  /** Least time between two flush rounds (see Flusher); 0: every event-loop turn. */
  flushIntervalMs?: number;
}

/** Why a stream ended, for logs and tests. */
export type EndReason = 'client' | 'write_timeout' | 'expired' | 'overflow' | 'dispatch_timeout' | 'transport' | 'hub';

/** What the lifetime deadline does when it comes: nothing, end the stream, or mark it expired. */
const LIFE_NONE = 0;
const LIFE_END = 1;
const LIFE_EXPIRE = 2;

export class SseSubscriber implements Subscriber, Beating, Deadlined, LiveStream {
  readonly id: string;
  readonly topics: string[];
  readonly privateTopics: string[] | null;
  readonly payload: unknown;
  /** Set once the stream has ended, with the reason. */
  endReason: EndReason | undefined;
  /** Called once when the connection closes (set by the subscribe handler). */
  onClose: ((sub: SseSubscriber) => void) | undefined;
  /** Counted in the connected-subscribers metric (set by the subscribe handler). */
  connected = false;
  /** The server's set of open streams this one is in (set by the subscribe handler). */
  server: Set<LiveStream> | undefined;

  // Clock links (stream-clock.ts owns them).
  beatPrev: Beating | null = null;
  beatNext: Beating | null = null;
  beatAt = 0;
  deadlineAt = 0;
  deadlineIndex = -1;

  /** The response; null once the connection is hijacked. */
  #res: ServerResponse | null;
  readonly #opts: StreamOptions;
  /** A chunked HTTP/1.1 stream's connection, taken over: writes go straight to its socket. */
  #hijacked: HijackedStream | null = null;
  #beats: BeatList | null = null;
  #queue: Buffer[] = [];
  #queuedBytes = 0;
  #started = false;
  #blocked = false;
  #closing = false;
  #expired = false;
  /** In the flush list for this turn. */
  #dirty = false;
  #lifetime = LIFE_NONE;
  #lifetimeReason: EndReason = 'write_timeout';
  #stall: NodeJS.Timeout | undefined;
  /** Dropped for overflow: the grace timer in #stall resets the connection, drained or not. */
  #overflowed = false;
  readonly #flusher: Flusher;

  constructor(res: ServerResponse, id: string, topics: string[], privateTopics: string[] | null, payload: unknown, opts: StreamOptions) {
    this.#res = res;
    this.id = id;
    this.topics = topics;
    this.privateTopics = privateTopics;
    this.payload = payload;
    this.#opts = opts;
    this.#flusher = flusherFor(opts.flushIntervalMs ?? 0);
    res.on('close', () => this.#onClose());
  }

  /** Bytes this subscriber currently holds (connection buffer + queue). */
  get bufferedBytes(): number {
    return (this.#hijacked?.socket ?? this.#res!).writableLength + this.#queuedBytes;
  }

  /** False once the stream is ending or gone. */
  get open(): boolean {
    return !this.#closing && !this.#gone;
  }

  /** True when the stream was taken over from node:http (tests, metrics). */
  get hijacked(): boolean {
    return this.#hijacked !== null;
  }

  /** The connection is destroyed. */
  get #gone(): boolean {
    return this.#res ? this.#res.destroyed : this.#hijacked!.socket.destroyed;
  }

  /** Ended by us (the last chunk is written or queued). */
  get #ended(): boolean {
    return this.#res ? this.#res.writableEnded : this.#hijacked!.socket.writableEnded;
  }

  /** HijackedStream callback: the hijacked connection closed. */
  streamClosed(): void {
    this.#onClose();
  }

  send(event: Buffer, _update: Update): boolean {
    if (!this.open) return false;
    const held = this.bufferedBytes;
    if (this.#queue.length >= this.#opts.maxQueuedUpdates || (held > 0 && held + event.length > this.#opts.maxBufferedBytes)) {
      this.#finish('overflow');
      return false;
    }
    this.#queue.push(event);
    this.#queuedBytes += event.length;
    if (this.#started && !this.#blocked) {
      if (this.#queue.length >= FLUSH_AT || this.#queuedBytes >= FLUSH_BYTES) this.#flush();
      else if (!this.#dirty) SseSubscriber.#schedule(this);
    }
    return true;
  }

  close(_reason: string): void {
    this.#finish('transport');
  }

  /** LiveStream: the server stops for good, or its listener goes away. */
  endStream(): void {
    this.#finish('hub');
  }

  /** LiveStream: the connection the stream writes to. */
  connection(): object | undefined {
    if (this.#hijacked) return this.#hijacked.socket;
    return this.#res ? connectionOf(this.#res) : undefined;
  }

  /**
   * Writes the status line, headers and the `:\n` comment, flushes what was
   * queued during registration, and starts the timers.
   */
  start(headers: [string, string][]): void {
    const res = this.#res;
    if (!res || res.destroyed) return;
    res.statusCode = 200;
    for (const [k, v] of headers) res.setHeader(k, v);
    this.#started = true;
    // The head alone first (HEAD too: its writes are ignored): a body byte
    // written through res would sit in its chunk buffer until the next tick
    // and bar the hijack. Corked, head and `:\n` still leave in one write.
    const sock = res.socket as Socket | null;
    sock?.cork();
    // flushHeaders() would send the head as UTF-8; an empty latin1 write sends it as the bytes the
    // header strings stand for (a Last-Event-Id that is not UTF-8, byte-string.ts), and no chunk.
    // (A HEAD response ignores writes, so its head goes out through flushHeaders.)
    if (isHttp2(res) || res.req?.method === 'HEAD') res.flushHeaders(); else res.write('', 'latin1');
    const h = hijack(res);
    let ok: boolean;
    if (h) {
      h.owner = this;
      this.#hijacked = h;
      this.#res = null;
      ok = h.socket.write(HEARTBEAT_CHUNK);
      h.bytes += HEARTBEAT.length;
    } else {
      ok = res.write(HEARTBEAT);
      flattenHead(res);
    }
    sock?.uncork();
    if (!ok) this.#block();
    this.#armTimers();
    this.#flush();
    if (this.#closing) this.#endWhenDrained();
  }

  #armTimers(): void {
    const o = this.#opts;
    const rnd = o.random ?? Math.random;
    const wall = Date.now();
    let life = o.writeTimeoutMs > 0 ? o.writeTimeoutMs * (0.8 + 0.2 * rnd()) : undefined;
    let expired = false;
    if (o.expSeconds !== undefined) {
      const untilExp = Math.max(0, o.expSeconds * 1000 - wall) * (0.8 + 0.2 * rnd());
      if (life === undefined || untilExp < life) { life = untilExp; expired = true; }
    }
    if (life !== undefined) {
      if (o.writeTimeoutMs > 0) {
        this.#lifetime = LIFE_END;
        this.#lifetimeReason = expired && life < o.writeTimeoutMs * 0.8 ? 'expired' : 'write_timeout';
        life = Math.max(0, life - o.dispatchTimeoutMs);
      } else {
        // Without write_timeout the exp-derived deadline only bites on the next write.
        this.#lifetime = LIFE_EXPIRE;
      }
      deadlines.add(this, performance.now() + life);
    }
    if (o.heartbeatMs > 0) {
      this.#beats = beatList(o.heartbeatMs);
      this.#beats.touch(this, performance.now());
    }
  }

  /** Stream-clock callback: the heartbeat interval passed without a write. */
  beat(now: number): void {
    if (!this.open) return;
    if (!this.#blocked && this.#queue.length === 0) this.#write(this.#hijacked ? HEARTBEAT_CHUNK : HEARTBEAT, HEARTBEAT.length);
    if (this.open) this.#beats?.touch(this, now);
  }

  /** Stream-clock callback: the lifetime deadline. */
  deadline(): void {
    if (this.#lifetime === LIFE_END) this.#finish(this.#lifetimeReason, true);
    else if (this.#lifetime === LIFE_EXPIRE) this.#expired = true;
  }

  /** Hands bytes to the connection; tracks back-pressure. `body`: the SSE bytes in it (access logs). */
  #write(chunk: Buffer, body: number): void {
    if (this.#expired) { this.#destroy('expired'); return; }
    const h = this.#hijacked;
    let ok: boolean;
    if (h) {
      ok = h.socket.write(chunk);
      h.bytes += body;
    } else ok = this.#res!.write(chunk);
    if (!ok && !this.#blocked) this.#block();
  }

  /** Writes everything queued in one write. */
  #flush(now = performance.now()): void {
    this.#dirty = false;
    const q = this.#queue;
    if (q.length === 0 || this.#blocked || !this.#started || this.#gone) return;
    const bytes = this.#queuedBytes;
    const chunk = this.#hijacked ? framedBatch(q, bytes) : plainBatch(q, bytes);
    q.length = 0;
    this.#queuedBytes = 0;
    this.#write(chunk, bytes);
    if (this.#beats && !this.#gone) this.#beats.touch(this, now);
    if (this.#closing) this.#endWhenDrained();
  }

  #block(): void {
    this.#blocked = true;
    (this.#hijacked?.socket ?? this.#res!).once('drain', () => this.#onDrain());
    if (this.#opts.dispatchTimeoutMs > 0 && !this.#overflowed) {
      this.#stall = setTimeout(() => this.#destroy('dispatch_timeout'), this.#opts.dispatchTimeoutMs);
    }
  }

  #onDrain(): void {
    this.#blocked = false;
    if (this.#stall && !this.#overflowed) { clearTimeout(this.#stall); this.#stall = undefined; }
    this.#flush();
    if (this.#closing) this.#endWhenDrained();
  }

  /**
   * Stops accepting events. `discard` drops what is queued (lifetime end);
   * otherwise queued events are flushed first (overflow, transport close).
   */
  #finish(reason: EndReason, discard = false): void {
    if (this.#closing || this.#gone) return;
    this.#closing = true;
    this.endReason ??= reason;
    if (discard) { this.#queue = []; this.#queuedBytes = 0; }
    if (reason === 'overflow') {
      // A stalled client: whatever happens to the flush, reset the connection after the grace.
      if (this.#stall) clearTimeout(this.#stall);
      const grace = this.#opts.dispatchTimeoutMs > 0 ? Math.min(this.#opts.dispatchTimeoutMs, OVERFLOW_GRACE_MS) : OVERFLOW_GRACE_MS;
      this.#stall = setTimeout(() => this.#destroy('overflow'), grace);
      this.#overflowed = true;
    }
    if (this.#started) this.#endWhenDrained();
  }

  #endWhenDrained(): void {
    if (this.#queue.length > 0 || this.#ended) return;
    this.#clearTimers(false);
    if (this.#hijacked) this.#hijacked.end(); else this.#res!.end();
    if ((this.#hijacked?.socket ?? this.#res!).writableLength > 0 && !this.#stall) {
      // A client that stops reading must not keep the socket forever.
      const grace = this.#opts.dispatchTimeoutMs > 0 ? this.#opts.dispatchTimeoutMs : 5000;
      this.#stall = setTimeout(() => this.#destroy('dispatch_timeout'), grace);
    }
  }

  /** Ends a stalled stream: a reset for an HTTP/1 connection (see the file comment), a stream reset on HTTP/2. */
  #destroy(reason: EndReason): void {
    this.endReason ??= reason;
    this.#closing = true;
    this.#queue = [];
    this.#queuedBytes = 0;
    const res = this.#res;
    if (!res) resetConnection(this.#hijacked!.socket);
    else if (!isHttp2(res) && res.socket) resetConnection(res.socket);
    else res.destroy();
  }

  #clearTimers(all: boolean): void {
    this.#beats?.remove(this);
    this.#beats = null;
    deadlines.remove(this);
    if (all && this.#stall) { clearTimeout(this.#stall); this.#stall = undefined; }
  }

  #onClose(): void {
    this.endReason ??= 'client';
    this.#closing = true;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#clearTimers(true);
    const cb = this.onClose;
    this.onClose = undefined;
    cb?.(this);
  }

  static #schedule(s: SseSubscriber): void {
    s.#dirty = true;
    s.#flusher.add(s);
  }

  /** Flusher callback: writes what s queued, if it still needs it. */
  static flushDirty(s: SseSubscriber, now: number): void {
    if (s.#dirty) s.#flush(now);
  }
}

/**
 * Flush rounds: every stream that got events since the last round writes them
 * in one go. A round runs on the next turn of the event loop, but no sooner
 * than `windowMs` after the previous round started: under a steady stream of
 * updates each subscriber then gets one write per window holding all the
 * events of that window (fewer syscalls, the dominant cost), while an isolated
 * update still goes out at once. 0: every turn.
 */
class Flusher {
  readonly windowMs: number;
  #list: SseSubscriber[] = [];
  #spare: SseSubscriber[] = [];
  #pending = false;
  #last = -Infinity;

  constructor(windowMs: number) { this.windowMs = windowMs; }

  add(s: SseSubscriber): void {
    this.#list.push(s);
    if (this.#pending) return;
    this.#pending = true;
    const wait = this.#last + this.windowMs - performance.now();
    if (wait >= 1) setTimeout(this.#run, wait);
    else setImmediate(this.#run);
  }

  readonly #run = (): void => {
    this.#pending = false;
    const now = performance.now();
    this.#last = now;
    // Streams dirtied while this round runs (a drain, a write callback) go to the next one.
    const list = this.#list;
    this.#list = this.#spare;
    for (let i = 0; i < list.length; i++) SseSubscriber.flushDirty(list[i]!, now);
    list.length = 0;
    this.#spare = list;
    resetBatches();
  };
}

const flushers = new Map<number, Flusher>();

function flusherFor(windowMs: number): Flusher {
  let f = flushers.get(windowMs);
  if (!f) flushers.set(windowMs, (f = new Flusher(windowMs)));
  return f;
}

/**
 * Node keeps the response head, built by ~50 string concatenations, as a
 * rope of cons strings for the response's life (~2 KB each stream); one flat
 * copy holds the same text in a fraction of it.
 */
function flattenHead(res: ServerResponse): void {
  const r = res as unknown as { _header?: unknown };
  if (typeof r._header === 'string' && r._header.length > 0) r._header = Buffer.from(r._header, 'latin1').toString('latin1');
}
