/**
 * handle [<matcher>] { <directives...> }
 *
 * A subroute whose directives are sorted like a site block. The adapter puts
 * all `handle`/`handle_path` routes of one level in one group, so at most one
 * of them runs. Compiles to `{ handler: "subroute", routes }`.
 */
import type { SubrouteConfig } from '../src/http/handlers/subroute.ts';
import type { Dispenser } from '../src/caddyfile/dispenser.ts';
import type { DirectiveHelper } from './registry.ts';

export function parseHandle(d: Dispenser, h: DirectiveHelper): SubrouteConfig {
  d.done();
  return { handler: 'subroute', routes: h.routes(d.block(), true) };
}
