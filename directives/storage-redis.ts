/**
 * `storage redis` (pberkel/caddy-storage-redis v1.8), as a global option and
 * inside `rate_limit { storage redis { … } }`:
 *
 *   storage redis [cluster|failover] {
 *       address      <host:port> | { <host:port> … }   # overrides host/port
 *       host         <host> | { <host> … }             # default 127.0.0.1
 *       port         <port> | { <port> … }             # default 6379
 *       db           <n>                               # default 0
 *       timeout      <seconds>
 *       username     <user>
 *       password     <password>
 *       sentinel_password <password>                   # failover only
 *       master_name  <name>                            # required with failover
 *       key_prefix   <prefix>                          # default caddy
 *       encryption_key|aes_key <≥32 bytes>
 *       compression  flate|zlib|true|false
 *       tls_enabled  <bool>
 *       tls_insecure <bool>
 *       tls_server_certs_pem  <PEM>                     # often a heredoc
 *       tls_server_certs_path <file>
 *       route_by_latency <bool>                         # accepted; ignored with a warning (no ioredis equivalent)
 *       route_randomly   <bool>                         # cluster: reads go to any node of the slot
 *   }
 *
 * Each option is `key value` or `key {` one value per line `}`. Values may hold
 * `{env.*}` placeholders (resolved at provision) or `{$VAR}` (parse time).
 * Literal values are checked here so mistakes cite the Caddyfile position.
 */
import type { ConfigError } from '../src/host/errors.ts';
import { didYouMean } from '../src/host/errors.ts';
import { normaliseKeyPrefix, parseCompression, parseGoBool } from '../src/storage/config.ts';
import type { Dispenser } from '../src/caddyfile/dispenser.ts';

const LISTS = ['address', 'host', 'port'];
const BOOLS = ['tls_enabled', 'tls_insecure', 'route_by_latency', 'route_randomly'];
const STRINGS = [
  'db', 'timeout', 'username', 'password', 'sentinel_password', 'master_name', 'key_prefix', 'encryption_key',
  'aes_key', 'compression', 'tls_server_certs_pem', 'tls_server_certs_path',
];
const KNOWN = [...LISTS, ...BOOLS, ...STRINGS];

const hasPlaceholder = (s: string) => /\{[^}]*\}/.test(s);

/** The values of one option line: its single argument, or the tokens of its block. */
function values(line: Dispenser): string[] {
  if (line.remainingCount() > 1) throw line.argErr();
  if (line.remainingCount() === 1) {
    if (line.hasBlock()) line.noBlock();
    return [line.nextArg()!.text];
  }
  return line.block().flatMap((l) => [l.name, ...l.remaining().map((t) => t.text)]);
}

/** Checks a literal value now; values with placeholders wait for provision. */
function check(line: Dispenser, key: string, value: string): ConfigError | undefined {
  if (hasPlaceholder(value)) return undefined;
  switch (key) {
    case 'db': return /^\d+$/.test(value) ? undefined : line.err(`invalid db value: ${value}`);
    case 'timeout': return /^\d+$/.test(value) ? undefined : line.err(`invalid timeout value: ${value}`);
    case 'port': return /^[+-]?\d+$/.test(value) ? undefined : line.err(`invalid port value: ${value}`);
    case 'compression':
      return parseCompression(value) === undefined
        ? line.err(`invalid value for 'compression': ${value} (expected 'true', 'flate', 'zlib', or 'false')`) : undefined;
    case 'encryption_key':
      return Buffer.byteLength(value) >= 32 ? undefined : line.err(`invalid length for 'encryption_key', must contain at least 32 bytes`);
    case 'key_prefix':
      try { normaliseKeyPrefix(value); return undefined; } catch (e) { return line.err((e as Error).message); }
  }
  return undefined;
}

/** Parses the part after `storage redis`; d is positioned after the module name. */
export function parseRedisStorage(d: Dispenser): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const type = d.nextArg();
  if (type) {
    if (type.text !== 'cluster' && type.text !== 'failover') throw d.argErr();
    out.client_type = type.text;
    d.done();
  }
  for (const line of d.block()) {
    const key = line.name === 'aes_key' ? 'encryption_key' : line.name;
    if (!KNOWN.includes(line.name)) {
      const guess = didYouMean(line.name, KNOWN);
      throw line.err(`unknown configuration key: ${line.name}`, line.span,
        { code: 'ERR_CFG_UNKNOWN', expected: `one of ${[...KNOWN].sort().join(', ')}`, hint: guess ? `did you mean "${guess}"?` : undefined });
    }
    const vals = values(line);
    if (vals.length === 0) throw line.err(`no value supplied for configuraton key '${line.name}'`);
    for (const v of vals) { const e = check(line, key, v); if (e) throw e; }
    const first = vals[0]!;
    // Later lines win, as in the plugin.
    if (LISTS.includes(key)) out[key] = vals;
    else if (BOOLS.includes(key)) {
      const b = parseGoBool(first);
      if (b === undefined) throw line.err(`invalid boolean value for '${key}': ${first}`);
      out[key] = b;
    } else if (key === 'db') out.db = hasPlaceholder(first) ? first : Number(first);
    else out[key] = first;
  }
  return out;
}
