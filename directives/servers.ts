/**
 * Sites → servers. Sites that share a listener address share a server
 * (srv0, srv1, … in order of first appearance); a site on several ports
 * appears in several servers. Each site becomes one terminal route with a
 * host matcher (none for catch-all sites) around a subroute of its routes.
 * HTTPS sites get TLS: their own `tls cert key`, or certificates from the
 * internal issuer (this server does no ACME; README says so).
 */
import type { Span } from '../grammar/ast.ts';
import type { MatcherSet, RouteConfig } from '../src/http/handler.ts';
import type { SiteAddress } from './address.ts';
import type { ConfigValue } from './registry.ts';

export interface Site { addresses: SiteAddress[]; routes: RouteConfig[]; values: ConfigValue[]; span: Span }

/** What the `tls` directive yields (class 'tls'). */
export interface TlsValue { certificate?: string; key?: string; internal?: boolean; [k: string]: unknown }

interface ServerAcc {
  listen: string[];
  entries: { hosts: string[]; paths: string[]; site: Site }[];
  https: boolean;
  skip: Set<string>;
}

/** The `auto_https` global option → each server's `automatic_https`, as Caddy's adapter writes it. */
const AUTO_HTTPS: Record<string, Record<string, boolean>> = {
  off: { disable: true },
  disable_redirects: { disable_redirects: true },
  disable_certs: { disable_certificates: true },
  ignore_loaded_certs: { ignore_loaded_certificates: true },
};

function siteRoute(hosts: string[], paths: string[], routes: RouteConfig[]): RouteConfig {
  const set: MatcherSet = {};
  if (hosts.length) set.host = hosts;
  if (paths.length) set.path = paths;
  const route: RouteConfig = { handle: routes.length ? [{ handler: 'subroute', routes }] : [], terminal: true };
  return Object.keys(set).length ? { match: [set], ...route } : route;
}

export function buildServers(sites: Site[], options: Record<string, unknown>): { servers: Record<string, unknown>; tls?: Record<string, unknown> } {
  const byListen = new Map<string, ServerAcc>();
  const defaultBind = (options.default_bind as string[] | undefined) ?? [''];
  const httpPort = (options.http_port as number | undefined) ?? 80;
  for (const site of sites) {
    const binds = site.values.filter((v) => v.class === 'bind').flatMap((v) => v.value as string[]);
    const hostsOf = binds.length ? binds : defaultBind;
    const perServer = new Map<string, SiteAddress[]>();
    for (const a of site.addresses) {
      const listen = hostsOf.map((h) => `${h.includes(':') && !h.startsWith('[') ? `[${h}]` : h}:${a.port}`);
      const key = listen.join(',');
      if (!byListen.has(key)) byListen.set(key, { listen, entries: [], https: false, skip: new Set() });
      const list = perServer.get(key) ?? [];
      list.push(a);
      perServer.set(key, list);
    }
    for (const [key, addrs] of perServer) {
      const acc = byListen.get(key)!;
      if (addrs.some((a) => a.scheme === 'https')) acc.https = true;
      // As Caddy: explicit http:// hosts on a port other than the HTTP port are kept out of automatic HTTPS.
      for (const a of addrs) if (a.scheme === 'http' && a.host && a.port !== httpPort) acc.skip.add(a.host);
      const hosts = addrs.some((a) => a.host === '') ? [] : [...new Set(addrs.map((a) => a.host))];
      const paths = [...new Set(addrs.map((a) => a.path).filter(Boolean))].map((p) => (p.endsWith('*') ? p : p + '*'));
      acc.entries.push({ hosts, paths, site });
    }
  }

  const servers: Record<string, unknown> = {};
  const loadFiles: Record<string, unknown>[] = [];
  const internalSubjects = new Set<string>();
  let i = 0;
  for (const acc of byListen.values()) {
    // Sites with hosts before catch-all sites, so a catch-all never shadows a named site.
    const entries = [...acc.entries].sort((a, b) => (a.hosts.length ? 0 : 1) - (b.hosts.length ? 0 : 1));
    const server: Record<string, unknown> = { listen: acc.listen, routes: entries.map((e) => siteRoute(e.hosts, e.paths, e.site.routes)) };
    const auto = AUTO_HTTPS[options.auto_https as string];
    if (auto) server.automatic_https = { ...auto };
    const errorRoutes = entries.flatMap((e) => {
      const routes = e.site.values.filter((v) => v.class === 'error_route').flatMap((v) => v.value as RouteConfig[]);
      // As in Caddy, handle_errors blocks without status codes go after those with codes (stable sort).
      routes.sort((a, b) => (a.match ? 0 : 1) - (b.match ? 0 : 1));
      return routes.length ? [siteRoute(e.hosts, e.paths, routes)] : [];
    });
    if (errorRoutes.length) server.errors = { routes: errorRoutes };
    const logs = entries.flatMap((e) => e.site.values.filter((v) => v.class === 'log').map((v) => ({ hosts: e.hosts, ...(v.value as object) })));
    if (logs.length) server.logs = logs;
    // `auto_https off|disable_certs` stops automatic (internal) certificates, but a
    // site that loads its own `tls cert key` keeps serving TLS with it.
    const automatic = options.auto_https !== 'off' && options.auto_https !== 'disable_certs';
    // Written as Caddy does, so a loader that infers TLS from the ports (runtime/caddy-json.ts) leaves it off.
    if (options.auto_https === 'off') server.automatic_https = { disable: true };
    if (options.auto_https === 'disable_certs') server.automatic_https = { disable_certificates: true };
    if (acc.skip.size && options.auto_https !== 'off') server.automatic_https = { ...(server.automatic_https as object), skip: [...acc.skip] };
    if (acc.https) {
      let tlsOn = false;
      for (const e of entries) {
        const tls = e.site.values.find((v) => v.class === 'tls')?.value as TlsValue | undefined;
        if (tls?.certificate && tls.key) {
          loadFiles.push({ certificate: tls.certificate, key: tls.key, ...(e.hosts.length ? { subjects: e.hosts } : {}) });
          tlsOn = true;
        } else if (automatic) {
          (e.hosts.length ? e.hosts : ['localhost']).forEach((h) => internalSubjects.add(h));
          tlsOn = true;
        }
      }
      if (tlsOn) server.tls_connection_policies = [{}];
    }
    servers[`srv${i++}`] = server;
  }
  if (!loadFiles.length && !internalSubjects.size) return { servers };
  const tls: Record<string, unknown> = {};
  if (loadFiles.length) tls.certificates = { load_files: loadFiles };
  if (internalSubjects.size) tls.automation = { policies: [{ subjects: [...internalSubjects], issuers: [{ module: 'internal' }] }] };
  return { servers, tls };
}
