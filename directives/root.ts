/**
 * root [<matcher>] <path>
 *
 * Sets `{http.vars.root}` for file_server, php and the file matcher. With one
 * argument it is the path (even if it starts with `/`); with two, the first
 * is the matcher. Compiles to `{ handler: "vars", root }`. Several `root`
 * routes are made mutually exclusive by the adapter.
 */
import type { RouteConfig } from '../src/http/handler.ts';
import type { Dispenser } from '../src/caddyfile/dispenser.ts';
import type { ConfigValue, DirectiveHelper } from './registry.ts';

export function parseRoot(d: Dispenser, h: DirectiveHelper): ConfigValue[] {
  d.noBlock();
  const n = d.remainingCount();
  if (n === 0) throw d.err('too few arguments; must have at least a root path', undefined, { code: 'ERR_CFG_ARGS' });
  if (n > 2) throw d.err('too many arguments; should only be a matcher and a path', undefined, { code: 'ERR_CFG_ARGS' });
  const match = n === 2 ? h.matcher(d) : undefined;
  if (d.remainingCount() !== 1) throw d.argErr();
  const root = d.string();
  const handler = { handler: 'vars', root, '@span': d.where };
  const route: RouteConfig = match ? { match, handle: [handler] } : { handle: [handler] };
  return [{ class: 'route', value: route, directive: 'root', span: d.span }];
}
