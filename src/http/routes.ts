/**
 * Route lists compiled once at provision (Caddy's RouteList.Compile): each
 * route's matchers and handler modules are loaded through the module host,
 * and a request walks the list with an index. Rules, as in Caddy:
 *  - a route runs when any of its matcher sets matches (all matchers of a set must);
 *  - routes of one `group` are mutually exclusive: the first that matches wins;
 *  - a terminal route ends the list (its last handler's next() is a no-op);
 *  - a handler that calls next() twice gets an error, not a second run.
 */
import type { ModuleConfig, ModuleContext } from '../host/module.ts';
import { ConfigError, QsError } from '../host/errors.ts';
import type { HandlerConfig, HttpContext, HttpHandler, MatcherSet, Next, RequestMatcher, RouteConfig } from './handler.ts';

/** A compiled route list (or handler chain): call with the request and what comes after. */
export type Chain = (c: HttpContext, next: Next) => Promise<void>;

interface CompiledRoute {
  sets: RequestMatcher[][];
  run: Chain;
  terminal: boolean;
  group: string | undefined;
}

const done: Next = () => Promise.resolve();

/** Loads the matchers of one set (`{ path: [...], host: [...] }`). Keys starting with `@` are metadata. */
export async function loadMatcherSet(ctx: ModuleContext, set: MatcherSet): Promise<RequestMatcher[]> {
  const out: RequestMatcher[] = [];
  for (const [name, cfg] of Object.entries(set)) {
    if (name.startsWith('@')) continue;
    out.push(await ctx.load<RequestMatcher>(`http.matchers.${name}`, cfg as ModuleConfig));
  }
  return out;
}

/** Loads OR-ed matcher sets. */
export async function loadMatcherSets(ctx: ModuleContext, sets: MatcherSet[] | undefined): Promise<RequestMatcher[][]> {
  const out: RequestMatcher[][] = [];
  for (const set of sets ?? []) out.push(await loadMatcherSet(ctx, set));
  return out;
}

/** True when there are no sets, or any set has all its matchers matching. */
export function matchesAny(sets: RequestMatcher[][], c: HttpContext): boolean {
  if (sets.length === 0) return true;
  outer: for (const set of sets) {
    for (const m of set) if (!m.match(c)) continue outer;
    return true;
  }
  return false;
}

/** Loads handler modules `http.handlers.<handler>`. */
export async function loadHandlers(ctx: ModuleContext, configs: HandlerConfig[]): Promise<HttpHandler[]> {
  const out: HttpHandler[] = [];
  for (const cfg of configs) {
    if (!cfg || typeof cfg.handler !== 'string') {
      throw new ConfigError('ERR_CFG_JSON', undefined, `handler config without a "handler" name: ${JSON.stringify(cfg)}`);
    }
    out.push(await ctx.load<HttpHandler>(`http.handlers.${cfg.handler}`, cfg));
  }
  return out;
}

/** Composes handlers into one chain; next() may be called once per handler. */
export function compose(handlers: HttpHandler[]): Chain {
  const n = handlers.length;
  if (n === 0) return (_c, next) => next();
  return (c, next) => {
    let index = -1;
    const dispatch = async (i: number): Promise<void> => {
      if (i <= index) throw new QsError('ERR_MODULE_VALIDATE', 'next() called multiple times');
      index = i;
      if (i === n) return next();
      return handlers[i]!.serveHTTP(c, () => dispatch(i + 1));
    };
    return dispatch(0);
  };
}

/**
 * Compiles a route list into one chain. `instrument` wraps each route's
 * handler chain (the server's metrics, given the first handler's name).
 */
export async function compileRoutes(ctx: ModuleContext, routes: RouteConfig[] | undefined, instrument?: (handler: string, run: Chain) => Chain): Promise<Chain> {
  const compiled: CompiledRoute[] = [];
  for (const r of routes ?? []) {
    const run = compose(await loadHandlers(ctx, r.handle ?? []));
    compiled.push({
      sets: await loadMatcherSets(ctx, r.match),
      run: instrument ? instrument(r.handle?.[0]?.handler ?? '', run) : run,
      terminal: r.terminal === true,
      group: r.group || undefined,
    });
  }
  const n = compiled.length;
  return (c, next) => {
    const from = async (start: number): Promise<void> => {
      for (let i = start; i < n; i++) {
        const r = compiled[i]!;
        if (!matchesAny(r.sets, c)) continue;
        if (r.group !== undefined) {
          const g = (c.groups ??= new Set());
          if (g.has(r.group)) continue;
          g.add(r.group);
        }
        return r.run(c, r.terminal ? done : () => from(i + 1));
      }
      return next();
    };
    return from(0);
  };
}
