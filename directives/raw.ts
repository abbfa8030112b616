/**
 * A generic JSON form of a directive line, for options we accept for
 * compatibility but only partly interpret (`servers`, `log`, `frankenphp`, …):
 * args become an array, a block becomes an object of its lines.
 */
import type { Dispenser } from '../src/caddyfile/dispenser.ts';

export interface RawValue { args?: string[]; block?: Record<string, RawValue | RawValue[]> }

export function rawValue(d: Dispenser): RawValue {
  const out: RawValue = {};
  const args = d.remaining().map((t) => t.text);
  if (args.length) out.args = args;
  if (d.hasBlock()) {
    const block: Record<string, RawValue | RawValue[]> = {};
    for (const line of d.block()) {
      const v = rawValue(line);
      const prev = block[line.name];
      block[line.name] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    out.block = block;
  }
  return out;
}
