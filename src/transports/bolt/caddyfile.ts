/**
 * `transport bolt` — embedded, persistent history (the default transport):
 *
 *     transport bolt {
 *         path              <file>      # default <data dir>/mercure.db
 *         bucket_name       <name>      # default updates
 *         size              <n>         # updates to keep; 0 (default) keeps all
 *         cleanup_frequency <0…1>       # default 0
 *     }
 */
import type { ModuleConfig } from '../../host/module.ts';
import type { Dispenser } from '../../caddyfile/dispenser.ts';
import { parseBlock, type SubTable } from '../../caddyfile/table.ts';
import { parseFloat10 } from '../../caddyfile/values.ts';

const TABLE: SubTable = {
  path: { kind: 'string' },
  bucket_name: { kind: 'string' },
  size: { kind: 'uint' },
  cleanup_frequency: {
    parse: (d) => {
      const t = d.args(1)[0]!;
      const f = parseFloat10(t);
      if (f < 0 || f > 1) throw d.err(`cleanup_frequency ${t.text} is out of range`, t, { expected: 'a number between 0 and 1' });
      return f;
    },
  },
};

/** Parses a `transport bolt { … }` block; `d` is the `transport` line after the name. */
export function parseBoltTransport(d: Dispenser): ModuleConfig {
  d.done();
  const cfg = parseBlock(d, TABLE, 'transport bolt');
  if (cfg.path === '') throw d.err('transport bolt: path must not be empty');
  return { '@span': d.where, ...cfg };
}
