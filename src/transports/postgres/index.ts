/**
 * The PostgreSQL transport. See caddyfile.ts for the block; the deprecated
 * `transport_url postgres[ql]://…` form is postgresConfigFromUrl (module.ts).
 */
import type { TransportDescriptor } from '../core/descriptor.ts';
import { parsePostgresTransport } from './caddyfile.ts';
import { POSTGRES_URL_SCHEMES, postgresConfigFromUrl, postgresTransportModule, type PostgresTransportConfig } from './module.ts';

export const postgresTransport: TransportDescriptor<PostgresTransportConfig> = {
  name: 'postgres',
  module: postgresTransportModule,
  schemes: POSTGRES_URL_SCHEMES,
  parseUrl: postgresConfigFromUrl,
  parseBlock: parsePostgresTransport,
};
