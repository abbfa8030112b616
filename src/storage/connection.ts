/**
 * The storage's Redis connection: a standalone, Cluster or Sentinel-backed
 * ioredis client chosen as the plugin chooses (caddy.md §7.1), checked with
 * PING at provision so a bad address fails the config load, and shared through
 * the usage pool so a reload with the same settings keeps the same sockets.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Destructor } from '../host/usage-pool.ts';
import { stableKey } from '../host/usage-pool.ts';
import type { RedisConnectionSettings } from './config.ts';
import { splitHostPort } from './config.ts';

/** What `client()` hands out: go-redis's UniversalClient, in ioredis terms. */
export type StorageClient = Redis | Cluster;

/** Name shown by CLIENT LIST, so operators can tell the storage's connections apart. */
export const CONNECTION_NAME = 'caddy-storage-redis';

/** A pooled client; destructed when the last config using it is cleaned up. */
export class RedisConnection implements Destructor {
  readonly client: StorageClient;
  constructor(client: StorageClient) { this.client = client; }
  async destruct(): Promise<void> {
    // QUIT lets in-flight replies arrive; fall back to a hard close if the server is gone.
    await this.client.quit().catch(() => this.client.disconnect());
  }
}

/** The usage-pool key: equal settings share one connection. */
export function poolKey(s: RedisConnectionSettings): string {
  return `caddy.storage.redis:${stableKey(s)}`;
}

function node(addr: string): { host: string; port: number } {
  const [host, port] = splitHostPort(addr) ?? [addr, '6379'];
  return { host, port: Number(port) };
}

/** Builds the client, not yet connected. */
export function createClient(s: RedisConnectionSettings): StorageClient {
  const common: RedisOptions = {
    connectionName: CONNECTION_NAME,
    lazyConnect: true,
    // A couple of retries rides out a reconnect; commands do not queue forever during an outage.
    maxRetriesPerRequest: 2,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
  };
  if (s.username) common.username = s.username;
  if (s.password) common.password = s.password;
  if (s.timeoutMs) { common.connectTimeout = s.timeoutMs; common.commandTimeout = s.timeoutMs; }
  if (s.tls) common.tls = { rejectUnauthorized: s.tls.rejectUnauthorized, ...(s.tls.ca ? { ca: s.tls.ca } : {}) };

  if (s.clientType === 'cluster') {
    const opts: ClusterOptions = {
      redisOptions: common,
      lazyConnect: true,
      // go-redis's RouteRandomly sends read-only commands to any node of the slot; scaleReads 'all' is the same idea.
      scaleReads: s.routeRandomly ? 'all' : 'master',
      slotsRefreshInterval: 5_000,
    };
    return new Cluster(s.addresses.map(node), opts);
  }
  if (s.clientType === 'failover') {
    return new Redis({
      ...common,
      db: s.db,
      sentinels: s.addresses.map(node),
      name: s.masterName!,
      role: 'master',
      ...(s.sentinelPassword ? { sentinelPassword: s.sentinelPassword } : {}),
      ...(s.tls ? { enableTLSForSentinelMode: true, sentinelTLS: common.tls! } : {}),
    });
  }
  return new Redis({ ...common, ...node(s.addresses[0]!), db: s.db });
}

/**
 * Connects and PINGs (every master, for a cluster). On failure the client is
 * closed and the error thrown, so no reconnect loop outlives a failed provision.
 */
export async function openConnection(s: RedisConnectionSettings): Promise<RedisConnection> {
  const client = createClient(s);
  // Reconnect errors are reported by the commands that fail; without a listener ioredis would print them.
  // The last one explains a failed connect better than ioredis's "Connection is closed.".
  let last: Error | undefined;
  client.on('error', (e: Error) => { last = e; });
  try {
    await withDeadline(client.connect(), s.timeoutMs ?? 10_000, `connecting to Redis ${s.addresses.join(', ')}`);
    if (client instanceof Cluster) await Promise.all(client.nodes('master').map((n) => n.ping()));
    else await client.ping();
    return new RedisConnection(client);
  } catch (e) {
    client.disconnect();
    const why = last && last !== e ? `${(e as Error).message} (${last.message})` : (e as Error).message;
    throw new Error(`redis storage: ${why}`, { cause: e });
  }
}

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}
