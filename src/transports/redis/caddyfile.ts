/**
 * The Redis / Valkey transport of the `mercure` directive, as the commercial
 * High Availability hub spells it:
 *
 *     transport redis {
 *         url       redis[s]://[user[:password]@]host[:port]   # or address / addresses
 *         address   <host:port> | caddy-storage-redis.alt
 *         addresses <host:port> <host:port>…   # several = Redis Cluster
 *         stream    <name>                     # default mercure; shared by every node
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

/** The stream (key) when the block names none, as the commercial hub's docs show. */
export const DEFAULT_STREAM = 'mercure';

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

/** The parts of a `url redis[s]://…` line (the commercial hub's form). */
interface UrlParts { address: string; username?: string; password?: string; tls: boolean }

/** `url redis[s]://[user[:password]@]host[:port]`: the address, the credentials and TLS (rediss). */
function redisUrl(d: Dispenser): UrlParts {
  const t = d.args(1)[0]!;
  const expected = 'redis://[user[:password]@]host[:port] or rediss://… (TLS); the stream is set with `stream`';
  let u: URL;
  try { u = new URL(t.text); } catch { throw d.err(`invalid Redis URL "${redact(t.text)}"`, t, { expected }); }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw d.err(`not a Redis URL: "${redact(t.text)}"`, t, { expected });
  if (!u.host) throw d.err(`Redis URL "${redact(t.text)}" needs a host`, t, { expected });
  if ((u.pathname !== '' && u.pathname !== '/') || u.search || u.hash) {
    throw d.err(`Redis URL "${redact(t.text)}" must not have a path, query or fragment`, t, { expected });
  }
  try { parseAddress(u.host); } catch (err) { throw d.err((err as Error).message, t, { code: 'ERR_CFG_ARGS' }); }
  const out: UrlParts = { address: u.host, tls: u.protocol === 'rediss:' };
  if (u.username) out.username = decodeURIComponent(u.username);
  if (u.password) out.password = decodeURIComponent(u.password);
  return out;
}

/** The URL with its password masked, for error messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

const TABLE: SubTable = {
  url: { parse: redisUrl },
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
  const url = raw.url as UrlParts | undefined;
  if (url) {
    // The URL carries the address and credentials: the separate forms would say it twice.
    for (const k of ['addresses', 'username', 'password'] as const) {
      if (raw[k] !== undefined) throw d.err(`transport redis: 'url' and '${k === 'addresses' ? 'address' : k}' cannot both be set`, d.span, { expected: 'the address and credentials in the url, or no url' });
    }
    if (url.tls && raw.tls === false) throw d.err(`transport redis: a rediss:// url uses TLS, but 'tls false' is set`, d.span);
    raw.addresses = [url.address];
    if (url.username !== undefined) raw.username = url.username;
    if (url.password !== undefined) raw.password = url.password;
    if (url.tls) raw.tls = true;
  }
  const addrs = (raw.addresses as string[] | undefined) ?? [];
  const fromStorage = addrs[0] === STORAGE_ALIAS;
  if (!addrs.length) throw d.err(`transport redis needs an address`, d.span, { expected: `'url redis://host:port', 'address host:port', 'addresses host:port …' or 'address ${STORAGE_ALIAS}'` });
  if (raw.stream === '') throw d.err(`transport redis: stream must not be empty`, d.span, { expected: `'stream <name>' (default mercure)` });
  const stream = typeof raw.stream === 'string' ? raw.stream : DEFAULT_STREAM;
  const config: RedisTransportConfig = { '@span': d.where, addresses: fromStorage ? [] : addrs, stream };
  if (fromStorage) config.address_from_storage = true;
  for (const k of ['username', 'password', 'tls', 'max_length', 'gob'] as const) {
    if (raw[k] !== undefined) (config as Record<string, unknown>)[k] = raw[k];
  }
  return config;
}
