/**
 * route [<matcher>] { <directives...> }
 *
 * A subroute whose directives run in written order (no sorting).
 * Compiles to `{ handler: "subroute", routes }`.
 */
import type { SubrouteConfig } from '../src/http/handlers/subroute.ts';
import type { Dispenser } from '../src/caddyfile/dispenser.ts';
import type { DirectiveHelper } from './registry.ts';

export function parseRoute(d: Dispenser, h: DirectiveHelper): SubrouteConfig {
  d.done();
  return { handler: 'subroute', routes: h.routes(d.block(), false) };
}
