/**
 * The deprecated `transport_url` form of the Redis transport, as the
 * commercial hub documented it:
 *   redis://[user:password@]host:port/<stream>?tls=1&max_len_approx=<n>
 * The URL path is the stream name; `rediss://` or `tls=1` enables TLS;
 * `max_len_approx` is max_length. Any other query parameter is an error.
 */
import type { Span } from '../../host/span.ts';
import { ConfigError, unknownName } from '../../host/errors.ts';
import type { RedisTransportConfig } from './module.ts';

/** The URL schemes that select the Redis transport. */
export const REDIS_URL_SCHEMES = ['redis', 'rediss'] as const;

/** Query parameters of the legacy URL. */
const URL_PARAMS = ['tls', 'max_len_approx'];

/**
 * Parses the deprecated `transport_url redis://…` / `rediss://…` form:
 * the URL path is the stream name; `tls=1` enables TLS; `max_len_approx=N`
 * is max_length. User info gives username and password.
 */
export function parseRedisUrl(url: string, span?: Span): RedisTransportConfig {
  const expected = 'redis://[user:password@]host:port/<stream>?tls=1&max_len_approx=<n>';
  let u: URL;
  try { u = new URL(url); } catch {
    throw new ConfigError('ERR_CFG_VALUE', span, `invalid Redis URL "${redactUrl(url)}"`, { expected });
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new ConfigError('ERR_CFG_VALUE', span, `not a Redis URL: "${redactUrl(url)}"`, { expected });
  }
  const stream = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!u.host || !stream) {
    throw new ConfigError('ERR_CFG_VALUE', span, `Redis URL "${redactUrl(url)}" needs a host and a stream name as its path`, { expected });
  }
  const config: RedisTransportConfig = { addresses: [u.host], stream };
  if (span) config['@span'] = `${span.file}:${span.line}:${span.column}`;
  if (u.username) config.username = decodeURIComponent(u.username);
  if (u.password) config.password = decodeURIComponent(u.password);
  if (u.protocol === 'rediss:') config.tls = true;
  for (const [name, value] of u.searchParams) {
    if (!URL_PARAMS.includes(name)) throw unknownName('query parameter in the Redis URL', name, span, URL_PARAMS);
    if (name === 'tls') {
      if (!['0', '1', 'true', 'false'].includes(value)) throw new ConfigError('ERR_CFG_VALUE', span, `invalid tls=${value} in the Redis URL`, { expected: '0 or 1' });
      if (value === '1' || value === 'true') config.tls = true;
    } else {
      if (!/^\d+$/.test(value)) throw new ConfigError('ERR_CFG_VALUE', span, `invalid max_len_approx=${value} in the Redis URL`, { expected: 'an integer >= 0' });
      config.max_length = Number(value);
    }
  }
  return config;
}

/** The URL with its password masked, for error messages. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
