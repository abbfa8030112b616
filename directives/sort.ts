/**
 * Route ordering (caddy.md §3.5): by the directive order; within one directive,
 * routes with a single path matcher go most specific first, and routes with a
 * matcher before routes without; otherwise file order. handle/handle_path,
 * rewrite and root routes of one level become mutually exclusive groups.
 */
import type { RouteConfig } from '../src/http/handler.ts';
import type { OrderRule } from './core.ts';
import { DIRECTIVE_ORDER } from './registry.ts';
import { ConfigError } from '../src/host/errors.ts';

export interface PendingRoute { directive: string; route: RouteConfig }

/** Applies `order` global options to the default order. */
export function directiveOrder(rules: OrderRule[] | undefined, known: (name: string) => boolean): string[] {
  const order = [...DIRECTIVE_ORDER];
  for (const r of rules ?? []) {
    const [file, line, col] = r.span.split(':');
    const span = { file: file!, line: Number(line), column: Number(col) };
    if (!known(r.directive)) throw new ConfigError('ERR_CFG_UNKNOWN', span, `${r.directive} is not a registered directive`);
    const at = order.indexOf(r.directive);
    if (at >= 0) order.splice(at, 1);
    if (r.position === 'first') order.unshift(r.directive);
    else if (r.position === 'last') order.push(r.directive);
    else {
      const i = order.indexOf(r.other!);
      if (i < 0) throw new ConfigError('ERR_CFG_UNKNOWN', span, `directive '${r.other}' not found`);
      order.splice(r.position === 'before' ? i : i + 1, 0, r.directive);
    }
  }
  return order;
}

function singlePath(r: RouteConfig): string | undefined {
  const m = r.match;
  if (!m || m.length !== 1) return undefined;
  const keys = Object.keys(m[0]!);
  const p = m[0]!.path;
  return keys.length === 1 && Array.isArray(p) && p.length === 1 ? String(p[0]) : undefined;
}

function compareSameDirective(a: RouteConfig, b: RouteConfig): number {
  const pa = singlePath(a);
  const pb = singlePath(b);
  if (pa !== undefined && pb !== undefined) {
    const ta = pa.replace(/\*$/, '');
    const tb = pb.replace(/\*$/, '');
    if (ta.length !== tb.length) return tb.length - ta.length;
    if (ta === tb) return pa.length - pb.length; // `/x` before `/x*`
    return ta < tb ? -1 : 1;
  }
  const ma = a.match ? 1 : 0;
  const mb = b.match ? 1 : 0;
  return mb - ma;
}

const GROUPED: Record<string, string> = { handle: 'handle', handle_path: 'handle', rewrite: 'rewrite', root: 'root' };

/** Sorts one level of routes and assigns group names; `nextGroup` yields unique names per adapt. */
export function sortRoutes(routes: PendingRoute[], order: string[], nextGroup: () => string): RouteConfig[] {
  const rank = (d: string) => (GROUPED[d] === 'handle' ? order.indexOf('handle') : order.indexOf(d));
  const indexed = routes.map((r, i) => ({ ...r, i }));
  indexed.sort((a, b) => {
    const ra = rank(a.directive);
    const rb = rank(b.directive);
    if (ra !== rb) return ra - rb;
    const same = a.directive === b.directive || (GROUPED[a.directive] === 'handle' && GROUPED[b.directive] === 'handle');
    if (same) {
      const c = compareSameDirective(a.route, b.route);
      if (c !== 0) return c;
    }
    return a.i - b.i;
  });
  const groups = new Map<string, string>();
  return indexed.map(({ directive, route }) => {
    const kind = GROUPED[directive];
    if (!kind) return route;
    let g = groups.get(kind);
    if (!g) { g = nextGroup(); groups.set(kind, g); }
    return { group: g, ...route };
  });
}
