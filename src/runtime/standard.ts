/**
 * The one list that registers every module (Caddy's modules/standard).
 * Visible order, nothing lost to import side effects.
 */
import { registerModule } from '../host/module.ts';
import { registerHttpModules } from '../http/modules.ts';
import { registerRedisStorageAndRateLimitModules } from '../storage/modules.ts';
import { registerMercureModules } from '../mercure/modules.ts';
import { registerPubsubModules } from '../transports/bolt/module.ts';
import { registerPostgresTransport } from '../transports/postgres/module.ts';
import { registerRedisTransport } from '../transports/redis/module.ts';
import { registerTransportUrlScheme } from '../mercure/transport-loader.ts';

let done = false;

export function registerStandardModules(): void {
  if (done) return;
  done = true;
  // --- http core ---
  registerHttpModules();
  // --- mercure hub and transports ---
  registerMercureModules(registerModule);
  registerPubsubModules(registerModule);
  registerPostgresTransport(registerModule, registerTransportUrlScheme);
  registerRedisTransport(registerModule, registerTransportUrlScheme);
  // --- redis storage, rate_limit ---
  registerRedisStorageAndRateLimitModules();
}
