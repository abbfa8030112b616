/**
 * Registers every Caddyfile directive, global option and matcher. One explicit
 * list, so nothing depends on import side effects or file order. Each area
 * keeps its own section.
 */
import { registerCoreDirectives } from './core.ts';
import { registerHttpDirectives } from './http.ts';
import { registerRedisStorageAndRateLimit } from './rate-limit.ts';
import { registerMercureDirective } from './mercure.ts';
import { registerPostgresTransportDirective } from './transports/postgres.ts';
import { registerRedisTransportDirective } from './transports/redis.ts';
import { registerPulsarTransportDirective } from '../src/transports/pulsar/register-legacy.ts';

let done = false;

export function registerAllDirectives(): void {
  if (done) return;
  done = true;
  registerCoreDirectives();
  // --- http core: matchers, handlers, tls, log, reverse_proxy ---
  registerHttpDirectives();
  // --- mercure hub and transports ---
  registerMercureDirective();
  registerPostgresTransportDirective();
  registerRedisTransportDirective();
  registerPulsarTransportDirective();
  // --- redis storage, rate_limit ---
  registerRedisStorageAndRateLimit();
  // --- php_server / php_fastcgi ---
}
