/**
 * handle_errors [<status_codes...>] { <directives...> }
 *
 * Error routes (class `error_route`, a list of routes), run when a handler
 * fails; `{err.status_code}`, `{err.message}`, `{err.id}` are available.
 * Codes may be exact (`404`) or classes (`5xx`); they become an expression
 * matcher as in Caddy: `{http.error.status_code} in [404, 410]`.
 */
import type { RouteConfig } from '../src/http/handler.ts';
import type { Dispenser } from '../src/caddyfile/dispenser.ts';
import type { ConfigValue, DirectiveHelper } from './registry.ts';

export function parseHandleErrors(d: Dispenser, h: DirectiveHelper): ConfigValue[] {
  let expression = '';
  const codes: string[] = [];
  for (const t of d.remaining()) {
    const v = t.text;
    if (v.length !== 3) throw d.err(`bad status value '${v}'`, t, { code: 'ERR_CFG_ARGS' });
    if (/^\dxx$/i.test(v)) {
      if (expression) expression += ' || ';
      expression += `{http.error.status_code} >= ${v[0]}00 && {http.error.status_code} <= ${v[0]}99`;
      continue;
    }
    if (!/^\d{3}$/.test(v)) throw d.err(`bad status value '${v}'`, t, { code: 'ERR_CFG_ARGS' });
    codes.push(v);
  }
  if (codes.length) {
    if (expression) expression += ' || ';
    expression += `{http.error.status_code} in [${codes.join(', ')}]`;
  }
  const routes = h.routes(d.block(), true);
  const route: RouteConfig = { handle: [{ handler: 'subroute', routes, '@span': d.where }] };
  if (expression) route.match = [{ expression }];
  return [{ class: 'error_route', value: [route], directive: 'handle_errors', span: d.span }];
}
