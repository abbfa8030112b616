/**
 * caddy-ratelimit's Prometheus metrics (`caddy_rate_limit_*`), registered once
 * per registry: every rate_limit handler of a config shares the collectors, as
 * the plugin shares its package-level ones.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface RateLimitMetrics {
  requests: Counter<'zone' | 'key'>;
  declined: Counter<'zone' | 'key'>;
  processTime: Histogram<'zone' | 'key'>;
  keys: Gauge<'zone'>;
  config: Counter<'zone' | 'max_events' | 'window' | 'ipv4_prefix' | 'ipv6_prefix'>;
}

function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** The collectors in registry, created on first use. */
export function rateLimitMetrics(registry: Registry): RateLimitMetrics {
  const registers = [registry];
  return {
    requests: once(registry, 'caddy_rate_limit_requests_total', () => new Counter({
      name: 'caddy_rate_limit_requests_total', registers, labelNames: ['zone', 'key'],
      help: 'Total number of requests that passed through Rate Limit module (both declined & processed).',
    })),
    declined: once(registry, 'caddy_rate_limit_declined_requests_total', () => new Counter({
      name: 'caddy_rate_limit_declined_requests_total', registers, labelNames: ['zone', 'key'],
      help: 'Total number of requests for which rate limit was applied (Declined with HTTP 429 status code returned).',
    })),
    processTime: once(registry, 'caddy_rate_limit_process_time_seconds', () => new Histogram({
      name: 'caddy_rate_limit_process_time_seconds', registers, labelNames: ['zone', 'key'],
      help: 'A time taken to process rate limiting for each request.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    })),
    keys: once(registry, 'caddy_rate_limit_keys_total', () => new Gauge({
      name: 'caddy_rate_limit_keys_total', registers, labelNames: ['zone'],
      help: 'Total number of keys that each RL zone contains. (This metric is collected in the background for each zone.)',
    })),
    config: once(registry, 'caddy_rate_limit_config', () => new Counter({
      name: 'caddy_rate_limit_config', registers, labelNames: ['zone', 'max_events', 'window', 'ipv4_prefix', 'ipv6_prefix'],
      help: 'Shows configuration of the rate limiter module. Reported only once on bootstrap as configuration is not dynamically configurable.',
    })),
  };
}
