import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Well-known keys of AppServices.registry: services one module offers to
 * others without either importing the other (the kernel owns the names).
 */

/** The first `storage redis` module of a config (caddy-storage-redis), offering its live Redis client. */
export const REDIS_STORAGE_SERVICE = 'caddy.storage.redis';

/** The config being provisioned (read-only), for rules that depend on the config as a whole. */
export const CONFIG_SERVICE = 'config';

/** Prefix of admin routes modules register: `admin:<path prefix>` → AdminRoute. */
export const ADMIN_ROUTE_PREFIX = 'admin:';

/** An admin endpoint route a module registers in AppServices.registry under `admin:<path prefix>`. */
export type AdminRoute = (req: IncomingMessage, res: ServerResponse, path: string) => void | Promise<void>;
