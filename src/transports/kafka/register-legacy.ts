/**
 * Registers the Kafka transport the current way (module registry, transport_url
 * scheme, `transport kafka` block parser), called from src/standard.ts and
 * directives/index.ts. Goes away when the transport descriptors land.
 */
import type { ModuleConfig, ModuleInfo } from '../../host/module.ts';
import { registerTransportParser } from '../../../directives/transports/index.ts';
import { module, name, parseBlock, parseUrl, schemes } from './index.ts';

/** Module and legacy URL scheme (src/standard.ts). */
export function registerKafkaTransport(
  register: (info: ModuleInfo<any, any>) => void,
  registerUrlScheme: (scheme: string, parse: (url: string) => { name: string; config: ModuleConfig }) => void,
): void {
  register(module);
  for (const scheme of schemes) registerUrlScheme(scheme, (url) => ({ name, config: parseUrl(url) }));
}

/** The `transport kafka { … }` block (directives/index.ts). */
export function registerKafkaTransportDirective(): void {
  registerTransportParser(name, parseBlock);
}
