/**
 * reverse_proxy [<matcher>] [<upstreams...>] {
 *     to <upstreams...>
 *     lb_policy <name> [<args...>]       # random | random_choose N | least_conn | round_robin |
 *                                       # weighted_round_robin W… | first | ip_hash | client_ip_hash |
 *                                       # uri_hash | header <field> | query <key> | cookie [<name>]
 *     lb_retries <n>; lb_try_duration <d>; lb_try_interval <d>
 *     health_uri <uri>; health_port <port>; health_interval <d>; health_timeout <d>
 *     health_status <code|Nxx>; health_body <regexp>; health_method <m>; health_headers { <f> <v…> }
 *     health_passes <n>; health_fails <n>
 *     fail_duration <d>; max_fails <n>; unhealthy_status <codes…>; unhealthy_latency <d>; unhealthy_request_count <n>
 *     header_up [+|-]<field> [<value>|<find> <replace>]
 *     header_down [+|-]<field> [<value>|<find> <replace>]
 *     flush_interval <d|-1>; trusted_proxies <ranges…>
 *     transport http { dial_timeout; response_header_timeout; read_timeout; write_timeout;
 *                      tls; tls_insecure_skip_verify; tls_server_name; tls_trusted_ca_certs;
 *                      keepalive off|<d>; versions …; max_conns_per_host }
 *     transport <name> { … }            # other transports register a parser (fastcgi)
 * }
 *
 * Upstreams: `host:port`, `:port`, `http://h[:p]`, `https://h[:p]` (TLS),
 * `unix//path.sock`, port ranges `h:8001-8006`, placeholders. All share one scheme.
 * Compiles to `{ handler: "reverse_proxy", upstreams: [{ dial }], … }` (Caddy's JSON).
 */
import type { ReverseProxyConfig } from '../src/http/reverse-proxy/handler.ts';
import type { HeaderOpsConfig } from '../src/http/header-ops.ts';
import { unknownName } from '../src/host/errors.ts';
import type { Dispenser } from '../src/caddyfile/dispenser.ts';
import { applyHeaderOp, canonicalHeader } from './header.ts';
import { parseBlock, type SubTable } from '../src/caddyfile/table.ts';
import { parseDuration, parseInt10 } from '../src/caddyfile/values.ts';

/** Parses a `transport <name> { … }` block into that transport's JSON (without `protocol`). */
export type TransportParser = (d: Dispenser) => Record<string, unknown>;
const transports = new Map<string, TransportParser>();

/** Lets another area add a transport (`fastcgi`); its module is `http.reverse_proxy.transport.<name>`. */
export function registerProxyTransport(name: string, parse: TransportParser): void {
  if (transports.has(name)) throw new Error(`reverse_proxy transport ${name} registered twice`);
  transports.set(name, parse);
}

/** Parses one upstream address into its dial string and scheme. */
export function parseUpstream(d: Dispenser, text: string): { dial: string; scheme: string } {
  if (text.includes('{')) return { dial: text, scheme: '' };
  if (text.startsWith('unix/')) return { dial: text, scheme: '' };
  const m = /^([a-z0-9+]+):\/\/(.*)$/i.exec(text);
  let scheme = '';
  let rest = text;
  if (m) {
    scheme = m[1]!.toLowerCase();
    rest = m[2]!;
    if (!['http', 'https', 'h2c'].includes(scheme)) throw d.err(`unsupported URL scheme ${scheme}://`);
    if (/[/?#]/.test(rest.replace(/^\[[^\]]*\]/, ''))) throw d.err(`for now, URLs for proxy upstreams only support scheme, host, and port components`);
  }
  const hasPort = /:\d+(-\d+)?$/.test(rest);
  if (!hasPort) {
    if (!scheme) throw d.err(`invalid upstream address ${text}: missing port`);
    rest += scheme === 'https' ? ':443' : ':80';
  }
  return { dial: rest, scheme };
}

const TRANSPORT_HTTP: Record<string, (l: Dispenser, o: Record<string, unknown>) => void> = {
  dial_timeout: (l, o) => { o.dial_timeout = parseDuration(l.args(1)[0]!); },
  response_header_timeout: (l, o) => { o.response_header_timeout = parseDuration(l.args(1)[0]!); },
  read_timeout: (l, o) => { o.read_timeout = parseDuration(l.args(1)[0]!); },
  write_timeout: (l, o) => { o.write_timeout = parseDuration(l.args(1)[0]!); },
  tls: (l, o) => { l.args(0); o.tls ??= {}; },
  tls_insecure_skip_verify: (l, o) => { l.args(0); o.tls = { ...(o.tls as object), insecure_skip_verify: true }; },
  tls_server_name: (l, o) => { o.tls = { ...(o.tls as object), server_name: l.string() }; },
  tls_trusted_ca_certs: (l, o) => { o.tls = { ...(o.tls as object), root_ca_pem_files: l.strings(1, Infinity) }; },
  keepalive: (l, o) => {
    const v = l.string();
    o.keep_alive = v === 'off' ? { enabled: false } : { enabled: true, idle_timeout: parseDuration(l.node.args[0]!) };
  },
  versions: (l, o) => { o.versions = l.strings(1, Infinity); },
  max_conns_per_host: (l, o) => { o.max_conns_per_host = parseInt10(l.args(1)[0]!, 0); },
};

function parseHttpTransport(d: Dispenser): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const line of d.block()) {
    const f = TRANSPORT_HTTP[line.name];
    if (!f) throw unknownName('subdirective in transport http', line.name, line.span, Object.keys(TRANSPORT_HTTP));
    f(line, o);
  }
  return o;
}

