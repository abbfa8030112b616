/**
 * log_skip [<matcher>]
 *
 * Matching requests are not access-logged. No arguments, no block.
 * Compiles to `{ handler: "vars", log_skip: true }`. `skip_log` is the
 * deprecated name; it works and warns.
 */
import type { HandlerConfig } from '../src/http/handler.ts';
import type { Dispenser } from '../src/caddyfile/dispenser.ts';
import type { DirectiveHelper } from './registry.ts';

export function parseLogSkip(d: Dispenser, h: DirectiveHelper): HandlerConfig {
  if (d.hasBlock()) throw d.err(`${d.name} directive does not accept blocks`, undefined, { code: 'ERR_CFG_ARGS' });
  d.args(0);
  if (d.name === 'skip_log') h.warn(d.span, "the 'skip_log' directive is deprecated, please use 'log_skip' instead!");
  return { handler: 'vars', log_skip: true };
}
