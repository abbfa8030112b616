/**
 * Registers the storage modules and the rate limiter: Caddy's default
 * `caddy.storage.file_system`, and the two caddy plugins this area ports:
 * `caddy.storage.redis` (pberkel/caddy-storage-redis) and
 * `http.handlers.rate_limit` (mholt/caddy-ratelimit). Called once from src/standard.ts.
 */
import { FileSystemStorage, type FileSystemStorageConfig } from './file-system.ts';
import { registerModule } from '../host/module.ts';
import { RateLimitHandler } from '../http/rate-limit/handler.ts';
import type { RateLimitConfig } from '../http/rate-limit/config.ts';
import type { RedisStorageConfig } from './config.ts';
import { RedisStorage } from './redis-storage.ts';

export function registerRedisStorageAndRateLimitModules(): void {
  registerModule({ id: 'caddy.storage.file_system', create: (c: FileSystemStorageConfig) => new FileSystemStorage(c) });
  registerModule({ id: 'caddy.storage.redis', create: (c: RedisStorageConfig) => new RedisStorage(c) });
  registerModule({ id: 'http.handlers.rate_limit', create: (c: RateLimitConfig) => new RateLimitHandler(c) });
}
