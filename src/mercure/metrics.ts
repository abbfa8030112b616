/**
 * The hub's Prometheus collectors, with the reference names and help texts.
 * Several hubs of one config share them (one registry, registered once).
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface HubMetrics {
  subscriberConnected(): void;
  subscriberDisconnected(): void;
  updatePublished(): void;
}

function getOrCreate<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** Registers (or reuses) mercure_subscribers_total, mercure_subscribers_connected and mercure_updates_total. */
export function hubMetrics(registry: Registry): HubMetrics {
  const total = getOrCreate(registry, 'mercure_subscribers_total', () =>
    new Counter({ name: 'mercure_subscribers_total', help: 'Total number of handled subscribers', registers: [registry] }));
  const connected = getOrCreate(registry, 'mercure_subscribers_connected', () =>
    new Gauge({ name: 'mercure_subscribers_connected', help: 'The current number of running subscribers', registers: [registry] }));
  const updates = getOrCreate(registry, 'mercure_updates_total', () =>
    new Counter({ name: 'mercure_updates_total', help: 'Total number of handled updates', registers: [registry] }));
  return {
    subscriberConnected() { total.inc(); connected.inc(); },
    subscriberDisconnected() { connected.dec(); },
    updatePublished() { updates.inc(); },
  };
}
