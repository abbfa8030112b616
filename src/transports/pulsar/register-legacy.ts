/**
 * Registers the Pulsar transport the current way (module, `transport_url`
 * schemes, `transport pulsar { … }` parser), until the lead's transport
 * descriptors replace this file.
 */
import type { ModuleConfig, ModuleInfo } from '../../host/module.ts';
import { registerTransportParser } from '../../../directives/transports/index.ts';
import { module, parseBlock, parseUrl, schemes } from './index.ts';

export function registerPulsarTransport(
  register: (info: ModuleInfo<any, any>) => void,
  registerUrlScheme: (scheme: string, parse: (url: string) => { name: string; config: ModuleConfig }) => void,
): void {
  register(module);
  for (const s of schemes) registerUrlScheme(s, (url) => ({ name: 'pulsar', config: parseUrl(url) }));
}

export function registerPulsarTransportDirective(): void {
  registerTransportParser('pulsar', parseBlock);
}
