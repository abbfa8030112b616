/**
 * The `rate_limit` handler's JSON config (mholt/caddy-ratelimit field names),
 * produced by directives/rate-limit.ts or written by hand in a JSON config.
 */
import type { ModuleConfig } from '../../host/module.ts';
import type { HandlerConfig, MatcherSet } from '../handler.ts';

/** One zone: at most `max_events` events per `window` for each distinct key. */
export interface ZoneConfig {
  /** Request matcher sets (ORed); absent = every request is in the zone. */
  match?: MatcherSet[];
  /** Placeholders resolved per request in ReplaceAll mode; a static key gives one bucket for all clients. */
  key?: string;
  /** Sliding window length: a duration string (`1m`) or nanoseconds. Required, > 0. */
  window?: string | number;
  /** Events allowed within the window. 0 refuses everything. */
  max_events?: number;
  /** When the key is an IPv4 address, group it by this prefix length (1–32; 0/absent = off). */
  ipv4_prefix?: number;
  /** When the key is an IPv6 address, group it by this prefix length (1–128; 0/absent = off). */
  ipv6_prefix?: number;
}

/** Presence enables distributed mode (state shared through storage). */
export interface DistributedConfig {
  /** How often this instance writes its state. Default 5s. */
  write_interval?: string | number;
  /** How often other instances' states are read. Default 5s. */
  read_interval?: string | number;
  /** Delete other instances' state files older than this. Default: never. */
  purge_age?: string | number;
}

export interface RateLimitConfig extends HandlerConfig {
  handler: 'rate_limit';
  /** Zones by name. Names are process-wide: two handlers with one zone name share its state. */
  rate_limits?: Record<string, ZoneConfig>;
  /** Fraction added at random to Retry-After: 0.2 = up to +20%. */
  jitter?: number;
  /** How often expired keys are dropped. Default 1m. */
  sweep_interval?: string | number;
  distributed?: DistributedConfig;
  /** Storage for distributed mode (`{ module: "redis", … }`); default: the global storage. */
  storage?: ModuleConfig & { module: string };
  /** Add the key to the "rate limit exceeded" log line (keys may be personal data). */
  log_key?: boolean;
  /** Do not record Prometheus metrics for this handler. */
  disable_metrics?: boolean;
}
