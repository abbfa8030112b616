/**
 * The `caddy.storage.redis` config (pberkel/caddy-storage-redis v1.8 field
 * names) and its provision-time resolution: placeholders, defaults, host/port
 * pairing, and the plugin's validation messages (caddy.md §7.1).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { readFile } from 'node:fs/promises';
import type { ModuleConfig } from '../host/module.ts';
import { QsError } from '../host/errors.ts';
import { replaceGlobal } from './placeholders.ts';

/** JSON config, as `storage redis { … }` adapts to (plus `module: "redis"` when global). */
export interface RedisStorageConfig extends ModuleConfig {
  /** `cluster` or `failover`; absent = standalone (or cluster when several addresses resolve). */
  client_type?: 'simple' | 'cluster' | 'failover';
  /** `host:port` list; overrides host/port when set. */
  address?: string[];
  /** Default `["127.0.0.1"]`. */
  host?: string[];
  /** Default `["6379"]`. */
  port?: (string | number)[];
  /** Database number, default 0 (standalone and failover only). May hold a placeholder. */
  db?: number | string;
  /** Whole seconds for dial, read and write; unset = client defaults. */
  timeout?: string | number;
  username?: string;
  password?: string;
  sentinel_password?: string;
  /** Required with `failover`. */
  master_name?: string;
  /** Default `caddy`; leading/trailing `/` trimmed. */
  key_prefix?: string;
  /** ≥ 32 bytes; the first 32 form the AES-256-GCM key. */
  encryption_key?: string;
  /** `flate`, `zlib`, `false`; legacy `true` = flate. */
  compression?: boolean | string;
  tls_enabled?: boolean;
  /** Skip server certificate verification (default false since v1.7). */
  tls_insecure?: boolean;
  tls_server_certs_pem?: string;
  tls_server_certs_path?: string;
  route_by_latency?: boolean;
  route_randomly?: boolean;
}

/** Compression flag as stored in the value envelope: 0 none, 1 flate, 2 zlib. */
export type CompressionMode = 0 | 1 | 2;

/** Connection settings after placeholders and defaults; the pool key is made from this. */
export interface RedisConnectionSettings {
  clientType: 'simple' | 'cluster' | 'failover';
  /** Normalised `host:port` strings. */
  addresses: string[];
  db: number;
  /** Milliseconds; undefined = client defaults. */
  timeoutMs?: number;
  username?: string;
  password?: string;
  sentinelPassword?: string;
  masterName?: string;
  /** Present when TLS is on. */
  tls?: { rejectUnauthorized: boolean; ca?: string };
  routeByLatency: boolean;
  routeRandomly: boolean;
}

/** Everything the storage needs at run time. */
export interface ResolvedRedisConfig {
  connection: RedisConnectionSettings;
  keyPrefix: string;
  encryptionKey?: Buffer;
  compression: CompressionMode;
}

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = '6379';
export const DEFAULT_KEY_PREFIX = 'caddy';

const bad = (message: string) => new QsError('ERR_CFG_VALUE', message);

const FIELDS = new Set([
  'module', '@span', 'client_type', 'address', 'host', 'port', 'db', 'timeout', 'username', 'password', 'sentinel_password',
  'master_name', 'key_prefix', 'encryption_key', 'compression', 'tls_enabled', 'tls_insecure', 'tls_server_certs_pem',
  'tls_server_certs_path', 'route_by_latency', 'route_randomly',
]);

/** Go's strconv.ParseBool. */
export function parseGoBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

/** `true`/`flate` → 1, `zlib` → 2, `false` → 0; undefined when invalid. */
export function parseCompression(value: boolean | string | undefined): CompressionMode | undefined {
  if (value === undefined || value === false || value === '') return 0;
  if (value === true) return 1;
  const lower = value.toLowerCase();
  if (lower === 'flate') return 1;
  if (lower === 'zlib') return 2;
  const b = parseGoBool(value);
  return b === undefined ? undefined : b ? 1 : 0;
}

/** Go's net.SplitHostPort (enough of it): `host:port` or `[v6]:port`. */
export function splitHostPort(addr: string): [string, string] | undefined {
  if (addr.startsWith('[')) {
    const m = /^\[([^\]]+)\]:(\d*)$/.exec(addr);
    return m ? [m[1]!, m[2]!] : undefined;
  }
  const i = addr.lastIndexOf(':');
  if (i < 0 || addr.indexOf(':') !== i) return undefined;
  return [addr.slice(0, i), addr.slice(i + 1)];
}

/** Go's net.JoinHostPort. */
export function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Trims `/` and rejects empty, `.` and `..` segments. */
export function normaliseKeyPrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  for (const seg of trimmed.split('/')) {
    if (seg === '' || seg === '.' || seg === '..') throw bad(`invalid key_prefix segment: ${JSON.stringify(seg)}`);
  }
  return trimmed;
}

