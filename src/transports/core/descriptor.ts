/**
 * Transport-block parsers of the `mercure` directive, by transport name:
 * `transport <name> { … }` hands its line (positioned after the name) to the
 * parser registered here, whose result becomes the `transport` JSON object
 * (plus `"name"`). local and bolt are built in; other transports register
 * theirs with registerTransportParser (from directives/index.ts).
 */
import type { ModuleConfig } from '../../host/module.ts';
import type { Dispenser } from '../../caddyfile/dispenser.ts';
import { parseBoltTransport } from '../bolt/caddyfile.ts';
import { parseLocalTransport } from '../local/caddyfile.ts';

/** Parses one transport block into the transport module's config. */
export type TransportBlockParser = (d: Dispenser) => ModuleConfig;

const parsers = new Map<string, TransportBlockParser>([
  ['local', parseLocalTransport],
  ['bolt', parseBoltTransport],
]);

/** Adds a transport (redis, postgres, kafka, pulsar …). Registering a name twice is a programmer error. */
export function registerTransportParser(name: string, parse: TransportBlockParser): void {
  if (parsers.has(name)) throw new Error(`transport parser ${name} registered twice`);
  parsers.set(name, parse);
}

export function transportParser(name: string): TransportBlockParser | undefined {
  return parsers.get(name);
}

export function transportNames(): string[] {
  return [...parsers.keys()].sort();
}
