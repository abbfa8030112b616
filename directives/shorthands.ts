/**
 * Adapt-time placeholder shorthands (caddy.md §3.3), as httpcaddyfile applies
 * them to every token of a site block: exact forms (`{host}`, `{path}`, …)
 * first, then the regex forms (`{header.X}`, `{query.X}`, `{err.X}`, …).
 */

/** Adapt-time shorthands (caddy.md §3.3), exact strings first, then the regex forms. */
const SHORTHANDS: [string, string][] = [
  ['{host}', '{http.request.host}'], ['{hostport}', '{http.request.hostport}'], ['{port}', '{http.request.port}'],
  ['{orig_method}', '{http.request.orig_method}'], ['{orig_uri}', '{http.request.orig_uri}'],
  ['{orig_path}', '{http.request.orig_uri.path}'], ['{orig_dir}', '{http.request.orig_uri.path.dir}'],
  ['{orig_file}', '{http.request.orig_uri.path.file}'], ['{orig_query}', '{http.request.orig_uri.query}'],
  ['{orig_?query}', '{http.request.orig_uri.prefixed_query}'], ['{method}', '{http.request.method}'],
  ['{uri}', '{http.request.uri}'], ['{%uri}', '{http.request.uri_escaped}'], ['{path}', '{http.request.uri.path}'],
  ['{%path}', '{http.request.uri.path_escaped}'], ['{dir}', '{http.request.uri.path.dir}'],
  ['{file}', '{http.request.uri.path.file}'], ['{query}', '{http.request.uri.query}'],
  ['{%query}', '{http.request.uri.query_escaped}'], ['{?query}', '{http.request.uri.prefixed_query}'],
  ['{remote}', '{http.request.remote}'], ['{remote_host}', '{http.request.remote.host}'],
  ['{remote_port}', '{http.request.remote.port}'], ['{scheme}', '{http.request.scheme}'], ['{uuid}', '{http.request.uuid}'],
  ['{tls_cipher}', '{http.request.tls.cipher_suite}'], ['{tls_version}', '{http.request.tls.version}'],
  ['{tls_client_fingerprint}', '{http.request.tls.client.fingerprint}'], ['{tls_client_issuer}', '{http.request.tls.client.issuer}'],
  ['{tls_client_serial}', '{http.request.tls.client.serial}'], ['{tls_client_subject}', '{http.request.tls.client.subject}'],
  ['{tls_client_certificate_pem}', '{http.request.tls.client.certificate_pem}'],
  ['{tls_client_certificate_der_base64}', '{http.request.tls.client.certificate_der_base64}'],
  ['{upstream_hostport}', '{http.reverse_proxy.upstream.hostport}'], ['{client_ip}', '{http.vars.client_ip}'],
];
const SHORTHAND_MAP = new Map(SHORTHANDS);
const SHORTHAND_RE = new RegExp(SHORTHANDS.map(([k]) => k.replace(/[{}?%]/g, '\\$&')).join('|'), 'g');
const SHORTHAND_REGEXPS: [RegExp, string][] = [
  [/\{header\.([\w-]*)\}/g, '{http.request.header.$1}'], [/\{cookie\.([\w-]*)\}/g, '{http.request.cookie.$1}'],
  [/\{labels\.([\w-]*)\}/g, '{http.request.host.labels.$1}'], [/\{path\.([\w-]*)\}/g, '{http.request.uri.path.$1}'],
  [/\{file\.([\w-]*)\}/g, '{http.request.uri.path.file.$1}'], [/\{query\.([\w-]*)\}/g, '{http.request.uri.query.$1}'],
  [/\{re\.([\w.-]*)\}/g, '{http.regexp.$1}'], [/\{vars\.([\w-]*)\}/g, '{http.vars.$1}'],
  [/\{rp\.([\w.-]*)\}/g, '{http.reverse_proxy.$1}'], [/\{resp\.([\w.-]*)\}/g, '{http.intercept.$1}'],
  [/\{err\.([\w.-]*)\}/g, '{http.error.$1}'], [/\{file_match\.([\w-]*)\}/g, '{http.matchers.file.$1}'],
];

/**
 * Rewrites the Caddyfile shorthands (`{host}`, `{path}`, `{header.X}`, `{err.X}`, …)
 * into full placeholder names, as httpcaddyfile does for every site-block token.
 */
export function rewriteShorthands(text: string): string {
  if (!text.includes('{')) return text;
  let out = text.replace(SHORTHAND_RE, (m) => SHORTHAND_MAP.get(m)!);
  for (const [re, to] of SHORTHAND_REGEXPS) out = out.replace(re, to);
  return out;
}
