/**
 * Automatic HTTP→HTTPS redirects, as Caddy's automatic HTTPS adds them when
 * the http app is provisioned (so they are not in the adapted JSON, nor in
 * GET /config). For every TLS server with host names in its routes' host
 * matchers, unless its `automatic_https` says `disable` or
 * `disable_redirects`, each name is redirected from the HTTP port of the
 * server's listener address: `308`, `Location:
 * https://{http.request.host}[:port]{http.request.uri}`, `Connection: close`
 * (the port rule is at redirectRoute); a name served on several ports
 * redirects to the HTTPS port. A server already listening on the
 * redirect address (an `http://` site) gets the routes appended after its
 * own; otherwise a server `remaining_auto_https_redirects` is added. Each
 * redirect server ends with a catch-all redirect (no host matcher) to the
 * HTTPS port, for names not in the config (an IP address).
 */
import type { RouteConfig } from './handler.ts';
import { parseListenAddress } from './listener.ts';

/** `apps.http.servers.<name>.automatic_https` (Caddy's AutoHTTPSConfig). */
export interface AutoHttpsConfig {
  disable?: boolean;
  disable_redirects?: boolean;
  /** Names left out of automatic HTTPS (no redirect). */
  skip?: string[];
  skip_certificates?: string[];
  disable_certificates?: boolean;
  ignore_loaded_certificates?: boolean;
}

/** The part of a server config this needs. */
interface ServerLike {
  listen: string[];
  routes?: RouteConfig[];
  tls_connection_policies?: unknown[];
  automatic_https?: AutoHttpsConfig;
}

/** Host names of the top-level host matchers (placeholders left out). */
function hostNames(routes: RouteConfig[]): string[] {
  const out = new Set<string>();
  for (const r of routes) {
    for (const set of r.match ?? []) {
      const hosts = set.host;
      if (Array.isArray(hosts)) for (const h of hosts) if (typeof h === 'string' && h !== '' && !h.includes('{')) out.add(h.toLowerCase());
    }
  }
  return [...out];
}

/**
 * A 308 to HTTPS. As in Caddy, the port is written only when it is none of
 * 443, 80, https_port and http_port: https_port is taken to be reached as
 * 443 from outside (a port mapping), so the catch-all never names a port.
 */
function redirectRoute(hosts: string[] | undefined, port: number, ports: { http: number; https: number }): RouteConfig {
  const bare = port === 443 || port === 80 || port === ports.https || port === ports.http;
  const location = `https://{http.request.host}${bare ? '' : `:${port}`}{http.request.uri}`;
  return {
    match: [hosts ? { protocol: 'http', host: hosts } : { protocol: 'http' }],
    handle: [{ handler: 'static_response', status_code: 308, headers: { Location: [location], Connection: ['close'] }, close: true }],
  };
}

/** The address a listener's redirects listen on: its host with the HTTP port, in Caddy's `host:port` form. */
function withPort(listen: string, port: number): { key: string; text: string } {
  const a = parseListenAddress(listen);
  const host = a.host.includes(':') ? `[${a.host}]` : a.host;
  return { key: parseListenAddress(`${host}:${port}`).key, text: `${host}:${port}` };
}

/**
 * Returns `servers` with the automatic redirects added (a new object; the
 * input is left alone). Unix-socket listeners and port 0 get no redirects.
 */
export function withAutoRedirects<S extends ServerLike>(servers: Record<string, S>, httpPort = 80, httpsPort = 443): Record<string, S> {
  /** name → the listener address (and its port) whose HTTPS site it redirects to. */
  const target = new Map<string, { listen: string; port: number }>();
  for (const srv of Object.values(servers)) {
    const auto = srv.automatic_https ?? {};
    if (auto.disable || auto.disable_redirects || !srv.tls_connection_policies) continue;
    // Port 0 (any free port, as tests bind) has no fixed port to redirect to.
    const tcp = srv.listen.map((l) => ({ l, a: parseListenAddress(l) })).filter((x) => x.a.network === 'tcp' && x.a.port !== 0);
    if (!tcp.some((x) => x.a.port !== httpPort)) continue; // only on the HTTP port: no automatic HTTPS
    const skip = new Set((auto.skip ?? []).map((h) => h.toLowerCase()));
    const names = hostNames(srv.routes ?? []).filter((h) => !skip.has(h));
    for (const { l, a } of tcp) {
      for (const name of names) {
        if (!target.has(name) || a.port === httpsPort) target.set(name, { listen: l, port: a.port });
      }
    }
  }
  if (target.size === 0) return servers;

  // Group the names by the redirect address (listener host, HTTP port) and destination port.
  const byAddress = new Map<string, { text: string; routes: RouteConfig[]; byPort: Map<number, string[]> }>();
  for (const [name, t] of target) {
    const addr = withPort(t.listen, httpPort);
    let entry = byAddress.get(addr.key);
    if (!entry) byAddress.set(addr.key, (entry = { text: addr.text, routes: [], byPort: new Map() }));
    const list = entry.byPort.get(t.port) ?? [];
    list.push(name);
    entry.byPort.set(t.port, list);
  }
  const out: Record<string, S> = { ...servers };
  const remaining: { listen: string[]; routes: RouteConfig[] } = { listen: [], routes: [] };
  const ports = { http: httpPort, https: httpsPort };
  const catchAll = redirectRoute(undefined, httpsPort, ports);
  for (const [key, entry] of byAddress) {
    const routes = [...entry.byPort].map(([port, hosts]) => redirectRoute(hosts.sort(), port, ports));
    const owner = Object.entries(out).find(([, s]) => s.listen.some((l) => safeKey(l) === key));
    if (owner) {
      const [name, s] = owner;
      out[name] = { ...s, routes: [...(s.routes ?? []), ...routes, catchAll] };
    } else {
      remaining.listen.push(entry.text);
      remaining.routes.push(...routes);
    }
  }
  if (remaining.listen.length) {
    out.remaining_auto_https_redirects = { listen: remaining.listen, routes: [...remaining.routes, catchAll] } as unknown as S;
  }
  return out;
}

function safeKey(listen: string): string | undefined {
  try { return parseListenAddress(listen).key; } catch { return undefined; }
}
