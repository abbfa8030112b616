/**
 * The one list that registers every standard module (Caddy's modules/standard):
 * visible order, nothing lost to import side effects. A new transport is one
 * folder under src/transports/ and one line in TRANSPORTS.
 */
import { registerModule } from '../host/module.ts';
import { registerAllDirectives } from '../../directives/index.ts';
import { registerHttpModules } from '../http/modules.ts';
import { registerStorageModules } from '../storage/modules.ts';
import { registerMercureModules } from '../mercure/modules.ts';
import { registerTransport, type TransportDescriptor } from '../transports/core/descriptor.ts';
import { localTransport } from '../transports/local/index.ts';
import { boltTransport } from '../transports/bolt/index.ts';
import { redisTransport } from '../transports/redis/index.ts';
import { postgresTransport } from '../transports/postgres/index.ts';
import { kafkaTransport } from '../transports/kafka/index.ts';
import { pulsarTransport } from '../transports/pulsar/index.ts';
import { channelTransportModule } from '../transports/channel/index.ts';
import { registerPhpModules } from '../php/modules.ts';

/** Every standard Mercure transport, by descriptor. */
export const TRANSPORTS: readonly TransportDescriptor<any>[] = [
  localTransport,
  boltTransport,
  redisTransport,
  postgresTransport,
  kafkaTransport,
  pulsarTransport,
];

let done = false;

export function registerStandardModules(): void {
  if (done) return;
  done = true;
  // --- http core, rate_limit ---
  registerHttpModules();
  // --- storage: file_system, redis ---
  registerStorageModules();
  // --- mercure hub and transports ---
  registerMercureModules(registerModule);
  for (const t of TRANSPORTS) {
    registerModule(t.module);
    registerTransport(t);
  }
  registerModule(channelTransportModule); // internal: single-node transports shared by workers
  // --- php front (php, php_server; php_fastcgi is the http core's fastcgi transport) ---
  registerPhpModules();
  // --- Caddyfile directives (the mercure directive reads the transports' block parsers) ---
  registerAllDirectives();
}
