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

/**
 * Applies `order` global options to the default order. A bad rule is reported
 * in `errors` (when given, else thrown) and skipped, so the other rules and the
 * default order still apply and no spurious "not an ordered HTTP handler" follows.
 */
export function directiveOrder(rules: OrderRule[] | undefined, known: (name: string) => boolean, errors?: ConfigError[]): string[] {
  const order = [...DIRECTIVE_ORDER];
  const fail = (e: ConfigError) => { if (errors) errors.push(e); else throw e; };
  for (const r of rules ?? []) {
    const [file, line, col] = r.span.split(':');
    const span = { file: file!, line: Number(line), column: Number(col) };
    if (!known(r.directive)) { fail(new ConfigError('ERR_CFG_UNKNOWN', span, `${r.directive} is not a registered directive`)); continue; }
    if (r.other !== undefined && (r.other === r.directive || !order.includes(r.other))) {
      fail(new ConfigError('ERR_CFG_UNKNOWN', span, `directive '${r.other}' not found`));
      continue;
    }
    const at = order.indexOf(r.directive);
    if (at >= 0) order.splice(at, 1);
    if (r.position === 'first') order.unshift(r.directive);
    else if (r.position === 'last') order.push(r.directive);
    else {
      const i = order.indexOf(r.other!);
      order.splice(r.position === 'before' ? i : i + 1, 0, r.directive);
    }
  }
  return order;
}

/** The path of a route whose one matcher set has a one-path `path` matcher (other matchers may sit beside it, as in Caddy). */
function singlePath(r: RouteConfig): string | undefined {
  const m = r.match;
  if (!m || m.length !== 1) return undefined;
  const p = m[0]!.path;
  return Array.isArray(p) && p.length === 1 ? String(p[0]) : undefined;
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
  const before = (a: PendingRoute, b: PendingRoute): boolean => {
    const ra = rank(a.directive);
    const rb = rank(b.directive);
    if (ra !== rb) return ra < rb;
    return compareSameDirective(a.route, b.route) < 0;
  };
  // The path rule is not a total order (a route with a non-path matcher is "equal" to
  // every path route), so the algorithm shows through: use a stable insertion sort,
  // as Go's sort.SliceStable does for up to 20 routes, to get Caddy's order.
  const indexed = [...routes];
  for (let i = 1; i < indexed.length; i++) {
    for (let j = i; j > 0 && before(indexed[j]!, indexed[j - 1]!); j--) {
      [indexed[j - 1], indexed[j]] = [indexed[j]!, indexed[j - 1]!];
    }
  }
  const groups = new Map<string, string>();
  return indexed.map(({ directive, route }) => {
    const kind = GROUPED[directive];
    if (!kind) return route;
    let g = groups.get(kind);
    if (!g) { g = nextGroup(); groups.set(kind, g); }
    return { group: g, ...route };
  });
}
