/**
 * Adapt-time placeholder shorthands (caddy.md §3.3): `{host}` → `{http.request.host}`
 * and so on, applied to every token of a site block (not to global options).
 */
const PLAIN: Record<string, string> = {
  host: 'http.request.host', hostport: 'http.request.hostport', port: 'http.request.port',
  method: 'http.request.method', uri: 'http.request.uri', path: 'http.request.uri.path',
  dir: 'http.request.uri.path.dir', file: 'http.request.uri.path.file', query: 'http.request.uri.query',
  '?query': 'http.request.uri.?query', '%uri': 'http.request.uri_escaped', '%path': 'http.request.uri.path_escaped',
  '%query': 'http.request.uri.query_escaped',
  orig_uri: 'http.request.orig_uri', orig_path: 'http.request.orig_uri.path', orig_dir: 'http.request.orig_uri.path.dir',
  orig_file: 'http.request.orig_uri.path.file', orig_query: 'http.request.orig_uri.query',
  'orig_?query': 'http.request.orig_uri.?query', orig_method: 'http.request.orig_method',
  remote: 'http.request.remote', remote_host: 'http.request.remote.host', remote_port: 'http.request.remote.port',
  scheme: 'http.request.scheme', uuid: 'http.request.uuid', upstream_hostport: 'http.reverse_proxy.upstream.hostport',
  client_ip: 'http.vars.client_ip',
  tls_cipher: 'http.request.tls.cipher_suite', tls_version: 'http.request.tls.version',
  tls_client_fingerprint: 'http.request.tls.client.fingerprint', tls_client_issuer: 'http.request.tls.client.issuer',
  tls_client_serial: 'http.request.tls.client.serial', tls_client_subject: 'http.request.tls.client.subject',
  tls_client_certificate_pem: 'http.request.tls.client.certificate_pem',
  tls_client_certificate_der_base64: 'http.request.tls.client.certificate_der_base64',
};

const PREFIXED: [RegExp, string][] = [
  [/^header\.(.+)$/, 'http.request.header.$1'],
  [/^cookie\.(.+)$/, 'http.request.cookie.$1'],
  [/^labels\.(.+)$/, 'http.request.host.labels.$1'],
  [/^path\.(.+)$/, 'http.request.uri.path.$1'],
  [/^file\.(.+)$/, 'http.request.uri.path.file.$1'],
  [/^query\.(.+)$/, 'http.request.uri.query.$1'],
  [/^re\.(.+)$/, 'http.regexp.$1'],
  [/^vars\.(.+)$/, 'http.vars.$1'],
  [/^rp\.(.+)$/, 'http.reverse_proxy.$1'],
  [/^resp\.(.+)$/, 'http.intercept.$1'],
  [/^err\.(.+)$/, 'http.error.$1'],
  [/^file_match\.(.+)$/, 'http.matchers.file.$1'],
];

/** Rewrites every shorthand placeholder in text; escaped braces (`\{`) are left alone. */
export function rewriteShorthands(text: string): string {
  if (!text.includes('{')) return text;
  return text.replace(/(\\?)\{([^{}\s]+)\}/g, (whole, esc: string, key: string) => {
    if (esc) return whole;
    const plain = PLAIN[key];
    if (plain) return `{${plain}}`;
    for (const [re, to] of PREFIXED) if (re.test(key)) return `{${key.replace(re, to)}}`;
    return whole;
  });
}
