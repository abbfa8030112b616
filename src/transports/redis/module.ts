/**
 * `mercure.transports.redis`: the Redis / Valkey transport as a host module.
 * The transport (Fanout over RedisBackend) lives in ctx.pool under the module
 * ID plus the stable key of the resolved config, so hubs with the same config
 * share one set of connections and a reload that keeps the config keeps them.
 */
import { ConfigError } from '../../host/errors.ts';
import { spanOf } from '../../host/span.ts';
import { REDIS_STORAGE_SERVICE as STORAGE_REGISTRY_KEY } from '../../host/services.ts';
import type { ModuleConfig, ModuleContext, ModuleInfo } from '../../host/module.ts';
import { newNodeId, PooledTransport } from '../core/pooled.ts';
import { parseAddress, type RedisClient, type RedisConnection } from './client.ts';
import { RedisBackend } from './backend.ts';

/** The JSON config (what caddyfile.ts and url.ts produce). */
export interface RedisTransportConfig extends ModuleConfig {
  /** `host:port` list; several = Redis Cluster. Empty with address_from_storage. */
  addresses: string[];
  /** Stream name, the same on every node. */
  stream: string;
  username?: string;
  password?: string;
  tls?: boolean;
  /** Approximate history length (XADD MAXLEN ~); 0 or absent = keep everything. */
  max_length?: number;
  /** Compact binary stream entries instead of JSON (third parties can't read them). */
  gob?: boolean;
  /** `address caddy-storage-redis.alt`: connect where the `storage redis` module does. */
  address_from_storage?: true;
}

/**
 * What the `storage redis` module (caddy.storage.redis) offers for
 * `address caddy-storage-redis.alt`: its live client, whose settings the
 * transport copies. Found as the config's storage, or in ctx.app.registry.
 */
export interface RedisClientSource {
  client(): RedisClient;
}

/** Type and range checks (pure); throws ConfigError at the config's span. */
export function checkRedisConfig(cfg: RedisTransportConfig): void {
  const bad = (key: string, expected: string) =>
    new ConfigError('ERR_CFG_VALUE', spanOf(cfg), `transport redis: invalid ${key} ${JSON.stringify(cfg[key])}`, { expected });
  if (typeof cfg.stream !== 'string' || cfg.stream === '') throw bad('stream', 'a non-empty stream name');
  if (!Array.isArray(cfg.addresses)) throw bad('addresses', 'a list of host:port');
  if (cfg.address_from_storage !== undefined && cfg.address_from_storage !== true) throw bad('address_from_storage', 'true or absent');
  if (!cfg.address_from_storage && cfg.addresses.length === 0) throw bad('addresses', 'at least one host:port');
  for (const a of cfg.addresses) {
    try { parseAddress(String(a)); } catch (err) { throw bad('addresses', (err as Error).message); }
  }
  for (const k of ['username', 'password'] as const) if (cfg[k] !== undefined && typeof cfg[k] !== 'string') throw bad(k, 'a string');
  for (const k of ['tls', 'gob'] as const) if (cfg[k] !== undefined && typeof cfg[k] !== 'boolean') throw bad(k, 'true or false');
  if (cfg.max_length !== undefined && !(Number.isSafeInteger(cfg.max_length) && cfg.max_length >= 0)) throw bad('max_length', 'an integer ≥ 0');
}

function isClientSource(s: unknown): s is RedisClientSource {
  return typeof (s as Partial<RedisClientSource> | undefined)?.client === 'function';
}

/** Resolves where to connect, and a stable description of it for the pool key. */
function connectionOf(cfg: RedisTransportConfig, ctx: ModuleContext): { conn: RedisConnection; where: unknown } {
  const own = { addresses: cfg.addresses, username: cfg.username, password: cfg.password, tls: cfg.tls };
  if (!cfg.address_from_storage) return { conn: own, where: own };
  const storage = [ctx.storage(), ctx.app.registry.get(STORAGE_REGISTRY_KEY)].find(isClientSource);
  if (!storage) {
    throw new ConfigError('ERR_CFG_VALUE', spanOf(cfg), 'transport redis: address caddy-storage-redis.alt needs the `storage redis` global option');
  }
  // Credentials written in the transport block win over the storage's.
  const conn: RedisConnection = { ...own, addresses: [], template: storage.client() };
  // The storage's JSON form (secrets masked) tells its servers apart.
  const where = { ...own, addresses: [], storage: JSON.parse(JSON.stringify(storage)) as unknown };
  return { conn, where };
}

/** One provisioned use of a pooled Redis transport. */
export class RedisTransport extends PooledTransport {
  readonly config: RedisTransportConfig;

  constructor(config: RedisTransportConfig) {
    checkRedisConfig(config);
    super('mercure.transports.redis', (ctx) => {
      const { conn, where } = connectionOf(config, ctx);
      const resolved = { where, stream: config.stream, max_length: config.max_length ?? 0, gob: config.gob ?? false };
      const nodeId = newNodeId();
      return {
        key: resolved,
        backend: () => new RedisBackend({ ...conn, stream: config.stream, maxLength: resolved.max_length, binary: resolved.gob, nodeId, log: ctx.log }),
        started: { stream: config.stream, node: nodeId, cluster: conn.addresses.length > 1 },
      };
    });
    this.config = config;
  }
}

/** The module info (the descriptor in index.ts carries it). */
export const redisTransportModule: ModuleInfo<RedisTransportConfig, RedisTransport> = {
  id: 'mercure.transports.redis',
  create: (config) => new RedisTransport(config),
};
