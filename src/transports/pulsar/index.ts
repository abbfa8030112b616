/**
 * The Pulsar transport: its module, legacy URL schemes and parsers. (One
 * descriptor once src/transports/core/descriptor.ts lands.)
 */
export const name = 'pulsar';
export { module, PulsarTransport, MODULE_ID } from './module.ts';
export { parseUrl, parseBlock, schemes, checkConfig, type PulsarTransportConfig } from './config.ts';
export { PulsarBackend, type PulsarBackendOptions } from './backend.ts';
