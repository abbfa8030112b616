/**
 * The `http.handlers.mercure` JSON config: the reference hub's keys, so a
 * Caddy JSON config of the Go hub loads unchanged. Produced by
 * directives/mercure.ts; durations are strings (`40s`) or nanoseconds.
 */
import type { ModuleConfig } from '../host/module.ts';

/** A static verification key. `key` may hold `{env.X}` placeholders, resolved at provision. */
export interface JwtKeyConfig {
  key: string;
  /** Default `HS256`. */
  alg?: string;
}

/** A transport block: `{ "name": "bolt", …options }`. */
export interface TransportConfig {
  name: string;
  [option: string]: unknown;
}

export interface MercureConfig extends ModuleConfig {
  handler?: 'mercure';
  /** Hub name for `/mercure/health/<name>/…`. Default `default`. */
  name?: string;
  /** Allow subscribers without a token. */
  anonymous?: boolean;
  /** Subscription events and the subscriptions API. */
  subscriptions?: boolean;
  /** UI plus the demo endpoints. */
  demo?: boolean;
  /** The debugging UI at /.well-known/mercure/ui/. */
  ui?: boolean;
  /** Maximum stream life (randomised 80–100 %). Default `600s`; 0 disables. */
  write_timeout?: string | number;
  /** Per-write deadline. Default `5s`; 0 disables. */
  dispatch_timeout?: string | number;
  /** Idle interval between `:\n` comments. Default `40s`; 0 disables. */
  heartbeat?: string | number;
  /**
   * Not in the reference hub. Least time between two flush rounds of the SSE
   * streams: a stream gets everything queued in that time in one write (one
   * syscall). An update arriving after a quiet period still goes out at once.
   * `0` flushes every event-loop turn. Default `DEFAULTS.flushIntervalMs`.
   */
  flush_interval?: string | number;
  publisher_jwt?: JwtKeyConfig;
  subscriber_jwt?: JwtKeyConfig;
  /** JWK Set URL (http(s) or file://); wins over publisher_jwt. */
  publisher_jwks_url?: string;
  subscriber_jwks_url?: string;
  /** Origins allowed for cookie-authenticated publishing; `*` = all. */
  publish_origins?: string[];
  /** Enables CORS for these origins. */
  cors_origins?: string[];
  /** Topic selector match cache: `size` entries (default 100000; ≤ 0 keeps the default). The shard keys are accepted for compatibility. */
  cache?: { size?: number; max_entries_per_shard?: number; shard_count?: number };
  /** Accepted for compatibility; the subscriber index needs no cache. Must be ≥ 0. */
  subscriber_list_cache_size?: number;
  /** Auth cookie name. Default `mercureAuthorization`. */
  cookie_name?: string;
  /** Only 7 is accepted: legacy Last-Event-ID query param and public-update authorisation. */
  protocol_version_compatibility?: number;
  transport?: TransportConfig;
  /** Deprecated URL form: `local://local`, `bolt:///path.db?size=…`. */
  transport_url?: string;
  /** Ignored (compatibility). */
  cache_shard_size?: number;
  /** Accepted and ignored: commercial-build configs load unchanged; nothing is gated. */
  license?: string;
}

export const DEFAULTS = {
  name: 'default',
  heartbeatMs: 40_000,
  writeTimeoutMs: 600_000,
  dispatchTimeoutMs: 5_000,
  flushIntervalMs: 20,
  cookieName: 'mercureAuthorization',
  alg: 'HS256',
  selectorCacheSize: 100_000,
} as const;

/** Every key the module accepts (strict decode, as Caddy's). */
export const CONFIG_KEYS: ReadonlySet<string> = new Set([
  'handler', '@span', 'name', 'anonymous', 'subscriptions', 'demo', 'ui', 'write_timeout', 'dispatch_timeout', 'heartbeat',
  'flush_interval',
  'publisher_jwt', 'subscriber_jwt', 'publisher_jwks_url', 'subscriber_jwks_url', 'publish_origins', 'cors_origins',
  'cache', 'subscriber_list_cache_size', 'cookie_name', 'protocol_version_compatibility', 'transport', 'transport_url',
  'cache_shard_size', 'license',
]);

/** Caddy's provision-time replacer for the placeholders a key may hold: `{env.NAME}` (unknown ones stay). */
export function replaceEnv(s: string, env: NodeJS.ProcessEnv = process.env): string {
  return s.replace(/\{env\.([^{}]+)\}/g, (_m, name: string) => env[name] ?? '');
}
