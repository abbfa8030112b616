/**
 * The Caddyfile adapter: Caddyfile text → one JSON config (what `adapt` prints
 * and `run` loads). Steps as in Caddy's httpcaddyfile: global options, then
 * each site block (shorthands, named matchers, directives, sorting), then
 * sites grouped into servers by listener address.
 */
import { formatSpan, type Span } from '../grammar/ast.ts';
import { firstUnformattedLine, parseCaddyfile } from '../grammar/index.ts';
import type { RouteConfig } from '../src/http/handler.ts';
import { ConfigError, ConfigErrors, unknownName } from '../src/host/errors.ts';
import { type SiteAddress, parseAddress } from './address.ts';
import { INERT_OPTIONS, type OrderRule } from './core.ts';
import { Dispenser } from '../src/caddyfile/dispenser.ts';
import { registerAllDirectives } from './index.ts';
import { getDirective, getGlobalOption, globalOptionNames } from './registry.ts';
import { type SiteContext, adaptSite } from './site.ts';
import { directiveOrder } from './sort.ts';
import { buildServers, type Site } from './servers.ts';

export interface Warning { file: string; line: number; column?: number; message: string }

export interface AdaptOptions {
  file: string;
  env?: Record<string, string | undefined>;
  readFile?: (path: string) => string;
}

export interface AdaptResult { config: Record<string, unknown>; warnings: Warning[] }

/** Adapts a Caddyfile. Throws ConfigErrors listing every error found. */
export function adaptCaddyfile(text: string, opts: AdaptOptions): AdaptResult {
  registerAllDirectives();
  const { file, errors: parseErrors, warnings: parseWarnings } = parseCaddyfile(text, opts);
  if (parseErrors.length) throw new ConfigErrors(parseErrors);
  // The parser's warnings (import globs without matches, {args[N]} out of range, …) are reported too.
  const warnings: Warning[] = parseWarnings.map((w) => ({ file: w.span.file, line: w.span.line, column: w.span.column, message: w.message }));
  const warn = (span: Span, message: string) => warnings.push({ file: span.file, line: span.line, column: span.column, message });
  const errors: ConfigError[] = [];
  const unformatted = firstUnformattedLine(text);
  if (unformatted !== undefined) {
    warnings.push({ file: opts.file, line: unformatted, message: "Caddyfile input is not formatted; run 'quicksilver fmt --overwrite' to fix inconsistencies" });
  }

  for (const [name, route] of Object.entries(file.namedRoutes)) {
    errors.push(new ConfigError('ERR_CFG_UNKNOWN', route.span, `named route &(${name}) cannot be used: the invoke directive is not supported yet`));
  }
  const blocks = [...file.blocks];
  const options: Record<string, unknown> = {};
  if (blocks[0] && blocks[0].keys.length === 0) {
    const global = blocks.shift()!;
    for (const line of global.body) {
      const d = new Dispenser(line);
      const parse = getGlobalOption(d.name);
      if (!parse) { errors.push(unknownName('global option', d.name, d.span, globalOptionNames())); continue; }
      try {
        options[d.name] = parse(d, options[d.name]);
        if (INERT_OPTIONS[d.name]) warn(d.span, `global option '${d.name}' has no effect in quicksilver (see README: Global options)`);
        if (d.name === 'metrics' && (options.metrics as { otlp?: boolean }).otlp) warn(d.span, 'metrics otlp: pushing metrics over OTLP is not supported by this server; use the Prometheus endpoint');
      } catch (e) { if (e instanceof ConfigError) errors.push(e); else throw e; }
    }
  }
  for (const b of blocks) {
    if (b.keys.length === 0) {
      errors.push(new ConfigError('ERR_CFG_SYNTAX', b.span, 'server block without any key is global configuration, and if used, it must be first'));
    }
  }

  const httpPort = (options.http_port as number | undefined) ?? 80;
  const httpsPort = (options.https_port as number | undefined) ?? 443;
  const order = directiveOrder(options.order as OrderRule[] | undefined, (n) => getDirective(n) !== undefined, errors);
  let groups = 0;
  const ctx: SiteContext = { options, order, nextGroup: () => `group${groups++}`, warn, errors };
  const sites: Site[] = [];
  const seen = new Map<string, string>();
  let logs = 0; // unnamed `log` directives are log0, log1, … in file order, as in Caddy
  for (const b of blocks) {
    if (b.keys.length === 0) continue;
    const addresses: SiteAddress[] = [];
    const own = new Set<string>();
    for (const k of b.keys) {
      try {
        if (k.text.startsWith('@')) throw new ConfigError('ERR_CFG_SYNTAX', k.span, `request matchers may not be defined globally, they must be in a site block; found ${k.text}`);
        if (getDirective(k.text)) throw new ConfigError('ERR_CFG_SYNTAX', k.span, `parsed '${k.text}' as a site address, but it is a known directive; directives must appear in a site block`);
        const a = parseAddress(k, httpPort, httpsPort);
        const id = `${a.scheme}://${a.host}:${a.port}${a.path}`;
        if (own.has(id)) continue; // the same address twice in one block is harmless (Caddy dedupes it)
        own.add(id);
        const first = seen.get(id);
        if (first) throw new ConfigError('ERR_CFG_VALUE', k.span, `ambiguous site definition: ${k.text}`, { hint: `also defined at ${first}` });
        seen.set(id, formatSpan(k.span));
        addresses.push(a);
      } catch (e) { if (e instanceof ConfigError) errors.push(e); else throw e; }
    }
    const r = adaptSite(b, ctx);
    for (const v of r.values) if (v.class === 'log') { const l = v.value as { name?: string }; l.name ??= `log${logs++}`; }
    sites.push({ addresses, routes: r.routes, values: r.values, span: b.span });
  }
  if (errors.length) throw new ConfigErrors(errors);

  const config: Record<string, unknown> = {};
  if (options.admin) config.admin = options.admin;
  if (options.debug || options.log) {
    config.logging = { ...(options.debug ? { level: 'DEBUG' } : {}), ...(options.log ? { logs: options.log } : {}) };
  }
  if (options.storage) config.storage = options.storage;
  if (options.workers !== undefined) config.workers = options.workers;
  const { servers, tls } = buildServers(sites, options);
  const http: Record<string, unknown> = {};
  if (options.http_port !== undefined) http.http_port = httpPort;
  if (options.https_port !== undefined) http.https_port = httpsPort;
  if (options.grace_period) http.grace_period = options.grace_period;
  if (options.shutdown_delay) http.shutdown_delay = options.shutdown_delay;
  if (options.metrics) http.metrics = options.metrics;
  if (options.servers) http.server_options = options.servers;
  http.servers = servers;
  config.apps = tls ? { http, tls } : { http };
  return { config, warnings };
}

export type { RouteConfig };
