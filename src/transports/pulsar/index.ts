/**
 * The Pulsar transport over Pulsar's binary protocol (client/): `transport
 * pulsar { … }` / `transport_url pulsar://…`. One non-partitioned topic shared
 * by every node; see backend.ts.
 */
import type { TransportDescriptor } from '../core/descriptor.ts';
import { parseBlock, parseUrl, schemes, type PulsarTransportConfig } from './config.ts';
import { module } from './module.ts';

export type { PulsarTransportConfig } from './config.ts';

export const pulsarTransport: TransportDescriptor<PulsarTransportConfig> = {
  name: 'pulsar',
  module,
  schemes,
  parseUrl,
  parseBlock,
};
