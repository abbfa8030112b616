/**
 * handle_path <path_matcher> { <directives...> }
 *
 * `handle` plus stripping the path prefix before its directives run:
 * `handle_path /static/*` strips `/static`. Only a path matcher is accepted.
 * Compiles to a route `{ match: [{ path: [p] }], handle: [{ handler: "subroute",
 * routes: [{ handle: [{ handler: "rewrite", strip_path_prefix }] }, ...] }] }`.
 */
import type { RouteConfig } from '../src/http/handler.ts';
import type { Dispenser } from '../src/caddyfile/dispenser.ts';
import type { ConfigValue, DirectiveHelper } from './registry.ts';

export function parseHandlePath(d: Dispenser, h: DirectiveHelper): ConfigValue[] {
  const t = d.nextArg();
  if (!t) throw d.argErr();
  if (!t.text.startsWith('/')) throw d.err(`path matcher must begin with '/', got ${t.text}`, t);
  d.done();
  const path = t.text;
  const prefix = path.endsWith('/*') ? path.slice(0, -2) : path.endsWith('*') ? path.slice(0, -1) : path;
  const routes: RouteConfig[] = [{ handle: [{ handler: 'rewrite', strip_path_prefix: prefix }] }, ...h.routes(d.block(), true)];
  const route: RouteConfig = { match: [{ path: [path] }], handle: [{ handler: 'subroute', routes, '@span': d.where }] };
  return [{ class: 'route', value: route, directive: 'handle_path', span: d.span }];
}
