/**
 * metrics [<matcher>] {
 *     disable_openmetrics
 * }
 * Compiles to `{ handler: "metrics" }`: serves the Prometheus metrics at the
 * matched requests (e.g. `metrics /metrics`).
 *
 * The `metrics` global option: `metrics { per_host; observe_catchall_hosts; otlp }`
 * turns Caddy's HTTP metrics on (`apps.http.metrics`).
 */
import type { HandlerConfig } from '../src/http/handler.ts';
import type { HttpMetricsConfig } from '../src/http/metrics.ts';
import { unknownName } from '../src/host/errors.ts';
import type { Dispenser } from '../src/caddyfile/dispenser.ts';

export function parseMetricsDirective(d: Dispenser): HandlerConfig {
  d.args(0);
  const out: HandlerConfig = { handler: 'metrics' };
  for (const line of d.block()) {
    if (line.name !== 'disable_openmetrics') throw unknownName('subdirective in metrics', line.name, line.span, ['disable_openmetrics']);
    line.args(0);
    out.disable_openmetrics = true;
  }
  return out;
}

export function parseMetricsOption(d: Dispenser): HttpMetricsConfig {
  d.args(0);
  const out: HttpMetricsConfig = {};
  const known = ['per_host', 'observe_catchall_hosts', 'otlp'] as const;
  for (const line of d.block()) {
    const name = known.find((k) => k === line.name);
    if (!name) throw unknownName('subdirective in metrics', line.name, line.span, [...known]);
    line.args(0);
    out[name] = true;
  }
  return out;
}
