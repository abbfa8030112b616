/**
 * Connections and key names for the Redis transport. One address gives a
 * plain client, several give a Cluster client (as go-redis's UniversalClient
 * in the commercial hub does).
 */
import { Redis, Cluster } from 'ioredis';
import type { ConnectionOptions } from 'node:tls';
import { QsError } from '../../host/errors.ts';

/** A standalone or cluster client; the transport uses only their common commands. */
export type RedisClient = Redis | Cluster;

/** Where and how to connect. */
export interface RedisConnection {
  /** `host:port` (port defaults to 6379; IPv6 in brackets). More than one selects Redis Cluster. */
  addresses: string[];
  /** ACL user (Redis 6+); the default user when absent. */
  username?: string;
  password?: string;
  /** true = TLS with the system CAs; an object = TLS with these options (e.g. a private CA). */
  tls?: boolean | ConnectionOptions;
  /**
   * An existing client (the `storage redis` module's) whose settings are
   * copied with duplicate(): address, auth, TLS, database, Sentinel. The
   * transport still opens its own connections: it blocks one on XREAD, and
   * needs fail-fast options the storage does not use. `addresses` is then ignored.
   */
  template?: RedisClient;
}

/** Parses `host:port`, `[v6]:port`, `host` (port 6379). */
export function parseAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(address.trim());
  if (!m) throw new Error(`invalid Redis address "${address}" (expected host:port)`);
  const port = m[3] === undefined ? 6379 : Number(m[3]);
  if (!(port > 0 && port < 65536)) throw new Error(`invalid port in Redis address "${address}"`);
  return { host: m[1] ?? m[2]!, port };
}

/** Reconnect delay: 100 ms doubling to a 2 s cap, forever. */
export function backoff(times: number): number {
  return Math.min(50 * 2 ** Math.min(times, 6), 2_000);
}

/** Per-connection knobs. */
export interface ClientTuning {
  /** Reconnect delay for the n-th attempt, or null to stop reconnecting (default: backoff). */
  retry?: (times: number) => number | null;
  /** Destroy a socket that sends nothing for this long while a command waits (default 15 s). */
  socketTimeoutMs?: number;
}

/**
 * Builds a client, not yet connected (`connect()` it). Failure behaviour is
 * chosen so outages surface at once instead of hanging callers:
 * no offline queue and no per-command retries (a publish during an outage
 * fails fast and the hub answers 503), while the connection itself retries
 * forever with a capped backoff so the transport heals without a restart.
 */
export function createClient(conn: RedisConnection, name: string, tuning: ClientTuning = {}): RedisClient {
  const retry = tuning.retry ?? backoff;
  const tls = conn.tls === true ? {} : conn.tls || undefined;
  const auth = {
    ...(conn.username !== undefined && { username: conn.username }),
    ...(conn.password !== undefined && { password: conn.password }),
    ...(conn.tls !== undefined && { tls }),
  };
  const failFast = {
    connectionName: name, connectTimeout: 10_000, maxRetriesPerRequest: 0, lazyConnect: true,
    // A socket that stops answering a pending command is destroyed, which starts a reconnect.
    socketTimeout: tuning.socketTimeoutMs ?? 15_000,
  };
  const clusterOptions = {
    enableOfflineQueue: false,
    clusterRetryStrategy: retry,
    // Keep slot owners fresh so a failed-over or restarted master is found again.
    slotsRefreshInterval: 5_000,
    // Masters only (a storage template may read from replicas): a lagging replica would hide the newest entries.
    scaleReads: 'master' as const,
    lazyConnect: true,
  };
  const t = conn.template;
  if (t instanceof Cluster) return t.duplicate([], { ...clusterOptions, redisOptions: { ...failFast, ...auth } });
  if (t) return t.duplicate({ ...failFast, ...auth, enableOfflineQueue: false, retryStrategy: retry });
  const nodes = conn.addresses.map(parseAddress);
  if (nodes.length === 1) {
    return new Redis({ ...nodes[0]!, ...failFast, ...auth, enableOfflineQueue: false, retryStrategy: retry });
  }
  return new Cluster(nodes, { ...clusterOptions, redisOptions: { ...failFast, ...auth } });
}

/**
 * Redis's hash tag rule: the part between the first `{` and the next `}`
 * when non-empty, else the whole key. Keys with the same tag share a slot.
 */
export function hashTag(key: string): string {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

/** The keys one stream uses. All share the stream's hash slot, so scripts and transactions work on Redis Cluster. */
export interface StreamKeys {
  /** The stream itself: exactly the configured name, so other systems find it. */
  stream: string;
  /** Hash: Mercure update ID → its oldest retained stream entry ID (history lookups by ID). */
  ids: string;
  /** List of `<entry ID> <update ID>` in stream order, to trim the index along with the stream. */
  order: string;
  /** Hash: entry ID → next entry with the same update ID (only for repeated custom IDs). */
  next: string;
  /** Hash: update ID → its newest entry ID (only while an ID is repeated). */
  latest: string;
  /** Sorted set of node IDs that publish presence (score = last heartbeat, ms). */
  nodes: string;
  /** Hash of one node's subscribers: subscriber ID → JSON SubscriberInfo, with a TTL. */
  presence(nodeId: string): string;
}

/**
 * Key names for a stream. A name without a hash tag gets its sub-keys
 * prefixed `{name}`, which hashes like the bare name; a name with a tag keeps
 * it. Either way every key lands in the stream's slot.
 */
export function streamKeys(stream: string): StreamKeys {
  const prefix = hashTag(stream) === stream ? `{${stream}}` : stream;
  if (hashTag(prefix) !== hashTag(stream)) {
    throw new Error(`stream name "${stream}" cannot be hash-tagged; avoid "{" and "}" or use a full {tag}`);
  }
  return {
    stream,
    ids: `${prefix}:ids`,
    order: `${prefix}:order`,
    next: `${prefix}:next`,
    latest: `${prefix}:latest`,
    nodes: `${prefix}:nodes`,
    presence: (nodeId) => `${prefix}:presence:${nodeId}`,
  };
}

/** Rejects when p has not settled within ms. */
export function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

/** Any Redis failure, as the error the hub turns into a 503. */
export function unavailable(err: unknown): QsError {
  if (err instanceof QsError) return err;
  return new QsError('ERR_TRANSPORT_UNAVAILABLE', `redis transport: ${(err as Error).message}`, { cause: err });
}
