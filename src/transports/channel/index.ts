/**
 * `mercure.transports.channel`: internal, never written in a config. With the
 * `workers` global option, the transport loader swaps a single-node transport
 * (local, bolt) for this one, whose backend reaches the one copy the main
 * process owns. Hubs with the same target config share one pooled transport,
 * as every transport does.
 */
import type { ModuleConfig, ModuleInfo } from '../../host/module.ts';
import { QsError } from '../../host/errors.ts';
import { PooledTransport, type TransportModule } from '../core/pooled.ts';
import { ChannelBackend } from './backend.ts';
import { hostLink } from './link.ts';

export interface ChannelTransportConfig extends ModuleConfig {
  /** The transport the main process opens: its name and config. */
  target: { name: string; config: Record<string, unknown> };
}

export const channelTransportModule: ModuleInfo<ChannelTransportConfig, TransportModule> = {
  id: 'mercure.transports.channel',
  create: (config) => new PooledTransport('mercure.transports.channel', () => {
    const link = hostLink();
    if (!link) throw new QsError('ERR_MODULE_PROVISION', 'the channel transport runs only with workers');
    return { key: config.target, backend: () => new ChannelBackend(link, config.target.name, config.target.config) };
  }),
};