/** Resolves placeholders, applies defaults and validates, as the plugin does in Provision. */
export async function resolveConfig(cfg: RedisStorageConfig): Promise<ResolvedRedisConfig> {
  // Caddy decodes module JSON strictly: an unknown field is an error, not a silently ignored typo.
  for (const k of Object.keys(cfg)) if (!FIELDS.has(k)) throw new QsError('ERR_CFG_JSON', `unknown field "${k}" in caddy.storage.redis`);
  const r = (v: unknown, fallback = '') => replaceGlobal(v === undefined || v === null ? '' : String(v), fallback);
  const clientType = cfg.client_type ?? 'simple';
  if (!['simple', 'cluster', 'failover'].includes(clientType)) throw bad(`invalid client_type: ${clientType}`);

  let addresses: string[];
  if (cfg.address?.length) {
    addresses = cfg.address.map((a) => {
      const v = r(a);
      const hp = splitHostPort(v);
      if (!hp || !/^\d+$/.test(hp[1])) throw bad(`invalid address: ${v}`);
      return joinHostPort(hp[0], hp[1]);
    });
  } else {
    const hosts = await Promise.all((cfg.host?.length ? cfg.host : [DEFAULT_HOST]).map(async (h) => {
      const v = r(h, DEFAULT_HOST);
      if (!isIP(v) && !(await lookup(v).then(() => true, () => false))) throw bad(`invalid host value: ${v}`);
      return v;
    }));
    const ports = (cfg.port?.length ? cfg.port : [DEFAULT_PORT]).map((p) => {
      const v = r(p, DEFAULT_PORT);
      if (!/^[+-]?\d+$/.test(v)) throw bad(`invalid port value: ${v}`);
      return String(Number(v));
    });
    // Hosts and ports pair by index; the longer list wins and a missing value repeats the last one seen.
    addresses = [];
    let host = DEFAULT_HOST;
    let port = DEFAULT_PORT;
    for (let i = 0; i < Math.max(hosts.length, ports.length); i++) {
      host = hosts[i] ?? host;
      port = ports[i] ?? port;
      addresses.push(joinHostPort(host, port));
    }
  }

  const dbText = r(cfg.db ?? 0, '0');
  if (!/^\d+$/.test(dbText)) throw bad(`invalid db value: ${dbText}`);
  let timeoutMs: number | undefined;
  const timeoutText = r(cfg.timeout);
  if (timeoutText !== '') {
    if (!/^\d+$/.test(timeoutText)) throw bad(`invalid timeout value: ${timeoutText}`);
    // 0 means "client defaults" in go-redis, so treat it as unset.
    timeoutMs = Number(timeoutText) * 1000 || undefined;
  }

  const masterName = r(cfg.master_name) || undefined;
  if (clientType === 'failover' && !masterName) throw bad(`'master_name' is required when using 'failover' client type`);

  let encryptionKey: Buffer | undefined;
  const keyText = r(cfg.encryption_key);
  if (keyText !== '') {
    const bytes = Buffer.from(keyText, 'utf8');
    if (bytes.length < 32) throw bad(`invalid length for 'encryption_key', must contain at least 32 bytes`);
    encryptionKey = bytes.subarray(0, 32);
  }

  const compressionText = typeof cfg.compression === 'string' ? r(cfg.compression) : cfg.compression;
  const compression = parseCompression(compressionText);
  if (compression === undefined) {
    throw bad(`invalid value for 'compression': ${String(compressionText)} (expected 'true', 'flate', 'zlib', or 'false')`);
  }

  let tls: RedisConnectionSettings['tls'];
  const pem = r(cfg.tls_server_certs_pem);
  const pemPath = r(cfg.tls_server_certs_path);
  if (cfg.tls_enabled) {
    if (pem && pemPath) throw bad('Cannot specify TlsServerCertsPEM alongside TlsServerCertsPath');
    let ca: string | undefined = pem || undefined;
    if (pemPath) {
      try { ca = await readFile(pemPath, 'utf8'); } catch (e) {
        throw bad(`Failed to load PEM server certs from file ${pemPath}: ${(e as Error).message}`);
      }
    }
    if (ca !== undefined && !ca.includes('-----BEGIN CERTIFICATE-----')) throw bad('Failed to load PEM server certs');
    tls = { rejectUnauthorized: !cfg.tls_insecure, ...(ca ? { ca } : {}) };
  }

  const connection: RedisConnectionSettings = {
    clientType: clientType === 'simple' && addresses.length > 1 ? 'cluster' : clientType,
    addresses,
    db: Number(dbText),
    routeByLatency: cfg.route_by_latency === true,
    routeRandomly: cfg.route_randomly === true,
  };
  if (timeoutMs !== undefined) connection.timeoutMs = timeoutMs;
  const username = r(cfg.username);
  const password = r(cfg.password);
  const sentinelPassword = r(cfg.sentinel_password);
  if (username) connection.username = username;
  if (password) connection.password = password;
  if (sentinelPassword) connection.sentinelPassword = sentinelPassword;
  if (masterName) connection.masterName = masterName;
  if (tls) connection.tls = tls;

  const keyPrefix = normaliseKeyPrefix(r(cfg.key_prefix ?? DEFAULT_KEY_PREFIX, DEFAULT_KEY_PREFIX) || DEFAULT_KEY_PREFIX);
  return { connection, keyPrefix, compression, ...(encryptionKey ? { encryptionKey } : {}) };
}

/** Options that parse but have no effect here, with the reason, for a provision-time warning. */
export function ignoredOptions(cfg: RedisStorageConfig, conn: RedisConnectionSettings): string[] {
  const out: string[] = [];
  if (cfg.route_by_latency) out.push('route_by_latency: ioredis cannot route by latency; reads go to masters');
  if (cfg.route_randomly && conn.clientType !== 'cluster') out.push('route_randomly: only used with a cluster client here (ioredis has no random routing through Sentinel)');
  if (conn.clientType === 'cluster' && conn.db !== 0) out.push('db: Redis Cluster has only database 0');
  if (conn.clientType !== 'failover' && cfg.sentinel_password) out.push('sentinel_password: only used with failover');
  if (conn.clientType !== 'failover' && cfg.master_name) out.push('master_name: only used with failover');
  if (!cfg.tls_enabled && (cfg.tls_insecure || cfg.tls_server_certs_pem || cfg.tls_server_certs_path)) {
    out.push('tls_insecure/tls_server_certs_*: only used when tls_enabled is true');
  }
  return out;
}
