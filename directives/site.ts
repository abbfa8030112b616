/**
 * One site block → its routes and side values. Named matchers are scoped to
 * the block that defines them and visible in nested blocks. The DirectiveHelper
 * given to directive parsers is implemented here.
 */
import type { Directive, ServerBlock, Span, Token } from '../grammar/ast.ts';
import type { MatcherSet, RouteConfig } from '../src/http/handler.ts';
import { ConfigError, QsError, didYouMean } from '../src/host/errors.ts';
import { Dispenser } from '../src/caddyfile/dispenser.ts';
import {
  DIRECTIVE_ORDER, type ConfigValue, type DirectiveHelper, directiveNames, getDirective, parseMatcherSet,
} from './registry.ts';
import { rewriteShorthands } from './shorthands.ts';
import { type PendingRoute, sortRoutes } from './sort.ts';

export interface SiteResult {
  routes: RouteConfig[];
  values: ConfigValue[];
}

export interface SiteContext {
  options: Record<string, unknown>;
  order: string[];
  nextGroup(): string;
  warn(span: Span, message: string): void;
  /** Errors collected so that every error of a file is reported. */
  errors: ConfigError[];
}

type Scope = { matchers: Map<string, MatcherSet[]>; parent?: Scope };

function lookup(scope: Scope | undefined, name: string): MatcherSet[] | undefined {
  for (let s = scope; s; s = s.parent) { const m = s.matchers.get(name); if (m) return m; }
  return undefined;
}

/** Rewrites placeholder shorthands in every token of a directive tree. */
function rewriteTree(lines: Directive[]): Directive[] {
  const tok = (t: Token): Token => ({ ...t, text: rewriteShorthands(t.text) });
  return lines.map((l) => ({ ...l, name: tok(l.name), args: l.args.map(tok), block: l.block ? rewriteTree(l.block) : null }));
}

/** Parses `@name <matcher> args…`, `@name { <matcher> args… }` or `@name "expr"` into one matcher set. */
function parseNamedMatcher(d: Dispenser): MatcherSet {
  const args = d.node.args;
  const set = args.length === 1 && args[0]!.quote !== '' && !d.hasBlock()
    ? parseMatcherSet(new Dispenser({ name: d.node.name, args: [{ ...args[0]!, text: 'expression' }, args[0]!], block: null }))
    : parseMatcherSet(d);
  // Caddy names regexp captures after the matcher when no name is given ({re.NAME.N}).
  const own = d.name.slice(1);
  const pr = set.path_regexp as { name?: string } | undefined;
  if (pr && !pr.name) pr.name = own;
  const hr = set.header_regexp as Record<string, { name?: string }> | undefined;
  if (hr) for (const v of Object.values(hr)) if (!v.name) v.name = own;
  return set;
}

/** Runs the directive lines of one level; `ordered` = sort by directive order (site, handle) vs written order (route). */
function runLevel(lines: Directive[], ctx: SiteContext, parent: Scope | undefined, sorted: boolean, top: boolean): { routes: RouteConfig[]; values: ConfigValue[] } {
  const scope: Scope = { matchers: new Map(), parent };
  for (const line of lines) {
    if (!line.name.text.startsWith('@')) continue;
    const d = new Dispenser(line);
    // As in Caddy, a nested block inherits the enclosing names and may not redefine them.
    if (lookup(scope, line.name.text)) {
      ctx.errors.push(d.err(`matcher is defined more than once: ${line.name.text}`, line.name)); continue;
    }
    try { scope.matchers.set(line.name.text, [parseNamedMatcher(d)]); } catch (e) { collect(ctx, e); }
  }
  const helper: DirectiveHelper = {
    options: ctx.options,
    warn: ctx.warn,
    matcher(d) {
      const t = d.peek();
      if (!t) return undefined;
      // As in Caddy, the token's text decides, quoted or not.
      if (t.text === '*') { d.nextArg(); return undefined; }
      if (t.text.startsWith('/')) { d.nextArg(); return [{ path: [t.text] }]; }
      if (t.text.startsWith('@')) {
        d.nextArg();
        const m = lookup(scope, t.text);
        if (!m) throw d.err(`unrecognized matcher name: ${t.text}`, t, { code: 'ERR_CFG_UNKNOWN' });
        return m;
      }
      return undefined;
    },
    routes(nested, nestedSorted) {
      const r = runLevel(nested.map((n) => n.node), ctx, scope, nestedSorted, false);
      for (const v of r.values) ctx.errors.push(new ConfigError('ERR_CFG_VALUE', v.span, `${v.directive} cannot be used inside a nested block`));
      return r.routes;
    },
  };
  const pending: PendingRoute[] = [];
  const values: ConfigValue[] = [];
  for (const line of lines) {
    if (line.name.text.startsWith('@')) continue;
    const name = line.name.text;
    const parse = getDirective(name);
    if (!parse) { ctx.errors.push(unknownDirective(line, top)); continue; }
    if (sorted && !ctx.order.includes(name) && producesRoutes(name)) {
      ctx.errors.push(new ConfigError('ERR_CFG_VALUE', line.name.span,
        `directive '${name}' is not an ordered HTTP handler, so it cannot be used here`,
        { hint: 'try placing within a route block or using the order global option' }));
      continue;
    }
    try {
      for (const v of parse(new Dispenser(line), helper)) {
        if (v.class === 'route') pending.push({ directive: name, route: v.value as RouteConfig });
        else values.push(v);
      }
    } catch (e) { collect(ctx, e); }
  }
  const routes = sorted ? sortRoutes(pending, ctx.order, ctx.nextGroup) : pending.map((p) => p.route);
  return { routes, values };
}

/** Directives that are not in the order list but are placed by the adapter rather than sorted. */
const PLACED = new Set(['tls', 'bind', 'log', 'handle_errors', 'import']);
function producesRoutes(name: string): boolean { return !PLACED.has(name); }

function unknownDirective(line: Directive, top: boolean): ConfigError {
  const name = line.name.text;
  const guess = didYouMean(name, directiveNames());
  const looksLikeSite = top && /[.:]/.test(name) && !name.startsWith('/');
  return new ConfigError('ERR_CFG_UNKNOWN', line.name.span, `unrecognized directive: ${name}`, {
    hint: guess ? `did you mean "${guess}"?`
      : looksLikeSite ? 'Did you mean to define a second site? If so, you must use curly braces around each site to separate their configurations.'
        : undefined,
  });
}

function collect(ctx: SiteContext, e: unknown): void {
  if (e instanceof ConfigError) ctx.errors.push(e);
  else if (e instanceof QsError && 'errors' in e) ctx.errors.push(...(e as unknown as { errors: ConfigError[] }).errors);
  else throw e;
}

/** Adapts one site block. */
export function adaptSite(block: ServerBlock, ctx: SiteContext): SiteResult {
  return runLevel(rewriteTree(block.body), ctx, undefined, true, true);
}

export { DIRECTIVE_ORDER };
