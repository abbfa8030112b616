/**
 * The keys of the deprecated non-Caddy Mercure server (`mercure.yaml`,
 * `mercure.json`, or the same names upper-cased as environment variables),
 * the commercial hub's `license` among them. Each key's kind says how its
 * value is read; `caddyfile` is what the README shows as its equivalent.
 */
export type LegacyKind = 'string' | 'bool' | 'duration' | 'list' | 'uint';

export interface LegacyKey { kind: LegacyKind; caddyfile: string }

export const LEGACY_KEYS = {
  addr: { kind: 'string', caddyfile: 'the site address, e.g. `:3000 {` (default `:80`, `:443` with `cert_file`)' },
  jwt_key: { kind: 'string', caddyfile: '`publisher_jwt <key>` and `subscriber_jwt <key>` (when the specific keys are unset)' },
  jwt_algorithm: { kind: 'string', caddyfile: 'second argument of `publisher_jwt` and `subscriber_jwt` (default `HS256`)' },
  publisher_jwt_key: { kind: 'string', caddyfile: '`publisher_jwt <key>`' },
  publisher_jwt_algorithm: { kind: 'string', caddyfile: '`publisher_jwt <key> <alg>`' },
  subscriber_jwt_key: { kind: 'string', caddyfile: '`subscriber_jwt <key>`' },
  subscriber_jwt_algorithm: { kind: 'string', caddyfile: '`subscriber_jwt <key> <alg>`' },
  allow_anonymous: { kind: 'bool', caddyfile: '`anonymous`' },
  cors_allowed_origins: { kind: 'list', caddyfile: '`cors_origins <origins...>`' },
  publish_allowed_origins: { kind: 'list', caddyfile: '`publish_origins <origins...>`' },
  transport_url: { kind: 'string', caddyfile: '`transport_url <url>` (deprecated; better `transport <name> { … }`); unset: `bolt` in the data directory' },
  heartbeat_interval: { kind: 'duration', caddyfile: '`heartbeat <duration>` (default `40s`)' },
  write_timeout: { kind: 'duration', caddyfile: '`write_timeout <duration>` (default `600s`)' },
  dispatch_timeout: { kind: 'duration', caddyfile: '`dispatch_timeout <duration>` (default `5s`)' },
  read_timeout: { kind: 'duration', caddyfile: '`servers { timeouts { read_body <duration> } }` (accepted, no effect yet: a warning)' },
  read_header_timeout: { kind: 'duration', caddyfile: '`servers { timeouts { read_header <duration> } }` (accepted, no effect yet: a warning)' },
  demo: { kind: 'bool', caddyfile: '`demo`' },
  subscriptions: { kind: 'bool', caddyfile: '`subscriptions`' },
  tcsz: { kind: 'uint', caddyfile: '`topic_selector_cache <size>`' },
  debug: { kind: 'bool', caddyfile: 'the `debug` global option' },
  compress: { kind: 'bool', caddyfile: '`encode gzip` in the site' },
  use_forwarded_headers: { kind: 'bool', caddyfile: '`servers { trusted_proxies static 0.0.0.0/0 ::/0 }`' },
  cert_file: { kind: 'string', caddyfile: '`tls <cert_file> <key_file>`' },
  key_file: { kind: 'string', caddyfile: '`tls <cert_file> <key_file>`' },
  acme_hosts: { kind: 'list', caddyfile: 'site addresses with host names (automatic HTTPS); not supported: an error' },
  acme_cert_dir: { kind: 'string', caddyfile: 'the data directory (`XDG_DATA_HOME`); ignored with a warning' },
  acme_http01_addr: { kind: 'string', caddyfile: '`http_port`; ignored with a warning' },
  metrics_enabled: { kind: 'bool', caddyfile: 'a site `http://<metrics_addr> { metrics /metrics }`' },
  metrics_addr: { kind: 'string', caddyfile: 'the address of that metrics site (default `127.0.0.1:9764`)' },
  license: { kind: 'string', caddyfile: '`license <key>` (accepted and ignored; nothing is gated)' },
} as const satisfies Record<string, LegacyKey>;

export type LegacyKeyName = keyof typeof LEGACY_KEYS;

export const LEGACY_KEY_NAMES = Object.keys(LEGACY_KEYS) as LegacyKeyName[];

/** Top-level keys of Caddy's own JSON config: a file holding them was meant for `--adapter json`. */
export const CADDY_JSON_KEYS = new Set(['admin', 'apps', 'logging', 'storage']);
