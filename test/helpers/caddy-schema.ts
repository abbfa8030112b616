/**
 * What Caddy's loader accepts, for the modules Quicksilver shares with it:
 * the JSON field names of Caddy's structs (read from the Go sources of
 * caddyserver/caddy and dunglas/mercure, v0.24.2 and later). Caddy decodes module configs
 * strictly, so a field outside these lists (a `@span`, a list where Caddy
 * wants an object) makes `caddy run` refuse the config.
 * `caddyProblems(config)` lists every such field, by JSON path.
 */

const F = (s: string) => new Set(s.split(/\s+/).filter(Boolean));

const ROOT = F('admin logging storage apps');
const ADMIN = F('disabled listen enforce_origin origins config identity remote');
const LOGGING = F('sink logs');
const CUSTOM_LOG = F('writer encoder core level sampling with_caller with_caller_skip with_stacktrace include exclude');
const HTTP_APP = F('http_port https_port grace_period shutdown_delay servers metrics');
const APP_METRICS = F('per_host observe_catchall_hosts otlp');
const SERVER = F(`listen listener_wrappers packet_conn_wrappers read_timeout read_header_timeout read_idle_timeout read_min_rate
  write_timeout write_idle_timeout write_min_rate max_write_chunk idle_timeout keepalive_interval keepalive_idle keepalive_count
  max_header_bytes enable_full_duplex expected_underscore_headers expected_dot_headers routes errors named_routes
  tls_connection_policies automatic_https strict_sni_host trusted_proxies client_ip_headers trusted_proxies_strict
  trusted_proxies_unix logs protocols listen_protocols allow_0rtt metrics`);
const SERVER_LOGS = F('default_logger_name logger_names skip_hosts skip_unmapped_hosts should_log_credentials');
const ROUTE = F('group match handle terminal');
const TLS_APP = F('certificates automation session_tickets cache disable_ocsp_stapling disable_storage_check disable_storage_clean encrypted_client_hello dns resolvers');
const AUTOMATION = F('policies on_demand ocsp_interval renew_interval storage_clean_interval');
const POLICY = F('subjects issuers get_certificate must_staple renewal_window_ratio key_type storage on_demand reuse_private_keys disable_ocsp_stapling ocsp_overrides');
const CONN_POLICY = F('match certificate_selection cipher_suites curves alpn protocol_min protocol_max drop client_authentication default_sni fallback_sni insecure_secrets_log handshake_context');
const CERT_FILE = F('certificate key format tags');

