/**
 * `transport local` — in-memory fan-out, no history, no options:
 *
 *     transport local
 */
import type { ModuleConfig } from '../../src/host/module.ts';
import type { Dispenser } from '../dispenser.ts';
import { parseBlock } from '../table.ts';

/** Parses `transport local` (an empty block is allowed; any subdirective is an error). */
export function parseLocalTransport(d: Dispenser): ModuleConfig {
  d.done();
  parseBlock(d, {}, 'transport local');
  return {};
}
