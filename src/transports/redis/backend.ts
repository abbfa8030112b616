/**
 * The Redis / Valkey backend: every node appends to ONE Redis stream and
 * reads it back with XREAD BLOCK on a dedicated connection, so every node sees
 * every update in the same order. History is read by index, never by scan.
 *
 * Keys (all in the stream's hash slot, so Redis Cluster works; see
 * redis-client.ts `streamKeys`), for `stream mercure`:
 *   mercure                      the stream (XADD … MAXLEN ~ max_length)
 *   {mercure}:ids                hash   update ID → oldest retained entry ID
 *   {mercure}:order              list   "<entry ID> <update ID>", trims the index with the stream
 *   {mercure}:next, :latest      hash   chain repeated custom IDs (redis-scripts.ts PUBLISH)
 *   {mercure}:nodes              zset   node IDs publishing presence
 *   {mercure}:presence:<nodeId>  hash   subscriber ID → JSON SubscriberInfo, TTL 15 s
 *
 * Entry layout (JSON, the default) — one field, readable by any client:
 *   update  {"ID":"urn:uuid:…","Topics":["https://…",…],"Data":"…",
 *            "Private":false,"Type":"","Retry":0}
 * (Mercure's own JSON of an update: Topics[0] is the canonical topic, Type ""
 * and Retry 0 mean none.) With `gob`, the field is `bin` instead, holding a
 * compact binary encoding of our own (redis-codec.ts) that skips JSON
 * escaping; third parties cannot read it. Readers accept both, and skip
 * entries with neither (another writer sharing the stream).
 *
 * Sequence numbers: entry ID `<ms>-<n>` → (ms << 64) | n (redis-codec.ts).
 *
 * Other systems may read the stream freely but must not XDEL or XTRIM it:
 * the index is trimmed by counting (:order length vs XLEN), so entries
 * removed behind its back make retained IDs look unknown.
 */
import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { QsError } from '../../host/errors.ts';
import type { Backend, BackendSink, HistoryResult, PublishOutcome, Update } from '../core/contract.ts';
import { backoff, createClient, streamKeys, unavailable, within, type RedisClient, type RedisConnection, type StreamKeys } from './client.ts';
import { decodeEntry, encodeUpdate, entryIdToSeq } from './codec.ts';
import { RedisPresence } from './presence.ts';
import { HEAD, LOOKUP, PUBLISH, runScript } from './scripts.ts';

/** Programmatic options (the module maps its JSON config onto these). */
export interface RedisBackendOptions extends RedisConnection {
  /** Stream name, shared by every node of the hub. */
  stream: string;
  /** Approximate history length (XADD MAXLEN ~); 0 or absent = keep everything. */
  maxLength?: number;
  /** Store entries in the compact binary encoding (config `gob`). */
  binary?: boolean;
  /** Presence TTL in ms (default 15000): bound on how long a dead node's subscribers stay listed. */
  presenceTtlMs?: number;
  /** XREAD BLOCK timeout in ms (default 5000); a reader socket silent for blockMs + 5 s is replaced. */
  blockMs?: number;
  /** This node's ID in presence keys; random by default. */
  nodeId?: string;
  log?: Logger;
}

/** Entries fetched per XREAD / XRANGE round trip. */
const BATCH = 512;
/**
 * Pause after a read error while the client still counts as connected: a
 * Cluster client stays "ready" while the master owning the stream is down, and
 * an error reply (e.g. NOPERM) would otherwise spin.
 */
const READ_ERROR_BACKOFF_MS = 500;
/** Upper bound on connecting at start (ioredis's own connect timeout is 10 s) and on stopping the reader. */
const CONNECT_LIMIT_MS = 15_000;

type Entry = [Buffer, Buffer[]];

