/**
 * The Redis / Valkey transport of the `mercure` directive, as the commercial
 * High Availability hub spells it:
 *
 *     transport redis {
 *         address   <host:port> | caddy-storage-redis.alt
 *         addresses <host:port> <host:port>…   # several = Redis Cluster
 *         stream    <name>                     # required; shared by every node
 *         username  <acl user>
 *         password  <password>
 *         tls                                  # or: tls true|false
 *         max_length <n>                       # approximate history length; 0 = keep all
 *         gob                                  # compact binary entries (not readable by third parties)
 *     }
 *
 * `address caddy-storage-redis.alt` reuses the Redis server of the
 * `storage redis` global option (caddy-storage-redis).
 *
 * The deprecated form `transport_url redis://[user:password@]host:port/<stream>?tls=1&max_len_approx=<n>`
 * (`rediss://` = TLS) is parsed by parseRedisUrl (url.ts, re-exported here).
 */
import type { RedisTransportConfig } from './module.ts';
import { parseRedisUrl } from './url.ts';
import { parseAddress } from './client.ts';
import type { Dispenser } from '../../caddyfile/dispenser.ts';
import { parseBlock, type SubTable } from '../../caddyfile/table.ts';

export { parseRedisUrl };

/** The address that means "the Redis server of the storage module". */
export const STORAGE_ALIAS = 'caddy-storage-redis.alt';

/** Checks `host:port` syntax at parse time, so a typo is reported with its position. */
function addresses(d: Dispenser, max: number): string[] {
  return d.args(1, max).map((t) => {
    if (t.text === STORAGE_ALIAS) {
      if (max !== 1) throw d.err(`${STORAGE_ALIAS} must be the only address`, t, { hint: `use 'address ${STORAGE_ALIAS}'` });
      return t.text;
    }
    try { parseAddress(t.text); } catch (err) { throw d.err((err as Error).message, t, { code: 'ERR_CFG_ARGS' }); }
    return t.text;
  });
}

const TABLE: SubTable = {
  address: { key: 'addresses', parse: (d) => addresses(d, 1) },
  addresses: { parse: (d) => addresses(d, Infinity) },
  stream: { kind: 'string' },
  username: { kind: 'string' },
  password: { kind: 'string' },
  tls: { kind: 'bool' },
  max_length: { kind: 'uint' },
  gob: { kind: 'bool' },
};

/**
 * Parses a `transport redis { … }` block. `d` is the `transport` line,
 * positioned after the module name; the config's `@span` is the line.
 */
export function parseRedisTransport(d: Dispenser): RedisTransportConfig {
  d.done();
  const raw = parseBlock(d, TABLE, 'transport redis');
  const addrs = (raw.addresses as string[] | undefined) ?? [];
  const fromStorage = addrs[0] === STORAGE_ALIAS;
  if (!addrs.length) throw d.err(`transport redis needs an address`, d.span, { expected: `'address host:port', 'addresses host:port …' or 'address ${STORAGE_ALIAS}'` });
  if (typeof raw.stream !== 'string' || raw.stream === '') throw d.err(`transport redis needs a stream`, d.span, { expected: `'stream <name>'` });
  const config: RedisTransportConfig = { '@span': d.where, addresses: fromStorage ? [] : addrs, stream: raw.stream };
  if (fromStorage) config.address_from_storage = true;
  for (const k of ['username', 'password', 'tls', 'max_length', 'gob'] as const) {
    if (raw[k] !== undefined) (config as Record<string, unknown>)[k] = raw[k];
  }
  return config;
}
