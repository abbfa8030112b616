/**
 * The Redis / Valkey transport (standalone or Redis Cluster). See caddyfile.ts
 * for the block, url.ts for the deprecated `transport_url redis[s]://…` form.
 */
import type { TransportDescriptor } from '../core/descriptor.ts';
import { parseRedisTransport } from './caddyfile.ts';
import { redisTransportModule, type RedisTransportConfig } from './module.ts';
import { parseRedisUrl, REDIS_URL_SCHEMES } from './url.ts';

export const redisTransport: TransportDescriptor<RedisTransportConfig> = {
  name: 'redis',
  module: redisTransportModule,
  schemes: REDIS_URL_SCHEMES,
  parseUrl: parseRedisUrl,
  parseBlock: parseRedisTransport,
};
