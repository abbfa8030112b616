/**
 * Registers the storage modules: Caddy's default `caddy.storage.file_system`
 * and `caddy.storage.redis` (pberkel/caddy-storage-redis). Called once from
 * src/runtime/standard.ts.
 */
import { FileSystemStorage, type FileSystemStorageConfig } from './file-system.ts';
import { registerModule } from '../host/module.ts';
import type { RedisStorageConfig } from './config.ts';
import { RedisStorage } from './redis-storage.ts';

export function registerStorageModules(): void {
  registerModule({ id: 'caddy.storage.file_system', create: (c: FileSystemStorageConfig) => new FileSystemStorage(c) });
  registerModule({ id: 'caddy.storage.redis', create: (c: RedisStorageConfig) => new RedisStorage(c) });
}
