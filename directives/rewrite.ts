/**
 * rewrite [<matcher>] <to>
 *
 * Rewrites the request URI (path and/or query) for the handlers after it.
 * Compiles to `{ handler: "rewrite", uri }`; the adapter makes all `rewrite`
 * routes of a level mutually exclusive.
 */
import type { RewriteConfig } from '../src/http/handlers/rewrite.ts';
import type { Dispenser } from '../src/caddyfile/dispenser.ts';

export function parseRewrite(d: Dispenser): RewriteConfig {
  d.noBlock();
  return { handler: 'rewrite', uri: d.string() };
}
