/**
 * The deprecated `transport_url bolt://…` form of the bolt transport.
 */
import { ConfigError } from '../../host/errors.ts';
import type { Span } from '../../host/span.ts';
import { goQuote, redactedUrl } from '../core/legacy-url.ts';
import type { BoltTransportConfig } from './module.ts';

/**
 * Parses the deprecated `transport_url` / `MERCURE_TRANSPORT_URL` forms
 * `bolt:///abs/path.db` and `bolt://relative.db?bucket_name=…&size=…&cleanup_frequency=…`
 * (cleanup_frequency defaults to 0.3 here, as in the Go hub). Errors carry the Go hub's text.
 */
export function parseBoltUrl(raw: string, span?: Span): BoltTransportConfig {
  let u: URL | undefined;
  try { u = new URL(raw); } catch { /* reported below */ }
  const dsn = redactedUrl(raw, u);
  const fail = (detail: string): ConfigError => new ConfigError('ERR_CFG_VALUE', span, detail);
  if (!u) throw fail(`${goQuote(dsn)}: invalid transport: parse ${goQuote(raw)}: invalid URL`);
  if (u.protocol.toLowerCase() !== 'bolt:') throw fail(`${goQuote(dsn)}: invalid transport: no such transport available`);
  const q = u.searchParams;
  const config: BoltTransportConfig = { bucket_name: q.get('bucket_name') || 'updates', size: 0, cleanup_frequency: 0.3 };
  const size = q.get('size');
  if (size) {
    if (!/^\d+$/.test(size)) throw fail(`${goQuote(dsn)}: invalid "size" parameter ${goQuote(size)}: invalid transport: strconv.ParseUint: parsing ${goQuote(size)}: invalid syntax`);
    if (BigInt(size) > 0xffffffffffffffffn) throw fail(`${goQuote(dsn)}: invalid "size" parameter ${goQuote(size)}: invalid transport: strconv.ParseUint: parsing ${goQuote(size)}: value out of range`);
    config.size = Number(size);
  }
  const freq = q.get('cleanup_frequency');
  if (freq) {
    const f = parseGoFloat(freq);
    if (f === undefined) throw fail(`${goQuote(dsn)}: invalid "cleanup_frequency" parameter ${goQuote(freq)}: invalid transport: strconv.ParseFloat: parsing ${goQuote(freq)}: invalid syntax`);
    config.cleanup_frequency = Math.min(1, Math.max(0, f));
  }
  // Go: u.Path for bolt:///abs.db, else u.Host for bolt://rel.db.
  const path = u.pathname ? decodeURIComponent(u.pathname) : u.host;
  if (!path) throw fail(`${goQuote(dsn)}: invalid transport: missing path`);
  config.path = path;
  return config;
}

/** strconv.ParseFloat's accepted syntax (decimal, inf, nan); undefined when Go would reject it. */
function parseGoFloat(s: string): number | undefined {
  if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(s)) return 0;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return undefined;
  return Number(s);
}
