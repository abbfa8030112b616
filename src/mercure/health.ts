/**
 * Hub health for the admin API (Mercure's `admin.api.mercure_health`):
 * `GET /mercure/health/ready|live` checks every hub, and
 * `/mercure/health/<name>/ready|live` the hubs named `<name>`.
 * Hubs register themselves in the app registry under `mercure.hub.<name>`, and
 * the route itself under `admin:/mercure/health/` (src/runtime/admin.ts serves it).
 */
import type { TransportHealth } from '../transports/core/contract.ts';
import { ADMIN_ROUTE_PREFIX, type AdminRoute } from '../host/services.ts';
import { GoStruct, goMarshal } from './go-json.ts';

/** What a hub exposes to health checks. */
export interface HealthCheckable {
  readonly name: string;
  /** 'live' must answer without waiting on the backend. */
  health(check?: 'live' | 'ready'): Promise<TransportHealth>;
}

const PREFIX = 'mercure.hub.';
const ROUTE_KEY = `${ADMIN_ROUTE_PREFIX}/mercure/health/`;

/**
 * Adds hub to the registry under its name (several hubs may share a name), and
 * the `/mercure/health/` admin route while any hub is registered.
 */
export function registerHub(registry: Map<string, unknown>, hub: HealthCheckable, onError?: (detail: string) => void): void {
  const key = PREFIX + hub.name;
  let set = registry.get(key) as Set<HealthCheckable> | undefined;
  if (!set) registry.set(key, (set = new Set()));
  set.add(hub);
  if (!registry.has(ROUTE_KEY)) registry.set(ROUTE_KEY, healthAdminRoute(registry, onError));
}

/** Removes hub from the registry (and the admin route with the last hub). */
export function unregisterHub(registry: Map<string, unknown>, hub: HealthCheckable): void {
  const key = PREFIX + hub.name;
  const set = registry.get(key) as Set<HealthCheckable> | undefined;
  set?.delete(hub);
  if (set?.size === 0) registry.delete(key);
  if (![...registry.keys()].some((k) => k.startsWith(PREFIX))) registry.delete(ROUTE_KEY);
}

function healthAdminRoute(registry: Map<string, unknown>, onError?: (detail: string) => void): AdminRoute {
  return async (req, res, path) => {
    const a = await mercureHealthRoute(path, req.method ?? 'GET', registry, onError);
    res.writeHead(a.status, a.headers);
    res.end(a.body);
  };
}

/** An admin API answer. */
export interface HealthAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const JSON_CT = { 'Content-Type': 'application/json' };

function apiError(status: number, message: string): HealthAnswer {
  return { status, headers: JSON_CT, body: goMarshal(new GoStruct([['error', message]])) + '\n' }; // Caddy's APIError, via json.Encoder
}

/** Splits `/mercure/health/[<name>/]ready|live[/]` into check and hub name ('' = all). */
function parsePath(path: string): { check: 'ready' | 'live'; name: string } | undefined {
  let p = path.startsWith('/mercure/health/') ? path.slice('/mercure/health/'.length) : undefined;
  if (p === undefined) return undefined;
  if (p.endsWith('/')) p = p.slice(0, -1);
  for (const check of ['ready', 'live'] as const) {
    if (p === check) return { check, name: '' };
    if (p.endsWith('/' + check)) return { check, name: p.slice(0, -check.length - 1) };
  }
  return undefined;
}

/**
 * Answers one admin request under `/mercure/health/`. 405 for non-GET, 404
 * for an unknown path or hub name, 503 with a generic body when a transport is
 * unhealthy (the detail goes to onError), else 200 `{"status":"ok"}`.
 */
export async function mercureHealthRoute(
  path: string,
  method: string,
  registry: Map<string, unknown>,
  onError?: (detail: string) => void,
): Promise<HealthAnswer> {
  if (method !== 'GET') return apiError(405, 'method not allowed');
  const parsed = parsePath(path);
  if (!parsed) return apiError(404, 'unknown health endpoint');
  const hubs: HealthCheckable[] = [];
  for (const [key, value] of registry) {
    if (!key.startsWith(PREFIX)) continue;
    if (parsed.name !== '' && key !== PREFIX + parsed.name) continue;
    hubs.push(...(value as Set<HealthCheckable>));
  }
  if (parsed.name !== '' && hubs.length === 0) return apiError(404, `hub not found: ${JSON.stringify(parsed.name)}`);
  for (const hub of hubs) {
    let failure: string | undefined;
    try {
      const h = await hub.health(parsed.check);
      if (!(parsed.check === 'ready' ? h.ready : h.live)) failure = h.error ?? 'unhealthy';
    } catch (err) {
      failure = (err as Error).message;
    }
    if (failure !== undefined) {
      onError?.(`transport health check failed for check_type="${parsed.check}" hub="${parsed.name}": transport "${hub.name}": ${failure}`);
      return { status: 503, headers: JSON_CT, body: '{"status":"error","error":"transport health check failed"}\n' };
    }
  }
  return { status: 200, headers: JSON_CT, body: '{"status":"ok"}\n' };
}
