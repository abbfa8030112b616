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

export function parseReverseProxy(d: Dispenser): ReverseProxyConfig {
  const out: ReverseProxyConfig = { handler: 'reverse_proxy' };
  const upstreams: { dial: string }[] = [];
  let scheme = '';
  const addUpstreams = (line: Dispenser, texts: string[]) => {
    for (const t of texts) {
      const u = parseUpstream(line, t);
      if (u.scheme) {
        const s = u.scheme === 'http' ? '' : u.scheme;
        if (upstreams.length && s !== scheme) {
          throw line.err(`for now, all proxy upstreams must use the same scheme (transport protocol); expecting '${scheme || 'http'}://' but got '${u.scheme}://'`);
        }
        scheme = s;
      }
      upstreams.push({ dial: u.dial });
    }
  };
  addUpstreams(d, d.strings(0, Infinity));
  const lb: NonNullable<ReverseProxyConfig['load_balancing']> = {};
  const active: Record<string, unknown> = {};
  const passive: Record<string, unknown> = {};
  const up: HeaderOpsConfig = {};
  const down: HeaderOpsConfig = {};
  for (const line of d.block()) {
    const dur = () => parseDuration(line.args(1)[0]!);
    const int = () => parseInt10(line.args(1)[0]!, 0);
    switch (line.name) {
      case 'to': addUpstreams(line, line.strings(1, Infinity)); break;
      case 'lb_policy': {
        const name = line.nextArg();
        if (!name) throw line.argErr();
        const p = LB[name.text];
        if (!p) throw unknownName('load balancing policy', name.text, name.span, Object.keys(LB));
        lb.selection_policy = { policy: name.text, ...p(line) };
        break;
      }
      case 'lb_retries': lb.retries = int(); break;
      case 'lb_try_duration': lb.try_duration = dur(); break;
      case 'lb_try_interval': lb.try_interval = dur(); break;
      case 'health_uri': active.uri = line.string(); break;
      case 'health_path': active.path = line.string(); break;
      case 'health_port': active.port = parseInt10(line.args(1)[0]!, 1, 65535); break;
      case 'health_interval': active.interval = dur(); break;
      case 'health_timeout': active.timeout = dur(); break;
      case 'health_status': {
        const s = line.string();
        const v = /^\dxx$/i.test(s) ? Number(s[0]) : Number(s);
        if (!Number.isInteger(v)) throw line.err(`bad status value '${s}'`);
        active.expect_status = v;
        break;
      }
      case 'health_body': active.expect_body = line.string(); break;
      case 'health_method': active.method = line.string().toUpperCase(); break;
      case 'health_headers': {
        const h: Record<string, string[]> = {};
        for (const l of line.block()) h[canonicalHeader(l.name)] = l.strings(0, Infinity);
        active.headers = h;
        break;
      }
      case 'health_passes': active.passes = int(); break;
      case 'health_fails': active.fails = int(); break;
      case 'fail_duration': passive.fail_duration = dur(); break;
      case 'max_fails': passive.max_fails = int(); break;
      case 'unhealthy_status': passive.unhealthy_status = line.args(1, Infinity).map((t) => parseInt10(t, 100, 999)); break;
      case 'unhealthy_latency': passive.unhealthy_latency = dur(); break;
      case 'unhealthy_request_count': passive.unhealthy_request_count = int(); break;
      case 'header_up': case 'header_down': {
        const [f, v, r] = line.strings(1, 3);
        applyHeaderOp(line, line.name === 'header_up' ? up : down, f!, v ?? '', r, false);
        break;
      }
      case 'flush_interval': {
        const v = line.string();
        out.flush_interval = v === '-1' ? -1 : parseDuration(line.node.args[0]!);
        break;
      }
      case 'trusted_proxies': out.trusted_proxies = line.strings(1, Infinity); break;
      case 'transport': {
        const name = line.nextArg();
        if (!name) throw line.argErr();
        line.done();
        if (name.text === 'http') out.transport = { protocol: 'http', ...parseHttpTransport(line) };
        else {
          const p = transports.get(name.text);
          if (!p) throw unknownName('reverse_proxy transport', name.text, name.span, ['http', ...transports.keys()]);
          out.transport = { protocol: name.text, ...p(line) };
        }
        break;
      }
      default:
        throw unknownName('subdirective in reverse_proxy', line.name, line.span, [
          'to', 'lb_policy', 'lb_retries', 'lb_try_duration', 'lb_try_interval', 'health_uri', 'health_port', 'health_interval',
          'health_timeout', 'health_status', 'health_body', 'health_method', 'health_headers', 'health_passes', 'health_fails',
          'fail_duration', 'max_fails', 'unhealthy_status', 'unhealthy_latency', 'unhealthy_request_count', 'header_up',
          'header_down', 'flush_interval', 'trusted_proxies', 'transport',
        ]);
    }
  }
  if (!upstreams.length) throw d.err('no upstreams specified', undefined, { code: 'ERR_CFG_ARGS' });
  out.upstreams = upstreams;
  if (scheme === 'https') {
    const t = (out.transport ??= { protocol: 'http' }) as Record<string, unknown>;
    t.tls ??= {};
  } else if (scheme === 'h2c') {
    throw d.err('h2c upstreams are not supported by this server');
  }
  if (Object.keys(lb).length) out.load_balancing = lb;
  if (Object.keys(active).length || Object.keys(passive).length) {
    out.health_checks = {
      ...(Object.keys(active).length ? { active } : {}),
      ...(Object.keys(passive).length ? { passive } : {}),
    } as ReverseProxyConfig['health_checks'];
  }
  if (Object.keys(up).length || Object.keys(down).length) {
    out.headers = { ...(Object.keys(up).length ? { request: up } : {}), ...(Object.keys(down).length ? { response: down } : {}) };
  }
  return out;
}