const LB: Record<string, (l: Dispenser) => Record<string, unknown>> = {
  random: (l) => { l.args(0); return {}; },
  random_choose: (l) => ({ choose: parseInt10(l.args(1)[0]!, 1) }),
  least_conn: (l) => { l.args(0); return {}; },
  round_robin: (l) => { l.args(0); return {}; },
  weighted_round_robin: (l) => ({ weights: l.args(1, Infinity).map((t) => parseInt10(t, 0)) }),
  first: (l) => { l.args(0); return {}; },
  ip_hash: (l) => { l.args(0); return {}; },
  client_ip_hash: (l) => { l.args(0); return {}; },
  uri_hash: (l) => { l.args(0); return {}; },
  header: (l) => ({ field: l.string() }),
  query: (l) => ({ key: l.string() }),
  cookie: (l) => { const a = l.strings(0, 2); return a.length ? { name: a[0], ...(a[1] ? { secret: a[1] } : {}) } : {}; },
};

/** One upstream address as written, with the line that wrote it (for errors). */
interface UpstreamText { line: Dispenser; text: string }
/** One header_up/header_down line, applied in written order at build time. */
interface HeaderOpLine { line: Dispenser; field: string; value: string; replace: string | undefined }

function parseLbPolicy(line: Dispenser): Record<string, unknown> {
  const name = line.nextArg();
  if (!name) throw line.argErr();
  const p = LB[name.text];
  if (!p) throw unknownName('load balancing policy', name.text, name.span, Object.keys(LB));
  return { policy: name.text, ...p(line) };
}

function parseHeaderOp(line: Dispenser): HeaderOpLine {
  const [field, value, replace] = line.strings(1, 3);
  return { line, field: field!, value: value ?? '', replace };
}

function parseTransport(line: Dispenser): Record<string, unknown> {
  const name = line.nextArg();
  if (!name) throw line.argErr();
  line.done();
  if (name.text === 'http') return { protocol: 'http', ...parseHttpTransport(line) };
  const p = transports.get(name.text);
  if (!p) throw unknownName('reverse_proxy transport', name.text, name.span, ['http', ...transports.keys()]);
  return { protocol: name.text, ...p(line) };
}

/**
 * The reverse_proxy block. A key `group.field` lands in that group of the
 * JSON (`lb` → load_balancing, `active`/`passive` → health_checks, `out` →
 * the handler itself); `to`, `header_up`, `header_down` are collected and
 * resolved by buildReverseProxy. php_fastcgi spreads this table into its own.
 */
