/**
 * The PostgreSQL transport's connection URL: `postgres://user:pass@host:port/db?param=value…`
 * where the query parameters are libpq connection parameters
 * (https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-PARAMKEYWORDS).
 * node-postgres is not libpq, so only the parameters it can honour are accepted;
 * any other name is a config error listing these, rather than being silently ignored.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { PoolConfig } from 'pg';
import type { Span } from '../../host/span.ts';
import { ConfigError, didYouMean } from '../../host/errors.ts';

/** The libpq parameters accepted as query parameters, each with what it accepts. */
export const LIBPQ_PARAMS: Readonly<Record<string, string>> = {
  application_name: 'any text',
  client_encoding: 'UTF8 or auto (Node.js always speaks UTF-8)',
  connect_timeout: 'seconds, an integer >= 0 (0 = wait forever)',
  dbname: 'a database name (overrides the path)',
  fallback_application_name: 'any text',
  host: 'a host name, IP, or a Unix socket directory starting with /',
  keepalives: '0 or 1',
  keepalives_idle: 'seconds, an integer >= 0',
  options: 'server options, e.g. -c search_path=mercure',
  password: 'any text',
  port: 'an integer from 1 to 65535',
  sslcert: 'a client certificate file',
  sslkey: 'a client key file',
  sslmode: 'disable, allow, prefer, require, verify-ca or verify-full',
  sslpassword: 'the client key passphrase',
  sslrootcert: 'a CA certificate file',
  user: 'a role name (overrides the URL user)',
};

const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

/** What is wrong with one parameter's value, or undefined when it is fine. */
function badValue(name: string, value: string): string | undefined {
  const int = /^\d+$/.test(value) ? Number(value) : NaN;
  switch (name) {
    case 'connect_timeout': case 'keepalives_idle': return Number.isNaN(int) ? LIBPQ_PARAMS[name] : undefined;
    case 'keepalives': return value === '0' || value === '1' ? undefined : LIBPQ_PARAMS[name];
    case 'port': return int >= 1 && int <= 65535 ? undefined : LIBPQ_PARAMS[name];
    case 'sslmode': return SSL_MODES.includes(value) ? undefined : LIBPQ_PARAMS[name];
    case 'client_encoding': return /^(utf-?8|auto)$/i.test(value) ? undefined : LIBPQ_PARAMS[name];
    default: return undefined;
  }
}

/**
 * The query parameters as libpq reads them: percent-decoding only, so a `+`
 * stays a `+` (WHATWG URLSearchParams would turn it into a space).
 * Throws URIError on a malformed percent escape.
 */
export function queryParams(u: URL): [string, string][] {
  if (u.search.length <= 1) return [];
  return u.search.slice(1).split('&').filter((p) => p !== '').map((p) => {
    const eq = p.indexOf('=');
    return eq < 0 ? [decodeURIComponent(p), ''] : [decodeURIComponent(p.slice(0, eq)), decodeURIComponent(p.slice(eq + 1))];
  });
}

/**
 * Checks a PostgreSQL URL: scheme, syntax, and every query parameter's name
 * and value. Throws ConfigError (ERR_CFG_VALUE) at span, naming the known
 * parameters on an unknown one. Does not connect.
 */
