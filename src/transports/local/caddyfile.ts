/**
 * `transport local` — in-memory fan-out, no history, no options:
 *
 *     transport local
 */
import type { ModuleConfig } from '../../host/module.ts';
import type { Dispenser } from '../../caddyfile/dispenser.ts';
import { parseBlock } from '../../caddyfile/table.ts';

/** Parses `transport local` (an empty block is allowed; any subdirective is an error). */
export function parseLocalTransport(d: Dispenser): ModuleConfig {
  d.done();
  parseBlock(d, {}, 'transport local');
  return {};
}
