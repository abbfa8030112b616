/**
 * The `local` transport: in memory, one process, no history.
 *
 *     transport local
 *     transport_url local://local     # deprecated form
 */
import type { ModuleConfig, ModuleInfo } from '../../host/module.ts';
import type { TransportDescriptor } from '../core/descriptor.ts';
import { PooledTransport, type TransportModule } from '../core/pooled.ts';
import { LocalBackend } from './backend.ts';
import { parseLocalTransport } from './caddyfile.ts';

/** `mercure.transports.local` takes no options. */
export type LocalTransportConfig = ModuleConfig;

/** `mercure.transports.local`: in memory, no history. Config `{}`. */
export const localTransportModule: ModuleInfo<LocalTransportConfig, TransportModule> = {
  id: 'mercure.transports.local',
  // Each local config is its own in-memory stream; the empty config shares one.
  create: () => new PooledTransport('mercure.transports.local', () => ({ key: {}, backend: () => new LocalBackend() })),
};

export const localTransport: TransportDescriptor<LocalTransportConfig> = {
  name: 'local',
  module: localTransportModule,
  schemes: ['local'],
  parseUrl: () => ({}),
  parseBlock: parseLocalTransport,
  singleNode: true,
};
