/**
 * Caddy's JSON, both ways.
 *
 * The adapter's own config differs from Caddy's in a few places, so that each
 * module reads what it needs where it runs:
 * - a server's access logs are a list (`servers.*.logs: [{ name, hosts, writer, encoder, level }]`);
 *   Caddy keeps the log definitions in `logging.logs.<name>` and maps hosts to
 *   logger names in `servers.*.logs { default_logger_name, logger_names }`;
 * - `debug` is `logging.level`; Caddy sets `logging.logs.default.level`;
 * - the `servers` global option is kept raw in `apps.http.server_options`;
 *   Caddy copies its settings into every server;
 * - `@span` keys give each module its source position, for late errors.
 *
 * `toCaddyJSON` prints what Caddy's loader accepts (no spans unless asked);
 * `fromCaddyJSON` reads a config `caddy adapt` produced. The internal form is
 * accepted as is (a config is Caddy's when `servers.*.logs` is an object).
 */
import type { AccessLogConfig } from '../http/access-log.ts';
import { globalServerOptions } from '../http/app.ts';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Removes every `@span` key, recursively (in place). */
export function stripSpans<T>(node: T): T {
  if (Array.isArray(node)) { for (const n of node) stripSpans(n); return node; }
  if (isObj(node)) {
    delete node['@span'];
    for (const v of Object.values(node)) stripSpans(v);
  }
  return node;
}

function httpApp(config: Obj): Obj | undefined {
  const apps = config.apps;
  return isObj(apps) && isObj(apps.http) ? apps.http : undefined;
}

function servers(config: Obj): [string, Obj][] {
  const s = httpApp(config)?.servers;
  return isObj(s) ? Object.entries(s).filter((e): e is [string, Obj] => isObj(e[1])) : [];
}

type RawLine = { args?: string[]; block?: Record<string, RawLine | RawLine[]> };
const firstRaw = (v: RawLine | RawLine[] | undefined): RawLine | undefined => (Array.isArray(v) ? v[0] : v);

/** The `log` global option (kept raw by the adapter) as Caddy's `logging.logs.<name>`. */
function globalLog(raw: RawLine): [string, Obj] {
  const name = raw.args?.[0] ?? 'default';
  const log: Obj = {};
  const b = raw.block ?? {};
  const output = firstRaw(b.output)?.args;
  if (output?.[0] === 'file') log.writer = { output: 'file', filename: output[1] };
  else if (output?.[0]) log.writer = { output: output[0] };
  const format = firstRaw(b.format)?.args?.[0];
  if (format) log.encoder = { format };
  const level = firstRaw(b.level)?.args?.[0];
  if (level) log.level = level.toUpperCase();
  for (const k of ['include', 'exclude'] as const) {
    const v = firstRaw(b[k])?.args;
    if (v?.length) log[k] = v;
  }
  return [name, log];
}

/** The internal config → Caddy's JSON (a copy). `spans: true` keeps the `@span` keys. */
export function toCaddyJSON(internal: Obj, opts: { spans?: boolean } = {}): Obj {
  const out = structuredClone(internal);
  const logs: Record<string, Obj> = {};
  const logging = isObj(out.logging) ? out.logging : undefined;
  if (logging) {
    for (const raw of Array.isArray(logging.logs) ? logging.logs as RawLine[] : []) {
      const [name, log] = globalLog(raw);
      logs[name] = { ...logs[name], ...log };
    }
    if (typeof logging.level === 'string') logs.default = { ...logs.default, level: logging.level };
  }
  const http = httpApp(out);
  if (http) {
    const global = globalServerOptions(http.server_options);
    delete http.server_options;
    for (const [, srv] of servers(out)) {
      if (srv.trusted_proxies === undefined && global.trusted_proxies) srv.trusted_proxies = global.trusted_proxies;
      if (Array.isArray(srv.trusted_proxies)) srv.trusted_proxies = { source: 'static', ranges: srv.trusted_proxies };
      if (srv.client_ip_headers === undefined && global.client_ip_headers) srv.client_ip_headers = global.client_ip_headers;
      if (srv.trusted_proxies_strict === undefined && global.trusted_proxies_strict) srv.trusted_proxies_strict = true;
      if (!Array.isArray(srv.logs)) continue;
      const map: Obj = {};
      const names: Record<string, string[]> = {};
      for (const l of srv.logs as (AccessLogConfig & { no_hostname?: boolean; '@span'?: string })[]) {
        const name = l.name || 'log0';
        const custom: Obj = {};
        if (l.writer) custom.writer = l.writer;
        if (l.encoder) custom.encoder = l.encoder;
        if (l.level) custom.level = l.level;
        if (opts.spans && l['@span']) custom['@span'] = l['@span'];
        custom.include = [`http.log.access.${name}`];
        logs[name] = custom;
        const dflt = logs.default ?? {};
        dflt.exclude = [...new Set([...(dflt.exclude as string[] | undefined ?? []), `http.log.access.${name}`])].sort();
        logs.default = dflt;
        if (l.log_credentials) map.should_log_credentials = true;
        if (l.no_hostname) continue;
        if (!l.hosts?.length) map.default_logger_name = name;
        else for (const h of l.hosts) (names[h] ??= []).push(name);
      }
      if (Object.keys(names).length) map.logger_names = names;
      srv.logs = map;
    }
  }
  const tls = isObj(out.apps) && isObj(out.apps.tls) ? out.apps.tls : undefined;
  const files = isObj(tls?.certificates) ? tls.certificates.load_files : undefined;
  if (Array.isArray(files)) for (const f of files) if (isObj(f)) delete f.subjects;
  if (Object.keys(logs).length) out.logging = { logs };
  else delete out.logging;
  // Caddy writes `admin`, `logging`, `storage`, `apps` in this order.
  const ordered: Obj = {};
  for (const k of ['admin', 'logging', 'storage', 'apps']) if (out[k] !== undefined) ordered[k] = out[k];
  for (const [k, v] of Object.entries(out)) if (!(k in ordered)) ordered[k] = v;
  return opts.spans ? ordered : stripSpans(ordered);
}

