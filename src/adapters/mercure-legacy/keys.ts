/**
 * The keys of the deprecated non-Caddy Mercure server (`mercure.yaml`,
 * `mercure.json`, or the same names upper-cased as environment variables),
 * the commercial hub's `license` among them. Each key's kind says how its
 * value is read. README's "Legacy configuration" table maps each key to its
 * Caddyfile equivalent (test/cli/legacy-config.test.ts keeps the two in step).
 */
export type LegacyKind = 'string' | 'bool' | 'duration' | 'list' | 'uint';

export interface LegacyKey { kind: LegacyKind }

export const LEGACY_KEYS = {
  addr: { kind: 'string' },
  jwt_key: { kind: 'string' },
  jwt_algorithm: { kind: 'string' },
  publisher_jwt_key: { kind: 'string' },
  publisher_jwt_algorithm: { kind: 'string' },
  subscriber_jwt_key: { kind: 'string' },
  subscriber_jwt_algorithm: { kind: 'string' },
  allow_anonymous: { kind: 'bool' },
  cors_allowed_origins: { kind: 'list' },
  publish_allowed_origins: { kind: 'list' },
  transport_url: { kind: 'string' },
  heartbeat_interval: { kind: 'duration' },
  write_timeout: { kind: 'duration' },
  dispatch_timeout: { kind: 'duration' },
  read_timeout: { kind: 'duration' },
  read_header_timeout: { kind: 'duration' },
  demo: { kind: 'bool' },
  subscriptions: { kind: 'bool' },
  tcsz: { kind: 'uint' },
  debug: { kind: 'bool' },
  compress: { kind: 'bool' },
  use_forwarded_headers: { kind: 'bool' },
  cert_file: { kind: 'string' },
  key_file: { kind: 'string' },
  acme_hosts: { kind: 'list' },
  acme_cert_dir: { kind: 'string' },
  acme_http01_addr: { kind: 'string' },
  metrics_enabled: { kind: 'bool' },
  metrics_addr: { kind: 'string' },
  license: { kind: 'string' },
} as const satisfies Record<string, LegacyKey>;

export type LegacyKeyName = keyof typeof LEGACY_KEYS;

export const LEGACY_KEY_NAMES = Object.keys(LEGACY_KEYS) as LegacyKeyName[];

/** Top-level keys of Caddy's own JSON config: a file holding them was meant for `--adapter json`. */
export const CADDY_JSON_KEYS = new Set(['admin', 'apps', 'logging', 'storage']);