/** Redis Streams backend. Create, then `start(sink)`; `close()` is idempotent. */
export class RedisBackend implements Backend {
  readonly options: RedisBackendOptions;
  readonly keys: StreamKeys;
  readonly presence: RedisPresence;
  /** Idempotent publish: the PUBLISH script checks the ID index and appends atomically. */
  readonly dedupe = 'atomic';
  #cmd: RedisClient;
  #reader: RedisClient;
  #sink: BackendSink | undefined;
  /** Last entry ID handed to the sink: reads resume strictly after it, across reconnects. */
  #lastId = '0-0';
  #up = false;
  /** The last XREAD failed; cleared by the next one that succeeds. */
  #readFailing = false;
  #lastError: unknown;
  #closed = new AbortController();
  /** Set once both connections came up: from then on, outages are retried forever. */
  #reconnect = false;
  /** True when #cmd is the storage module's own client (`address caddy-storage-redis.alt`): never ours to close. */
  readonly #sharedCmd: boolean;
  #listeners: [RedisClient, string, (...a: any[]) => void][] = [];
  #loop: Promise<void> | undefined;

  constructor(options: RedisBackendOptions) {
    if (!options.addresses.length && !options.template) throw new Error('redis transport: no address');
    this.options = options;
    this.keys = streamKeys(options.stream);
    const nodeId = options.nodeId ?? randomUUID();
    // Named so operators (and tests) can tell the connections apart in CLIENT LIST.
    // No reconnecting until start() succeeded: a failed first connect is final, and nothing is left mid-handshake.
    const retry = (times: number) => (this.#reconnect ? backoff(times) : null);
    // With `address caddy-storage-redis.alt` the storage's connection carries our
    // commands too, so Redis sees one client set; only the blocking XREAD needs a
    // connection of its own. A Cluster template that reads from replicas is not
    // shared: a lagging replica would hide the newest entries.
    const t = options.template;
    this.#sharedCmd = t !== undefined && (!(t instanceof Cluster) || (t.options as { scaleReads?: unknown }).scaleReads === 'master');
    this.#cmd = this.#sharedCmd ? t! : createClient(options, `quicksilver:${nodeId}`, { retry });
    // The server answers a blocked XREAD within blockMs, so silence beyond that means a dead socket.
    this.#reader = createClient(options, `quicksilver:${nodeId}:reader`, { retry, socketTimeoutMs: (options.blockMs ?? 5_000) + 5_000 });
    this.presence = new RedisPresence(this.#cmd, this.keys, nodeId, options.presenceTtlMs, options.log);
  }

  /** Connects both connections, positions the reader at the current head and starts reading. */
  async start(sink: BackendSink): Promise<void> {
    this.#sink = sink;
    const on = (c: RedisClient, event: string, fn: (...a: any[]) => void) => { c.on(event, fn); this.#listeners.push([c, event, fn]); };
    for (const c of [this.#cmd, this.#reader]) {
      // ioredis throws on an 'error' event without a listener; errors are reported through state changes instead.
      on(c, 'error', (err: unknown) => { this.#lastError = err; });
      on(c, 'ready', () => this.#state());
      on(c, 'close', () => this.#state());
      on(c, 'end', () => this.#state());
    }
    try {
      // allSettled: never disconnect a client while its TLS handshake is still running.
      // Bounded: a Cluster whose ready check fails during connect() never settles its promise.
      const connects = await Promise.allSettled([this.#sharedCmd ? this.#cmdReady() : this.#cmd.connect(), this.#reader.connect()].map((p) => within(p, CONNECT_LIMIT_MS)));
      for (const c of connects) {
        // connect() rejects with a bare "Connection is closed."; the 'error' event had the cause.
        if (c.status === 'rejected') throw this.#lastError ?? c.reason;
      }
      this.#reconnect = true;
      this.#lastId = ((await runScript(this.#cmd, HEAD, [this.keys.stream], [])) as string | null) ?? '0-0';
      await this.presence.start();
    } catch (err) {
      // Leave nothing retrying in the background: a failed start is final (close() stays safe to call).
      this.#release();
      const where = this.options.template ? "the storage module's Redis" : this.options.addresses.join(', ');
      throw new QsError('ERR_TRANSPORT_UNAVAILABLE', `redis transport: cannot start on ${where}: ${(err as Error).message}`, { cause: err });
    }
    this.#up = this.#cmd.status === 'ready' && this.#reader.status === 'ready';
    this.#loop = this.#readLoop();
  }

  async publish(update: Update): Promise<PublishOutcome> {
    this.#usable();
    const [field, value] = encodeUpdate(update, this.options.binary ?? false);
    try {
      const [, duplicate] = await runScript(this.#cmd, PUBLISH, [this.keys.stream, this.keys.ids, this.keys.order, this.keys.next, this.keys.latest],
        [this.options.maxLength ?? 0, update.id, field, value]) as [string, number];
      return duplicate === 1 ? 'duplicate' : 'stored';
    } catch (err) {
      throw unavailable(err);
    }
  }

  async history(afterId: string, visit: (update: Update, seq: bigint) => boolean | void): Promise<HistoryResult> {
    this.#usable();
    try {
      let from: string;
      let head: string | null;
      if (afterId === 'earliest') {
        head = (await runScript(this.#cmd, HEAD, [this.keys.stream], [])) as string | null;
        from = '-';
      } else {
        const [anchor, h] = (await runScript(this.#cmd, LOOKUP, [this.keys.stream, this.keys.ids], [afterId])) as [string | null, string | null];
        head = h;
        if (!anchor) return { found: false, lastSeq: head ? entryIdToSeq(head) : 0n };
        from = '(' + anchor;
      }
      let lastSeq = from === '-' ? 0n : entryIdToSeq(from.slice(1));
      if (!head) return { found: true, lastSeq };
      // Page through (from, head]: bounded batches, so a long history never loads at once.
      for (;;) {
        const batch = (await this.#cmd.xrangeBuffer(this.keys.stream, from, head, 'COUNT', BATCH)) as Entry[];
        for (const [id, fields] of batch) {
          lastSeq = entryIdToSeq(id.toString());
          const u = this.#decode(id, fields);
          if (u && visit(u, lastSeq) === false) return { found: true, lastSeq };
        }
        if (batch.length < BATCH) return { found: true, lastSeq };
        from = '(' + batch[batch.length - 1]![0].toString();
      }
    } catch (err) {
      throw unavailable(err);
    }
  }

  /** Newest first from the head, until visit returns true; small first page, as the answer is usually recent. */
  async tail(visit: (update: Update, seq: bigint) => boolean | void): Promise<void> {
    this.#usable();
    try {
      let to = '+';
      for (let count = 32; ; count = Math.min(count * 4, BATCH)) {
        const batch = (await this.#cmd.xrevrangeBuffer(this.keys.stream, to, '-', 'COUNT', count)) as Entry[];
        for (const [id, fields] of batch) {
          const u = this.#decode(id, fields);
          if (u && visit(u, entryIdToSeq(id.toString())) === true) return;
        }
        if (batch.length < count) return;
        to = '(' + batch[batch.length - 1]![0].toString();
      }
    } catch (err) {
      throw unavailable(err);
    }
  }

  async lastEventId(): Promise<string | undefined> {
    this.#usable();
    try {
      const last = (await this.#cmd.xrevrangeBuffer(this.keys.stream, '+', '-', 'COUNT', 1)) as Entry[];
      for (const [id, fields] of last) return this.#decode(id, fields)?.id;
      return undefined;
    } catch (err) {
      throw unavailable(err);
    }
  }

  /** Throws unless both connections are up and the stream's node answers. */
  async health(): Promise<void> {
    this.#usable();
    try {
      // EXISTS on the stream key reaches the node owning its slot (a PING could hit any cluster node).
      await this.#cmd.exists(this.keys.stream);
    } catch (err) {
      throw unavailable(err);
    }
  }

  async close(): Promise<void> {
    if (this.#closed.signal.aborted) return;
    this.#closed.abort();
    await this.presence.close();
    this.#release();
    // The pending XREAD is rejected by the disconnect; the bound only guards against a client that never settles it.
    await within(this.#loop ?? Promise.resolve(), CONNECT_LIMIT_MS).catch(() => undefined);
  }

  /** Reads the stream from #lastId forever; an outage pauses it, a reconnect resumes it where it stopped. */
  async #readLoop(): Promise<void> {
    const { signal } = this.#closed;
    const block = this.options.blockMs ?? 5_000;
    while (!signal.aborted) {
      if (this.#reader.status !== 'ready') {
        await this.#waitReady(this.#reader);
        continue;
      }
      let res: [Buffer, Entry[]][] | null;
      try {
        // After a failure, probe without blocking so recovery is noticed at once, not after a full block.
        res = (this.#readFailing
          ? await this.#reader.xreadBuffer('COUNT', BATCH, 'STREAMS', this.keys.stream, this.#lastId)
          : await this.#reader.xreadBuffer('COUNT', BATCH, 'BLOCK', block, 'STREAMS', this.keys.stream, this.#lastId)) as [Buffer, Entry[]][] | null;
      } catch (err) {
        if (signal.aborted) return;
        this.#lastError = err;
        this.#readFailing = true;
        this.#state();
        if (this.#reader.status === 'ready') await delay(READ_ERROR_BACKOFF_MS, undefined, { signal }).catch(() => undefined);
        continue;
      }
      if (this.#readFailing) {
        this.#readFailing = false;
        this.#state();
      }
      for (const [, entries] of res ?? []) {
        for (const [id, fields] of entries) {
          const idText = id.toString();
          this.#lastId = idText;
          const u = this.#decode(id, fields);
          if (!u) continue;
          // The core handles its subscribers' errors; this guard only keeps the reader alive whatever happens.
          try { this.#sink!.deliver(u, entryIdToSeq(idText)); } catch (err) {
            this.options.log?.error({ err, entry: idText }, 'redis transport: delivering an update failed');
          }
        }
      }
    }
  }

  #decode(id: Buffer, fields: Buffer[]): Update | undefined {
    try {
      return decodeEntry(fields);
    } catch (err) {
      this.options.log?.warn({ err, entry: id.toString() }, 'redis transport: skipping an unreadable stream entry');
      return undefined;
    }
  }

  /** Recomputes up/down from both connections and the reader's last result; reports and logs changes once. */
  #state(): void {
    if (this.#closed.signal.aborted || !this.#sink || !this.#loop) return;
    const up = this.#cmd.status === 'ready' && this.#reader.status === 'ready' && !this.#readFailing;
    if (up === this.#up) return;
    this.#up = up;
    const log = this.options.log;
    if (up) {
      log?.info({ stream: this.keys.stream }, 'redis transport: connection restored; resuming the stream');
      this.presence.invalidate();
      this.#sink.connection(true);
    } else {
      log?.warn({ err: this.#lastError, stream: this.keys.stream }, 'redis transport: connection lost; retrying');
      this.#sink.connection(false, this.#lastError);
    }
  }

  /** The shared storage client is already connecting or connected: wait for it rather than connect again. */
  #cmdReady(): Promise<void> {
    return this.#cmd.status === 'ready' ? Promise.resolve() : this.#waitReady(this.#cmd);
  }

  /** Drops our connections and our listeners; a shared storage client stays open for its owner. */
  #release(): void {
    for (const [c, event, fn] of this.#listeners.splice(0)) c.off(event, fn);
    if (!this.#sharedCmd) this.#cmd.disconnect();
    this.#reader.disconnect();
  }

  #waitReady(client: RedisClient): Promise<void> {
    const signal = this.#closed.signal;
    return new Promise((resolve) => {
      const done = () => { client.off('ready', done); signal.removeEventListener('abort', done); resolve(); };
      client.once('ready', done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  #usable(): void {
    if (this.#closed.signal.aborted) throw new QsError('ERR_TRANSPORT_CLOSED', 'redis transport is closed');
    if (!this.#up) {
      throw new QsError('ERR_TRANSPORT_UNAVAILABLE', `redis transport: not connected${this.#lastError ? ': ' + (this.#lastError as Error).message : ''}`, { cause: this.#lastError });
    }
  }
}
