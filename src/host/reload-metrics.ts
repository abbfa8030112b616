/**
 * Caddy's config metrics, process-wide (they outlive each config's registry):
 *   caddy_config_last_reload_successful                 1 if the last load succeeded, else 0
 *   caddy_config_last_reload_success_timestamp_seconds  when a config last loaded
 * The Runtime records every load; each config's registry reports the state
 * when scraped, so a failed reload shows 0 while the old config keeps serving.
 */
import { Gauge, type Registry } from 'prom-client';

const state = { successful: 0, timestamp: 0 };

/** Records the outcome of a config load. */
export function recordReload(ok: boolean): void {
  state.successful = ok ? 1 : 0;
  if (ok) state.timestamp = Date.now() / 1000;
}

/** Adds the two gauges to a config's registry. */
export function registerReloadMetrics(registry: Registry): void {
  new Gauge({
    name: 'caddy_config_last_reload_successful', help: 'Whether the last configuration reload attempt was successful.', registers: [registry],
    collect() { this.set(state.successful); },
  });
  new Gauge({
    name: 'caddy_config_last_reload_success_timestamp_seconds', help: 'Timestamp of the last successful configuration reload.', registers: [registry],
    collect() { this.set(state.timestamp); },
  });
}
