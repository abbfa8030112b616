/**
 * The `bolt` transport: embedded, persistent history in one file (node:sqlite);
 * the default when a hub names no transport. See caddyfile.ts for the block,
 * url.ts for the deprecated `transport_url bolt://…` form.
 */
import type { TransportDescriptor } from '../core/descriptor.ts';
import { parseBoltTransport } from './caddyfile.ts';
import { boltTransportModule, type BoltTransportConfig } from './module.ts';
import { parseBoltUrl } from './url.ts';

export const boltTransport: TransportDescriptor<BoltTransportConfig> = {
  name: 'bolt',
  module: boltTransportModule,
  schemes: ['bolt'],
  parseUrl: parseBoltUrl,
  parseBlock: parseBoltTransport,
  singleNode: true,
};
