/**
 * The one list that registers every module (Caddy's modules/standard).
 * Visible order, nothing lost to import side effects.
 */
import { registerModule } from './host/module.ts';
import { registerHttpModules } from './http/modules.ts';
import { registerRedisStorageAndRateLimitModules } from './storage/modules.ts';
import { registerMercureModules } from './mercure/modules.ts';
import { registerPubsubModules } from './pubsub/modules.ts';
import { registerPostgresTransport } from './pubsub/postgres-module.ts';
import { registerRedisTransport } from './pubsub/redis-module.ts';
import { registerTransportUrlScheme } from './mercure/transport-loader.ts';
import { registerPulsarTransport } from './transports/pulsar/register-legacy.ts';

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
  registerPulsarTransport(registerModule, registerTransportUrlScheme);
  // --- redis storage, rate_limit ---
  registerRedisStorageAndRateLimitModules();
}
