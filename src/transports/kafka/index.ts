/**
 * The Kafka transport: `transport kafka { … }` / `transport_url kafka://…`.
 * One descriptor's worth of named exports (name, module, schemes, parseUrl,
 * parseBlock) until src/transports/core/descriptor.ts lands.
 */
export const name = 'kafka';
export { module } from './module.ts';
export { parseUrl, schemes } from './url.ts';
export { parseBlock } from './block.ts';
export type { KafkaTransportConfig } from './config.ts';
