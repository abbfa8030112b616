/**
 * Which transport a hub uses, and loading it: `transport NAME {…}` (module
 * `mercure.transports.<name>`), else the deprecated `transport_url`, else
 * (only when neither is set) `MERCURE_TRANSPORT_URL` with a deprecation
 * warning, else bolt with its default file `<dataDir>/mercure.db`.
 * Legacy URLs resolve through the registered transport descriptors' schemes.
 */
import { ConfigError } from '../host/errors.ts';
import type { ModuleConfig, ModuleContext } from '../host/module.ts';
import type { Span } from '../host/span.ts';
import { transportDescriptor, transportForScheme } from '../transports/core/descriptor.ts';
import { hostLink } from '../transports/channel/link.ts';
import { goQuote, redactedUrl } from '../transports/core/legacy-url.ts';
import type { Transport } from '../transports/core/contract.ts';
import { replaceEnv, type MercureConfig } from './config.ts';

/**
 * Resolves a legacy URL through the transport that registered its scheme.
 * An unparsable URL or an unknown scheme fails with the Go hub's text.
 */
export function resolveTransportUrl(url: string, span?: Span): { name: string; config: ModuleConfig } {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1];
  const d = scheme ? transportForScheme(scheme) : undefined;
  if (d) return { name: d.name, config: d.parseUrl(url, span) };
  let u: URL | undefined;
  try { u = new URL(url); } catch { /* reported below */ }
  const dsn = goQuote(redactedUrl(url, u));
  const detail = u ? `${dsn}: invalid transport: no such transport available` : `${dsn}: invalid transport: parse ${goQuote(url)}: invalid URL`;
  throw new ConfigError('ERR_CFG_VALUE', span, detail);
}

/** The module name and config the hub will load. */
export function transportChoice(c: MercureConfig, env: NodeJS.ProcessEnv = process.env): { name: string; config: ModuleConfig; deprecated?: string } {
  if (c.transport) {
    const { name, ...config } = c.transport;
    if (typeof name !== 'string' || name === '') throw new ConfigError('ERR_CFG_JSON', undefined, 'http.handlers.mercure: transport needs a "name"');
    return { name, config };
  }
  if (c.transport_url) return { ...resolveTransportUrl(replaceEnv(c.transport_url, env)), deprecated: 'transport_url' };
  const fromEnv = env.MERCURE_TRANSPORT_URL;
  if (fromEnv) return { ...resolveTransportUrl(fromEnv), deprecated: 'MERCURE_TRANSPORT_URL' };
  return { name: 'bolt', config: {} };
}

/** Loads the transport sub-module; the host cleans it up with the hub. */
export async function loadTransport(ctx: ModuleContext, c: MercureConfig): Promise<Transport> {
  const choice = transportChoice(c);
  if (choice.deprecated) {
    ctx.log.warn(`Deprecated: the "${choice.deprecated}" option is deprecated, use the "transport" directive instead`);
  }
  // With workers, a single-node transport is opened once by the main process; every process reaches it through the channel.
  const shared = hostLink() !== undefined && transportDescriptor(choice.name)?.singleNode === true;
  const mod: object = shared
    ? await ctx.load('mercure.transports.channel', { target: { name: choice.name, config: choice.config } })
    : await ctx.load(`mercure.transports.${choice.name}`, choice.config);
  const t = 'dispatch' in mod ? (mod as Transport) : (mod as { transport?: Transport }).transport;
  if (!t) throw new Error(`module mercure.transports.${choice.name} is not a transport`);
  return t;
}