/** Handler modules (`handler` is the inline key). `undefined` = any field (vars). */
const HANDLERS: Record<string, Set<string> | undefined> = {
  subroute: F('routes errors'),
  vars: undefined,
  static_response: F('status_code headers body close abort'),
  encode: F('encodings prefer minimum_length match'),
  headers: F('request response'),
  metrics: F('disable_openmetrics'),
  file_server: F('fs root hide index_names browse canonical_uris status_code pass_thru precompressed precompressed_order etag_file_extensions'),
  rewrite: F('method uri strip_path_prefix strip_path_suffix uri_substring path_regexp query'),
  mercure: F(`name anonymous subscriptions debugger playground write_timeout dispatch_timeout heartbeat max_request_body_size issuers
    publisher_jwt publisher_jwks_url subscriber_jwt subscriber_jwks_url publish_origins cors_origins topic_matcher_cache_size
    subscriber_list_cache_size cookie_name public_urls resource_identifier protocol_version_compatibility transport transport_url
    demo ui cache cache_shard_size`), // the last four: v0.24.2's names
};
const HEADER_OPS = F('add set delete replace');
const RESP_HEADER_OPS = F('add set delete replace require deferred');
const JWT = F('key alg');
const ENCODERS: Record<string, Set<string>> = { gzip: F('level'), zstd: F('level checksum'), br: F('quality window') };
const LOG_ENCODERS: Record<string, Set<string>> = { json: F(''), console: F(''), filter: F('wrap fields') };
const LOG_WRITERS: Record<string, Set<string>> = {
  stdout: F(''), stderr: F(''), discard: F(''),
  file: F('filename mode dir_mode roll roll_size_mb roll_interval roll_minutes roll_at roll_gzip roll_compression roll_local_time roll_keep roll_keep_days backup_time_format'),
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every field of `config` that Caddy's strict decoder would refuse, as `path: why`. */
export function caddyProblems(config: unknown): string[] {
  const out: string[] = [];
  const fields = (at: string, v: unknown, allowed: Set<string>, skip: string[] = []) => {
    if (!isObj(v)) { out.push(`${at}: expected an object`); return false; }
    for (const k of Object.keys(v)) if (!allowed.has(k) && !skip.includes(k)) out.push(`${at}.${k}: unknown field`);
    return true;
  };
  const routes = (at: string, list: unknown) => {
    if (list === undefined) return;
    if (!Array.isArray(list)) { out.push(`${at}: expected a list`); return; }
    list.forEach((r, i) => {
      if (!fields(`${at}[${i}]`, r, ROUTE)) return;
      const handle = (r as Obj).handle;
      if (handle !== undefined && !Array.isArray(handle)) out.push(`${at}[${i}].handle: expected a list`);
      for (const [j, h] of (Array.isArray(handle) ? handle : []).entries()) handler(`${at}[${i}].handle[${j}]`, h);
    });
  };
  const handler = (at: string, h: unknown) => {
    if (!isObj(h) || typeof h.handler !== 'string') { out.push(`${at}: a handler needs a "handler" name`); return; }
    if (!(h.handler in HANDLERS)) return; // a module Caddy has and Quicksilver does not check here
    const allowed = HANDLERS[h.handler];
    if (allowed) fields(at, h, allowed, ['handler']);
    else if ('@span' in h) out.push(`${at}.@span: unknown field`);
    if (h.handler === 'subroute') { routes(`${at}.routes`, h.routes); routes(`${at}.errors.routes`, (h.errors as Obj | undefined)?.routes); }
    if (h.handler === 'headers') {
      if (h.request !== undefined) fields(`${at}.request`, h.request, HEADER_OPS);
      if (h.response !== undefined) fields(`${at}.response`, h.response, RESP_HEADER_OPS);
    }
    if (h.handler === 'encode' && isObj(h.encodings)) {
      for (const [name, enc] of Object.entries(h.encodings)) if (ENCODERS[name]) fields(`${at}.encodings.${name}`, enc, ENCODERS[name]!);
    }
    if (h.handler === 'mercure') {
      for (const k of ['publisher_jwt', 'subscriber_jwt']) if (h[k] !== undefined) fields(`${at}.${k}`, h[k], JWT);
    }
  };
  const encoder = (at: string, e: unknown) => {
    if (!isObj(e)) { out.push(`${at}: expected an object`); return; }
    const allowed = LOG_ENCODERS[String(e.format)];
    if (!allowed) return;
    fields(at, e, allowed, ['format']);
    if (e.wrap !== undefined) encoder(`${at}.wrap`, e.wrap);
  };

  if (!fields('', config, ROOT)) return out;
  const c = config as Obj;
  if (c.admin !== undefined) fields('admin', c.admin, ADMIN);
  if (c.logging !== undefined && fields('logging', c.logging, LOGGING)) {
    const logs = (c.logging as Obj).logs;
    if (logs !== undefined && isObj(logs)) {
      for (const [name, l] of Object.entries(logs)) {
        if (!fields(`logging.logs.${name}`, l, CUSTOM_LOG)) continue;
        const w = (l as Obj).writer;
        if (isObj(w) && LOG_WRITERS[String(w.output)]) fields(`logging.logs.${name}.writer`, w, LOG_WRITERS[String(w.output)]!, ['output']);
        if ((l as Obj).encoder !== undefined) encoder(`logging.logs.${name}.encoder`, (l as Obj).encoder);
      }
    } else if (logs !== undefined) out.push('logging.logs: expected an object of named logs');
  }
  const apps = isObj(c.apps) ? c.apps : {};
  if (apps.http !== undefined && fields('apps.http', apps.http, HTTP_APP)) {
    const http = apps.http as Obj;
    if (http.metrics !== undefined) fields('apps.http.metrics', http.metrics, APP_METRICS);
    for (const [name, s] of Object.entries(isObj(http.servers) ? http.servers : {})) {
      const at = `apps.http.servers.${name}`;
      if (!fields(at, s, SERVER)) continue;
      const srv = s as Obj;
      routes(`${at}.routes`, srv.routes);
      if (srv.errors !== undefined) routes(`${at}.errors.routes`, (srv.errors as Obj).routes);
      if (srv.logs !== undefined) fields(`${at}.logs`, srv.logs, SERVER_LOGS);
      if (srv.trusted_proxies !== undefined && !isObj(srv.trusted_proxies)) out.push(`${at}.trusted_proxies: expected a module object`);
      for (const [i, p] of (Array.isArray(srv.tls_connection_policies) ? srv.tls_connection_policies : []).entries()) fields(`${at}.tls_connection_policies[${i}]`, p, CONN_POLICY);
    }
  }
  if (apps.tls !== undefined && fields('apps.tls', apps.tls, TLS_APP)) {
    const tls = apps.tls as Obj;
    if (tls.automation !== undefined && fields('apps.tls.automation', tls.automation, AUTOMATION)) {
      for (const [i, p] of (((tls.automation as Obj).policies as unknown[]) ?? []).entries()) fields(`apps.tls.automation.policies[${i}]`, p, POLICY);
    }
    const files = isObj(tls.certificates) ? tls.certificates.load_files : undefined;
    for (const [i, f] of (Array.isArray(files) ? files : []).entries()) fields(`apps.tls.certificates.load_files[${i}]`, f, CERT_FILE);
  }
  return out;
}