export function validatePostgresUrl(url: string, span?: Span): void {
  let u: URL;
  try { u = new URL(url); } catch {
    throw new ConfigError('ERR_CFG_VALUE', span, `invalid PostgreSQL URL "${redact(url)}"`, { expected: 'postgres://user:password@host:port/database?libpq_param=value' });
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new ConfigError('ERR_CFG_VALUE', span, `invalid PostgreSQL URL scheme "${u.protocol}"`, { expected: 'postgres:// or postgresql://' });
  }
  if (u.port && badValue('port', u.port)) throw new ConfigError('ERR_CFG_VALUE', span, `invalid port "${u.port}" in PostgreSQL URL`, { expected: LIBPQ_PARAMS.port });
  let params: [string, string][];
  try { params = queryParams(u); decodeURIComponent(u.username + u.password + u.pathname); } catch {
    throw new ConfigError('ERR_CFG_VALUE', span, `invalid percent-encoding in PostgreSQL URL "${redact(url)}"`);
  }
  for (const [name, value] of params) {
    if (!(name in LIBPQ_PARAMS)) {
      const guess = didYouMean(name, Object.keys(LIBPQ_PARAMS));
      throw new ConfigError('ERR_CFG_VALUE', span, `unknown PostgreSQL URL option "${name}"`, {
        expected: `one of ${Object.keys(LIBPQ_PARAMS).join(', ')}`,
        hint: guess ? `did you mean "${guess}"?` : undefined,
      });
    }
    const bad = badValue(name, value);
    if (bad) throw new ConfigError('ERR_CFG_VALUE', span, `invalid value "${value}" for PostgreSQL URL option "${name}"`, { expected: bad });
  }
}

/** The URL with its password masked, for logs and error messages. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@').replace(/([?&](?:sslpassword|password)=)[^&]*/g, '$1***');
}

/**
 * Turns a validated URL into node-postgres settings, with libpq's meaning:
 * sslmode require = encrypted but unverified (verify-ca when sslrootcert is
 * given, as libpq does), verify-ca = chain checked but not the host name,
 * verify-full = both. allow and prefer mean no TLS: node-postgres cannot fall
 * back from TLS to plain text as libpq does, so ask for require explicitly.
 * Certificate files are read here, at provision time.
 */
export function pgConfigFromUrl(url: string): PoolConfig {
  const u = new URL(url);
  const params = new Map(queryParams(u)); // the last occurrence wins, as in libpq
  const q = (name: string) => params.get(name);
  const host = q('host') ?? (u.hostname.replace(/^\[(.*)\]$/, '$1') || undefined);
  const cfg: PoolConfig = {
    host,
    port: Number(q('port') ?? u.port) || undefined,
    database: q('dbname') ?? (decodeURIComponent(u.pathname.slice(1)) || undefined),
    user: q('user') ?? (decodeURIComponent(u.username) || undefined),
    password: q('password') ?? (u.password ? decodeURIComponent(u.password) : undefined),
    application_name: q('application_name'),
    fallback_application_name: q('fallback_application_name') ?? 'quicksilver',
    options: q('options'),
    // libpq: 0 = wait forever; other values below 2 count as 2. Our default is 10 s, so a black-holed server fails provision.
    connectionTimeoutMillis: q('connect_timeout') === undefined ? 10_000 : Number(q('connect_timeout')) === 0 ? 0 : Math.max(2, Number(q('connect_timeout'))) * 1000,
    keepAlive: q('keepalives') !== '0',
  };
  if (q('keepalives_idle') !== undefined) cfg.keepAliveInitialDelayMillis = Number(q('keepalives_idle')) * 1000;
  if (q('client_encoding') && !/^auto$/i.test(q('client_encoding')!)) cfg.client_encoding = 'UTF8';
  const mode = q('sslmode') ?? 'prefer';
  if (mode === 'disable' || mode === 'allow' || mode === 'prefer') {
    cfg.ssl = false;
  } else {
    const ssl: ConnectionOptions = {};
    const ca = q('sslrootcert');
    if (ca && ca !== 'system') ssl.ca = readFileSync(ca, 'utf8');
    if (q('sslcert')) ssl.cert = readFileSync(q('sslcert')!, 'utf8');
    if (q('sslkey')) ssl.key = readFileSync(q('sslkey')!, 'utf8');
    if (q('sslpassword')) ssl.passphrase = q('sslpassword');
    if (mode === 'require' && !ca) ssl.rejectUnauthorized = false;
    if (mode === 'verify-ca' || (mode === 'require' && ca)) ssl.checkServerIdentity = () => undefined;
    cfg.ssl = ssl;
  }
  for (const k of Object.keys(cfg) as (keyof PoolConfig)[]) if (cfg[k] === undefined) delete cfg[k];
  return cfg;
}
