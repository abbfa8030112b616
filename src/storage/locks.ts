/**
 * Distributed locks the way caddy-storage-redis takes them (bsm/redislock):
 * SET key token NX PX ttl, a TTL of 5 s refreshed every 3 s while held, polls
 * every 1 s while someone else holds it, and release/refresh only when the
 * stored token is still ours (a Lua compare-and-act, so a lock that expired and
 * was taken by another node is never deleted by us).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StorageClient } from './connection.ts';

export const LOCK_TTL_MS = 5_000;
export const LOCK_REFRESH_MS = 3_000;
export const LOCK_POLL_MS = 1_000;

const REFRESH = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

interface Held { token: string; timer: NodeJS.Timeout }

/** Locks held by one storage instance, keyed by their full Redis key. */
export class RedisLocker {
  #client: StorageClient;
  #held = new Map<string, Held>();
  #closed = new AbortController();

  constructor(client: StorageClient) { this.#client = client; }

  /** Waits until the lock is ours. Rejects when signal aborts or the storage is cleaned up. */
  async lock(key: string, signal?: AbortSignal): Promise<void> {
    const stop = signal ? AbortSignal.any([signal, this.#closed.signal]) : this.#closed.signal;
    for (;;) {
      stop.throwIfAborted();
      const token = randomBytes(16).toString('base64url');
      const ok = await this.#client.set(key, token, 'PX', LOCK_TTL_MS, 'NX');
      if (ok === 'OK') {
        this.#keepFresh(key, token);
        return;
      }
      await sleep(LOCK_POLL_MS, undefined, { signal: stop });
    }
  }

  #keepFresh(key: string, token: string): void {
    const timer = setInterval(() => {
      this.#client.eval(REFRESH, 1, key, token, LOCK_TTL_MS).then((n) => {
        // 0: the lock expired and may belong to someone else now; stop pretending we hold it.
        if (n === 0 && this.#held.get(key)?.token === token) { clearInterval(timer); this.#held.delete(key); }
      }, () => { /* a failed refresh is retried on the next tick; the TTL covers one miss */ });
    }, LOCK_REFRESH_MS);
    timer.unref();
    this.#held.set(key, { token, timer });
  }

  /** Releases a lock this instance holds; a lock it does not hold is left alone. */
  async unlock(key: string): Promise<void> {
    const held = this.#held.get(key);
    if (!held) return;
    this.#held.delete(key);
    clearInterval(held.timer);
    await this.#client.eval(RELEASE, 1, key, held.token);
  }

  /** True while this instance holds key. */
  holds(key: string): boolean { return this.#held.has(key); }

  /** Stops waiting lockers and releases every held lock (best effort: the TTL ends them anyway). */
  async close(): Promise<void> {
    this.#closed.abort(new Error('storage closed'));
    await Promise.all([...this.#held.keys()].map((k) => this.unlock(k).catch(() => {})));
  }
}
