/**
 * tls [internal|force_automate|<email>|<cert_file> <key_file>] {
 *     protocols <min> [<max>]
 *     ciphers <suites...>
 *     curves <curves...>
 *     alpn <values...>
 *     load <paths...>
 *     ca <url>; ca_root <pem>; key_type <type>; dns <provider> …; issuer <name> …
 *     client_auth { … }
 *     on_demand
 * }
 *
 * Yields class `tls` (servers.ts's TlsValue): `{ certificate, key }` for a
 * pair, `{ internal: true }`, `{ email }`, plus the block settings. ACME
 * settings are kept but have no effect: certificates come from the files or
 * the internal CA.
 */
import { unknownName } from '../src/host/errors.ts';
import type { Dispenser } from '../src/caddyfile/dispenser.ts';
import { rawValue } from './raw.ts';
import type { ConfigValue } from './registry.ts';

const KEEP_RAW = ['ca', 'ca_root', 'key_type', 'dns', 'issuer', 'get_certificate', 'client_auth', 'on_demand', 'eab',
  'resolvers', 'propagation_timeout', 'propagation_delay', 'dns_ttl', 'dns_challenge_override_domain', 'insecure_secrets_log',
  'reuse_private_keys', 'renewal_window_ratio', 'load'];

export function parseTls(d: Dispenser): ConfigValue[] {
  const out: Record<string, unknown> = {};
  const args = d.args(0, 2);
  if (args.length === 1) {
    const a = args[0]!.text;
    if (a === 'internal') out.internal = true;
    else if (a === 'force_automate') out.force_automate = true;
    else if (a.includes('@')) out.email = a;
    else throw d.err("single argument must either be 'internal', 'force_automate', or an email address", args[0]);
  } else if (args.length === 2) {
    out.certificate = args[0]!.text;
    out.key = args[1]!.text;
  }
  for (const line of d.block()) {
    switch (line.name) {
      case 'protocols': {
        const [min, max] = line.strings(1, 2);
        for (const p of [min, max]) if (p && !['tls1.2', 'tls1.3'].includes(p)) throw line.err(`wrong protocol name or protocol not supported: '${p}'`);
        out.protocols = { min, ...(max ? { max } : {}) };
        break;
      }
      case 'ciphers': out.ciphers = line.strings(1, Infinity); break;
      case 'curves': out.curves = line.strings(1, Infinity); break;
      case 'alpn': out.alpn = line.strings(1, Infinity); break;
      default:
        if (!KEEP_RAW.includes(line.name)) throw unknownName('subdirective in tls', line.name, line.span, ['protocols', 'ciphers', 'curves', 'alpn', ...KEEP_RAW]);
        out[line.name] = rawValue(line);
    }
  }
  return [{ class: 'tls', value: out, directive: 'tls', span: d.span }];
}