/** Whether a config is in Caddy's shape (a server's `logs` is an object, or `logging.logs` is). */
export function isCaddyShape(config: Obj): boolean {
  if (servers(config).some(([, s]) => isObj(s.logs))) return true;
  return isObj(config.logging) && isObj(config.logging.logs);
}

/** The port of a listen address (`:443`, `host:8443`, `tcp/[::1]:80`). */
function portOf(listen: string): number | undefined {
  const m = /:(\d+)(?:-\d+)?$/.exec(listen);
  return m ? Number(m[1]) : undefined;
}

function hostsOf(routes: unknown): string[] {
  if (!Array.isArray(routes)) return [];
  return routes.flatMap((r) => (isObj(r) && Array.isArray(r.match) ? r.match : []))
    .flatMap((m) => (isObj(m) && Array.isArray(m.host) ? m.host as string[] : []));
}

/**
 * A config in Caddy's JSON (as `caddy adapt` prints it) → the internal form
 * (a copy), with warnings for what this server leaves out. Caddy turns TLS on
 * at run time (automatic HTTPS) for a server that is not on the HTTP port and
 * names hosts or listens on the HTTPS port; its adapted JSON says nothing
 * about it, so the same rule is applied here (with internal certificates).
 */
export function fromCaddyJSON(config: Obj): { config: Obj; warnings: string[] } {
  const warnings: string[] = [];
  const out = structuredClone(config);
  const apps = isObj(out.apps) ? out.apps : undefined;
  // `skip_install_trust` in Caddy's form: this server never installs its CA anyway.
  const pki = apps?.pki;
  if (isObj(pki) && JSON.stringify(pki) === '{"certificate_authorities":{"local":{"install_trust":false}}}') delete apps!.pki;
  if (apps && isObj(apps.frankenphp)) {
    delete apps.frankenphp;
    warnings.push('apps.frankenphp: this server has no PHP; the frankenphp app is ignored');
  }
  const http = httpApp(out);
  if (http && !(isObj(apps?.tls))) {
    const httpPort = typeof http.http_port === 'number' ? http.http_port : 80;
    const httpsPort = typeof http.https_port === 'number' ? http.https_port : 443;
    for (const [, srv] of servers(out)) {
      const auto = isObj(srv.automatic_https) ? srv.automatic_https : {};
      if (srv.tls_connection_policies !== undefined || auto.disable === true || auto.disable_certificates === true) continue;
      const ports = (Array.isArray(srv.listen) ? srv.listen as string[] : []).map(portOf);
      if (ports.includes(httpPort)) continue;
      const skip = new Set(Array.isArray(auto.skip) ? auto.skip as string[] : []);
      if (ports.includes(httpsPort) || hostsOf(srv.routes).some((h) => !skip.has(h))) srv.tls_connection_policies = [{}];
    }
  }
  if (!isCaddyShape(out)) return { config: out, warnings };
  const logging = isObj(out.logging) ? out.logging : {};
  const logs: Record<string, Obj> = isObj(logging.logs) ? logging.logs as Record<string, Obj> : {};
  const used = new Set<string>();
  for (const [, srv] of servers(out)) {
    if (!isObj(srv.logs)) continue;
    const map = srv.logs;
    const byName = new Map<string, string[]>();
    if (typeof map.default_logger_name === 'string') byName.set(map.default_logger_name, []);
    for (const [host, names] of Object.entries(isObj(map.logger_names) ? map.logger_names : {})) {
      for (const n of (Array.isArray(names) ? names : [names]) as string[]) {
        const list = byName.get(n);
        if (list?.length === 0 && map.default_logger_name === n) continue; // already covers every host
        byName.set(n, [...(list ?? []), host]);
      }
    }
    if (map.skip_hosts !== undefined || map.skip_unmapped_hosts !== undefined) {
      warnings.push('servers.*.logs: skip_hosts and skip_unmapped_hosts are not applied by this server');
    }
    // `logs: {}` turns access logs on, to Caddy's default logger (`http.log.access`).
    if (byName.size === 0) byName.set('', []);
    const list: Obj[] = [];
    for (const [name, hosts] of byName) {
      const custom = logs[name] ?? {};
      if (name) used.add(name);
      const entry: Obj = { hosts, name };
      for (const k of ['writer', 'encoder', 'level', '@span'] as const) if (custom[k] !== undefined) entry[k] = custom[k];
      if (map.should_log_credentials === true) entry.log_credentials = true;
      list.push(entry);
    }
    srv.logs = list;
  }
  const rest: Record<string, Obj> = {};
  for (const [name, log] of Object.entries(logs)) {
    if (used.has(name)) continue;
    if (name === 'default') {
      const { exclude: _exclude, level, ...other } = log;
      if (typeof level === 'string') logging.level = level;
      if (Object.keys(other).length) rest[name] = other;
      continue;
    }
    rest[name] = log;
  }
  if (Object.keys(rest).length) logging.logs = rest; else delete logging.logs;
  if (Object.keys(logging).length) out.logging = logging; else delete out.logging;
  return { config: out, warnings };
}
