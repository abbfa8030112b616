/**
 * Presence across nodes. Each node keeps its own subscribers in a hash
 * `<prefix>:presence:<nodeId>` (field = subscriber ID, value = JSON
 * SubscriberInfo) with a TTL that a heartbeat refreshes every ttl/3, and adds
 * itself to the directory `<prefix>:nodes`, so listing never scans keys.
 * A node that dies stops refreshing: Redis expires its hash, and its
 * subscribers disappear within the TTL (15 s by default), measured on the
 * Redis server's clock, so node clock skew does not matter.
 */
import type { Logger } from 'pino';
import type { PresenceBackend, SubscriberInfo } from '../core/contract.ts';
import type { RedisClient, StreamKeys } from './client.ts';

/** Default presence TTL: a dead node's subscribers vanish within this bound. */
export const DEFAULT_PRESENCE_TTL_MS = 15_000;

/** Directory entries whose last heartbeat is older than this many TTLs are pruned. */
const PRUNE_AFTER_TTLS = 20;

export class RedisPresence implements PresenceBackend {
  readonly nodeId: string;
  readonly ttlMs: number;
  #client: RedisClient;
  #keys: StreamKeys;
  #key: string;
  #log: Logger | undefined;
  /** The truth for this node; Redis holds a copy that the heartbeat repairs. */
  #local = new Map<string, string>();
  /** Set when a write failed or the copy may be gone; the next beat rewrites the whole hash. */
  #dirty = true;
  #timer: NodeJS.Timeout | undefined;

  constructor(client: RedisClient, keys: StreamKeys, nodeId: string, ttlMs = DEFAULT_PRESENCE_TTL_MS, log?: Logger) {
    this.#client = client;
    this.#keys = keys;
    this.nodeId = nodeId;
    this.ttlMs = ttlMs;
    this.#key = keys.presence(nodeId);
    this.#log = log;
  }

  /** Starts the heartbeat (first beat awaited, so presence is visible when start() returns). */
  async start(): Promise<void> {
    await this.beat();
    this.#timer = setInterval(() => void this.beat(), Math.max(10, Math.floor(this.ttlMs / 3)));
    this.#timer.unref();
  }

  /** Marks the Redis copy stale (after a reconnect: the server may have restarted empty). */
  invalidate(): void {
    this.#dirty = true;
    void this.beat();
  }

  join(info: SubscriberInfo): void {
    const value = JSON.stringify(info);
    this.#local.set(info.id, value);
    if (this.#dirty) return void this.beat();
    this.#write(this.#client.multi().hset(this.#key, info.id, value).pexpire(this.#key, this.ttlMs).exec());
  }

  leave(id: string): void {
    if (!this.#local.delete(id)) return;
    if (this.#dirty) return void this.beat();
    this.#write(this.#client.hdel(this.#key, id));
  }

  /** Union of every live node's subscribers, this one included. */
  async list(): Promise<SubscriberInfo[]> {
    const nodes = await this.#client.zrange(this.#keys.nodes, '0', '-1');
    const p = this.#client.pipeline();
    for (const n of nodes) p.hvals(this.#keys.presence(n));
    const out: SubscriberInfo[] = [];
    for (const [err, values] of (await p.exec()) ?? []) {
      if (err) throw err;
      for (const v of values as string[]) out.push(JSON.parse(v) as SubscriberInfo);
    }
    return out;
  }

  /**
   * Refreshes the TTL and the directory entry; rewrites the hash when it is
   * stale or when Redis lost it (the TTL refresh found no key).
   */
  async beat(): Promise<void> {
    try {
      const rewrite = this.#dirty;
      this.#dirty = false;
      const m = this.#client.multi();
      if (rewrite) {
        m.del(this.#key);
        if (this.#local.size) m.hset(this.#key, Object.fromEntries(this.#local));
      }
      m.pexpire(this.#key, this.ttlMs)
        .zadd(this.#keys.nodes, Date.now(), this.nodeId)
        .zremrangebyscore(this.#keys.nodes, '-inf', Date.now() - PRUNE_AFTER_TTLS * this.ttlMs);
      const res = await m.exec();
      const expired = res?.at(rewrite ? (this.#local.size ? 2 : 1) : 0)?.[1] === 0;
      if (expired && this.#local.size && !rewrite) {
        this.#dirty = true;
        await this.beat();
      }
    } catch (err) {
      this.#dirty = true;
      this.#log?.debug({ err }, 'redis presence heartbeat failed; retrying on the next beat');
    }
  }

  #write(p: Promise<unknown>): void {
    p.catch((err) => {
      this.#dirty = true;
      this.#log?.debug({ err }, 'redis presence write failed; the next heartbeat rewrites it');
    });
  }

  /** Stops the heartbeat and removes this node's entries (a clean leave is visible at once). */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#local.clear();
    // Without a connection the entries simply expire within the TTL.
    if (this.#client.status !== 'ready') return;
    await this.#client.multi().del(this.#key).zrem(this.#keys.nodes, this.nodeId).exec().catch(() => undefined);
  }
}
