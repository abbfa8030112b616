/**
 * The directive registry and THE directive order. Handler directives are
 * sorted into this order regardless of where they appear in a site block
 * (Caddy's defaultDirectiveOrder). Plugin directives are slotted in where
 * their Caddy plugins put them:
 *   rate_limit  — "before basic_auth" (caddy-ratelimit), so limits apply before auth and proxies;
 *   mercure     — "after encode" (Mercure), so the hub's responses can be compressed but SSE never is;
 *   php, php_server — "before file_server" (FrankenPHP).
 */
import type { Span } from '../grammar/ast.ts';
import type { HandlerConfig, MatcherSet, RouteConfig } from '../src/http/handler.ts';
import { Dispenser } from '../src/caddyfile/dispenser.ts';
import { unknownName } from '../src/host/errors.ts';

export const DIRECTIVE_ORDER: readonly string[] = [
  'tracing', 'map', 'vars', 'fs', 'root', 'log_append', 'skip_log', 'log_skip', 'log_name',
  'header', 'copy_response_headers', 'request_body', 'timeouts',
  'redir', 'method', 'rewrite', 'uri', 'try_files',
  'basicauth', 'rate_limit', 'basic_auth', 'forward_auth', 'request_header',
  'encode', 'mercure', 'push', 'intercept', 'templates',
  'invoke', 'handle', 'handle_path', 'route',
  'abort', 'error', 'copy_response', 'respond', 'metrics',
  'reverse_proxy', 'php_fastcgi', 'php', 'php_server',
  'file_server', 'acme_server',
];

/**
 * What one directive line yields. `route` values are sorted into the site's
 * route list; other classes are placed by the adapter:
 *   error_route — handle_errors routes; bind — listener hosts; tls — TLS policy for the site's hosts;
 *   log — access log for the site's hosts.
 */
export interface ConfigValue {
  class: 'route' | 'error_route' | 'bind' | 'tls' | 'log';
  value: unknown;
  directive: string;
  span: Span;
}

/** Services the adapter offers to directive parsers. */
export interface DirectiveHelper {
  /** Evaluated global options, by option name. */
  options: Record<string, unknown>;
  /**
   * Consumes an optional matcher token at d's position: `*` (match all → undefined),
   * a path starting with `/`, or `@name`. Unknown `@name` is a positioned error.
   */
  matcher(d: Dispenser): MatcherSet[] | undefined;
  /**
   * Turns nested directive lines (a `handle`/`route` block) into routes, with
   * the named matchers of the enclosing scopes visible. `sorted` sorts them by
   * the directive order (handle), otherwise they keep written order (route).
   */
  routes(lines: Dispenser[], sorted: boolean): RouteConfig[];
  /** Records a warning (printed by adapt/run). */
  warn(span: Span, message: string): void;
}

export type DirectiveParser = (d: Dispenser, h: DirectiveHelper) => ConfigValue[];
/** A handler directive's parser sees d positioned after the optional matcher token. */
export type HandlerParser = (d: Dispenser, h: DirectiveHelper) => HandlerConfig;
/** A global option's parser; `previous` is the value from an earlier line of the same option. */
export type GlobalOptionParser = (d: Dispenser, previous: unknown) => unknown;
/** A matcher's parser (`@name path /a /b` → its config for the `path` key). `previous` merges repeats. */
export type MatcherParser = (d: Dispenser, previous: unknown) => unknown;

const directives = new Map<string, DirectiveParser>();
const globalOptions = new Map<string, GlobalOptionParser>();
const matchers = new Map<string, MatcherParser>();

export function registerDirective(name: string, parse: DirectiveParser): void {
  if (directives.has(name)) throw new Error(`directive ${name} registered twice`);
  directives.set(name, parse);
}

/** Registers a handler directive: optional matcher token, then the handler's own arguments. */
export function registerHandlerDirective(name: string, parse: HandlerParser): void {
  registerDirective(name, (d, h) => {
    const match = h.matcher(d);
    const handler = parse(d, h);
    handler['@span'] ??= d.where;
    const route: RouteConfig = match ? { match, handle: [handler] } : { handle: [handler] };
    return [{ class: 'route', value: route, directive: name, span: d.span }];
  });
}

export function registerGlobalOption(name: string, parse: GlobalOptionParser): void {
  if (globalOptions.has(name)) throw new Error(`global option ${name} registered twice`);
  globalOptions.set(name, parse);
}

export function registerMatcher(name: string, parse: MatcherParser): void {
  if (matchers.has(name)) throw new Error(`matcher ${name} registered twice`);
  matchers.set(name, parse);
}

/**
 * Parses one matcher set: `<matcher> <args…>` on d's own line, or a block of
 * matcher lines (types ANDed; a repeated type merges). Used by named matchers
 * and by `not`.
 */
export function parseMatcherSet(d: Dispenser): MatcherSet {
  const set: MatcherSet = {};
  const apply = (line: Dispenser) => {
    const parse = matchers.get(line.name);
    if (!parse) throw unknownName('matcher', line.name, line.span, matcherNames());
    set[line.name] = parse(line, set[line.name]);
  };
  const args = d.node.args;
  if (args.length > 0) apply(new Dispenser({ name: args[0]!, args: args.slice(1), block: d.node.block }));
  else if (d.hasBlock()) for (const line of d.block()) apply(line);
  else throw d.argErr();
  return set;
}

export function getDirective(name: string): DirectiveParser | undefined { return directives.get(name); }
export function getGlobalOption(name: string): GlobalOptionParser | undefined { return globalOptions.get(name); }
export function getMatcher(name: string): MatcherParser | undefined { return matchers.get(name); }
export function directiveNames(): string[] { return [...directives.keys()]; }
export function globalOptionNames(): string[] { return [...globalOptions.keys()]; }
export function matcherNames(): string[] { return [...matchers.keys()]; }

/** A `storage <module> …` global option's parser for one storage module (`redis`, `file_system`). */
export type StorageParser = (d: Dispenser) => Record<string, unknown>;
const storages = new Map<string, StorageParser>();
export function registerStorage(name: string, parse: StorageParser): void {
  if (storages.has(name)) throw new Error(`storage ${name} registered twice`);
  storages.set(name, parse);
}
export function getStorage(name: string): StorageParser | undefined { return storages.get(name); }
export function storageNames(): string[] { return [...storages.keys()]; }