export const REVERSE_PROXY_TABLE: SubTable = {
  to: { repeat: true, parse: (l): UpstreamText[] => l.args(1, Infinity).map((t) => ({ line: l, text: t.text })) },
  lb_policy: { key: 'lb.selection_policy', parse: parseLbPolicy },
  lb_retries: { key: 'lb.retries', kind: 'uint' },
  lb_try_duration: { key: 'lb.try_duration', kind: 'duration' },
  lb_try_interval: { key: 'lb.try_interval', kind: 'duration' },
  health_uri: { key: 'active.uri' },
  health_path: { key: 'active.path' },
  health_port: { key: 'active.port', parse: (l) => parseInt10(l.args(1)[0]!, 1, 65535) },
  health_interval: { key: 'active.interval', kind: 'duration' },
  health_timeout: { key: 'active.timeout', kind: 'duration' },
  health_status: {
    key: 'active.expect_status',
    parse: (l) => {
      const s = l.string();
      const v = /^\dxx$/i.test(s) ? Number(s[0]) : Number(s);
      if (!Number.isInteger(v)) throw l.err(`bad status value '${s}'`);
      return v;
    },
  },
  health_body: { key: 'active.expect_body' },
  health_method: { key: 'active.method', parse: (l) => l.string().toUpperCase() },
  health_headers: {
    key: 'active.headers',
    parse: (l) => {
      const h: Record<string, string[]> = {};
      for (const sub of l.block()) h[canonicalHeader(sub.name)] = sub.strings(0, Infinity);
      return h;
    },
  },
  health_passes: { key: 'active.passes', kind: 'uint' },
  health_fails: { key: 'active.fails', kind: 'uint' },
  fail_duration: { key: 'passive.fail_duration', kind: 'duration' },
  max_fails: { key: 'passive.max_fails', kind: 'uint' },
  unhealthy_status: { key: 'passive.unhealthy_status', parse: (l) => l.args(1, Infinity).map((t) => parseInt10(t, 100, 999)) },
  unhealthy_latency: { key: 'passive.unhealthy_latency', kind: 'duration' },
  unhealthy_request_count: { key: 'passive.unhealthy_request_count', kind: 'uint' },
  header_up: { repeat: true, parse: parseHeaderOp },
  header_down: { repeat: true, parse: parseHeaderOp },
  flush_interval: {
    key: 'out.flush_interval',
    parse: (l) => {
      const v = l.string();
      return v === '-1' ? -1 : parseDuration(l.node.args[0]!);
    },
  },
  trusted_proxies: { key: 'out.trusted_proxies', kind: 'strings' },
  transport: { key: 'out.transport', parse: parseTransport },
};

/**
 * Turns the first-line upstreams and a block parsed against REVERSE_PROXY_TABLE
 * into the handler's JSON. Keys of `flat` that the table does not own are ignored
 * (a directive that extends the table handles its own keys).
 */
export function buildReverseProxy(d: Dispenser, lineUpstreams: string[], flat: Record<string, unknown>): ReverseProxyConfig {
  const out: ReverseProxyConfig = { handler: 'reverse_proxy' };
  const groups: Record<string, Record<string, unknown>> = { lb: {}, active: {}, passive: {}, out: out as Record<string, unknown> };
  for (const [key, value] of Object.entries(flat)) {
    const dot = key.indexOf('.');
    if (dot < 0) continue;
    const g = groups[key.slice(0, dot)];
    if (g) g[key.slice(dot + 1)] = value;
  }
  const upstreams: { dial: string }[] = [];
  let scheme = '';
  const texts: UpstreamText[] = [
    ...lineUpstreams.map((text) => ({ line: d, text })),
    ...((flat.to as UpstreamText[][] | undefined) ?? []).flat(),
  ];
  for (const { line, text } of texts) {
    const u = parseUpstream(line, text);
    if (u.scheme) {
      const s = u.scheme === 'http' ? '' : u.scheme;
      if (upstreams.length && s !== scheme) {
        throw line.err(`for now, all proxy upstreams must use the same scheme (transport protocol); expecting '${scheme || 'http'}://' but got '${u.scheme}://'`);
      }
      scheme = s;
    }
    upstreams.push({ dial: u.dial });
  }
  if (!upstreams.length) throw d.err('no upstreams specified', undefined, { code: 'ERR_CFG_ARGS' });
  out.upstreams = upstreams;
  if (scheme === 'https') {
    const t = (out.transport ??= { protocol: 'http' }) as Record<string, unknown>;
    t.tls ??= {};
  } else if (scheme === 'h2c') {
    throw d.err('h2c upstreams are not supported by this server');
  }
  const up: HeaderOpsConfig = {};
  const down: HeaderOpsConfig = {};
  for (const [name, ops] of [['header_up', up], ['header_down', down]] as const) {
    for (const h of (flat[name] as HeaderOpLine[] | undefined) ?? []) applyHeaderOp(h.line, ops, h.field, h.value, h.replace, false);
  }
  const { lb, active, passive } = groups as Record<string, Record<string, unknown>>;
  if (Object.keys(lb!).length) out.load_balancing = lb as ReverseProxyConfig['load_balancing'];
  if (Object.keys(active!).length || Object.keys(passive!).length) {
    out.health_checks = {
      ...(Object.keys(active!).length ? { active } : {}),
      ...(Object.keys(passive!).length ? { passive } : {}),
    } as ReverseProxyConfig['health_checks'];
  }
  if (Object.keys(up).length || Object.keys(down).length) {
    out.headers = { ...(Object.keys(up).length ? { request: up } : {}), ...(Object.keys(down).length ? { response: down } : {}) };
  }
  return out;
}

export function parseReverseProxy(d: Dispenser): ReverseProxyConfig {
  const lineUpstreams = d.strings(0, Infinity);
  return buildReverseProxy(d, lineUpstreams, parseBlock(d, REVERSE_PROXY_TABLE, 'reverse_proxy'));
}
