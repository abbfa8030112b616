/**
 * The Kafka transport: `transport kafka { … }` / `transport_url kafka://…`.
 * One topic with one partition shared by every node; see backend.ts.
 */
import type { TransportDescriptor } from '../core/descriptor.ts';
import { parseBlock } from './block.ts';
import type { KafkaTransportConfig } from './config.ts';
import { module } from './module.ts';
import { parseUrl, schemes } from './url.ts';

export type { KafkaTransportConfig } from './config.ts';

export const kafkaTransport: TransportDescriptor<KafkaTransportConfig> = {
  name: 'kafka',
  module,
  schemes,
  parseUrl,
  parseBlock,
};
