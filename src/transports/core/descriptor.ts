/**
 * The one way to plug in a transport. Each backend folder exports a single
 * TransportDescriptor from its index.ts: the host module
 * (`mercure.transports.<name>`), the legacy `transport_url` schemes it answers
 * and their parser, and the parser of its `transport <name> { … }` Caddyfile
 * sub-block. src/runtime/standard.ts lists the descriptors; registering one
 * makes the module loadable, the block parseable and the URL resolvable.
 */
import type { ModuleConfig, ModuleInfo } from '../../host/module.ts';
import type { Span } from '../../host/span.ts';
import type { Dispenser } from '../../caddyfile/dispenser.ts';
import type { TransportModule } from './pooled.ts';

export interface TransportDescriptor<C extends ModuleConfig = ModuleConfig> {
  /** The name after `transport` in a Caddyfile; the module ID is `mercure.transports.<name>`. */
  readonly name: string;
  readonly module: ModuleInfo<C, TransportModule>;
  /** Legacy `transport_url` schemes (lower case), e.g. ['redis', 'rediss']. */
  readonly schemes: readonly string[];
  /** Turns a legacy URL of one of `schemes` into the same config the block gives. */
  parseUrl(url: string, span?: Span): C;
  /** Parses `transport <name> { … }`; `d` is the `transport` line, positioned after the name. */
  parseBlock(d: Dispenser): C;
  /**
   * The stream lives in one process (local, bolt): several nodes cannot share
   * it, and with the `workers` option the main process owns it for all workers.
   */
  readonly singleNode?: boolean;
}

const byName = new Map<string, TransportDescriptor<any>>();
const byScheme = new Map<string, TransportDescriptor<any>>();

/** Registers a transport (src/runtime/standard.ts does, for each listed descriptor). Idempotent per descriptor. */
export function registerTransport(d: TransportDescriptor<any>): void {
  const known = byName.get(d.name);
  if (known === d) return;
  if (known) throw new Error(`transport ${d.name} registered twice`);
  if (d.module.id !== `mercure.transports.${d.name}`) throw new Error(`transport ${d.name}: module ID must be mercure.transports.${d.name}, not ${d.module.id}`);
  for (const s of d.schemes) if (byScheme.has(s)) throw new Error(`transport URL scheme ${s} registered twice`);
  byName.set(d.name, d);
  for (const s of d.schemes) byScheme.set(s, d);
}

export function transportDescriptor(name: string): TransportDescriptor | undefined {
  return byName.get(name);
}

/** The transport answering a legacy URL scheme (case-insensitive). */
export function transportForScheme(scheme: string): TransportDescriptor | undefined {
  return byScheme.get(scheme.toLowerCase());
}

export function transportNames(): string[] {
  return [...byName.keys()].sort();
}
