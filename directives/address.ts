/**
 * Site addresses: `[scheme://]host[:port][/path]` (caddy.md §3.1).
 * Empty host = catch-all. The scheme defaults from the port: http_port → http,
 * a catch-all on any other port than https_port → http, otherwise https.
 */
import type { Token } from '../grammar/ast.ts';
import { ConfigError } from '../src/host/errors.ts';

export interface SiteAddress {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  path: string;
  original: string;
}

export function parseAddress(t: Token, httpPort: number, httpsPort: number): SiteAddress {
  const text = t.text;
  const bad = (msg: string, expected?: string) => new ConfigError('ERR_CFG_VALUE', t.span, `parsing key '${text}': ${msg}`, { expected });
  let rest = text;
  let scheme = '';
  const i = rest.indexOf('://');
  if (i >= 0) {
    scheme = rest.slice(0, i).toLowerCase();
    rest = rest.slice(i + 3);
    if (scheme === 'ws' || scheme === 'wss') throw bad(`the scheme ${scheme}:// is only supported in browsers; use http:// instead`);
    if (scheme !== 'http' && scheme !== 'https') throw bad(`unsupported URL scheme ${scheme}://`, 'http:// or https://');
  }
  const slash = rest.indexOf('/');
  const path = slash >= 0 ? rest.slice(slash) : '';
  const hostport = slash >= 0 ? rest.slice(0, slash) : rest;
  let host = hostport;
  let portText = '';
  const m = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(hostport);
  if (m) { host = m[1]!; portText = m[2] ?? ''; }
  let port: number;
  if (portText !== '') {
    if (!/^\d+$/.test(portText)) throw bad(`invalid port '${portText}'`, 'a port number from 0 to 65535');
    port = Number(portText);
    if (port > 65535) throw bad(`port ${port} is out of range`, 'a port number from 0 to 65535');
  } else {
    port = scheme === 'http' ? httpPort : httpsPort;
  }
  if (!scheme) scheme = port === httpPort || (host === '' && port !== httpsPort) ? 'http' : 'https';
  if ((scheme === 'http' && port === httpsPort) || (scheme === 'https' && port === httpPort)) {
    throw new ConfigError('ERR_CFG_VALUE', t.span, `determining listener address: [${text}] scheme and port violate convention`);
  }
  return { scheme: scheme as 'http' | 'https', host: host.toLowerCase(), port, path, original: text };
}
