/**
 * PHP directives (caddy.md §5 php_fastcgi, §8.2–8.4 FrankenPHP):
 *
 * php_fastcgi [<matcher>] <php-fpm addrs…> {
 *     root <path>; split <exts…>; env <key> <value>; index <file>|off; try_files <files…>
 *     resolve_root_symlink; dial_timeout <d>; read_timeout <d>; write_timeout <d>; capture_stderr
 *     max_conns <n>                      # quicksilver's own: bound of kept-alive connections per php-fpm
 *     …every reverse_proxy subdirective but `transport`
 * }
 * php [<matcher>] { root; split <exts…>; env K V; resolve_root_symlink [bool]; name; worker …; hot_reload …; request_body_timeout }
 * php_server [<matcher>] { …php's options…; index <file>|off; try_files <files…>; file_server off }
 * frankenphp { num_threads N; max_threads N|auto; max_wait_time; max_idle_time; max_requests; php_ini K V | php_ini { K V … }; worker … }
 *
 * php_fastcgi expands as Caddy does: a 308 to the canonical `dir/` when
 * `{path}/index.php` exists, a try_files rewrite (first_exist_fallback, split
 * .php), then `*.php` to reverse_proxy with the fastcgi transport. php and
 * php_server send PHP requests to the `php` handler, which runs a managed
 * php-fpm (src/php); php_server adds the same rewrite and a file_server.
 */
import type { HandlerConfig, RouteConfig } from '../src/http/handler.ts';
import type { Dispenser } from '../src/caddyfile/dispenser.ts';
import type { DirectiveHelper } from './registry.ts';
import { registerGlobalOption, registerHandlerDirective } from './registry.ts';
import { buildReverseProxy, registerProxyTransport, REVERSE_PROXY_TABLE } from './reverse-proxy.ts';
import { parseBlock, type SubTable } from '../src/caddyfile/table.ts';

const PATH = '{http.request.uri.path}';

const envPair = (l: Dispenser): [string, string] => {
  const [k, v] = l.strings(1, 2);
  return [k!, v ?? ''];
};

const workerLine = (l: Dispenser): Record<string, unknown> => {
  const args = l.strings(0, 2);
  const w: Record<string, unknown> = {};
  if (args[0]) w.file = args[0];
  if (args[1]) w.num = Number(args[1]);
  for (const sub of l.block()) w[sub.name] = sub.strings(0, Infinity).join(' ');
  return w;
};

/** Subdirectives php_fastcgi adds to reverse_proxy's; `fcgi.*` keys go to the fastcgi transport. */
const FASTCGI_TABLE: SubTable = {
  root: { key: 'fcgi.root' },
  split: { key: 'split', kind: 'strings' },
  env: { repeat: true, parse: envPair },
  index: {},
  try_files: { kind: 'strings' },
  resolve_root_symlink: { key: 'fcgi.resolve_root_symlink', kind: 'flag' },
  dial_timeout: { key: 'fcgi.dial_timeout', kind: 'duration' },
  read_timeout: { key: 'fcgi.read_timeout', kind: 'duration' },
  write_timeout: { key: 'fcgi.write_timeout', kind: 'duration' },
  capture_stderr: { key: 'fcgi.capture_stderr', kind: 'flag' },
  // Quicksilver's own: at most this many connections per php-fpm (set it to pm.max_children), all kept alive.
  max_conns: { key: 'fcgi.max_conns', kind: 'uint' },
};

const { transport: _transport, ...PROXY_WITHOUT_TRANSPORT } = REVERSE_PROXY_TABLE;
const PHP_FASTCGI_TABLE: SubTable = { ...PROXY_WITHOUT_TRANSPORT, ...FASTCGI_TABLE };

/** FrankenPHP's `php` options. */
const PHP_TABLE: SubTable = {
  root: {},
  split: { kind: 'strings' },
  // FrankenPHP's docs write split_path while its parser takes split: both are accepted here.
  split_path: { key: 'split', kind: 'strings' },
  env: { repeat: true, parse: envPair },
  resolve_root_symlink: { kind: 'bool' },
  name: {},
  worker: { repeat: true, parse: workerLine },
  hot_reload: { parse: (l) => l.strings(0, Infinity) },
  request_body_timeout: { kind: 'duration' },
};

/** `php_server` adds these to `php`'s. */
const PHP_SERVER_TABLE: SubTable = {
  ...PHP_TABLE,
  index: {},
  try_files: { kind: 'strings' },
  file_server: { parse: (l) => { const v = l.string(); if (v !== 'off') throw l.err(`file_server: expected 'off', got '${v}'`); return false; } },
};

interface PhpRoutesOptions {
  handler: HandlerConfig;
  split: string[];
  index: string;
  tryFiles?: string[];
  root?: string;
  /** php_server: PHP also gets `*.php/*`, the rewrite keeps the remainder, a file_server ends the chain. */
  server: boolean;
  fileServer: boolean;
}

/** The route list both directives expand to (caddy.md §5 php_fastcgi, §8.4). */
function phpRoutes(o: PhpRoutesOptions): HandlerConfig {
  const routes: RouteConfig[] = [];
  const root = o.root !== undefined ? { root: o.root } : {};
  if (o.index !== 'off') {
    const dirIndex = `${PATH}/${o.index}`;
    if (!o.tryFiles || o.tryFiles.includes(dirIndex) || o.tryFiles.includes(`{path}/${o.index}`)) {
      routes.push({
        match: [{ file: { ...root, try_files: [dirIndex] }, not: [{ path: ['*/'] }] }],
        handle: [{
          handler: 'static_response',
          headers: { Location: [`{http.request.orig_uri.path}/${o.server ? '' : '{http.request.orig_uri.prefixed_query}'}`] },
          status_code: 308,
        }],
      });
    }
    const tries = o.tryFiles ?? [...(o.server && !o.fileServer ? [] : [PATH]), dirIndex, o.index];
    const last = tries[tries.length - 1] ?? '';
    const fallback = !o.tryFiles || o.split.some((s) => last.endsWith(s));
    routes.push({
      match: [{ file: { ...root, try_files: tries, ...(fallback ? { try_policy: 'first_exist_fallback' } : {}), split_path: o.split } }],
      handle: [{ handler: 'rewrite', uri: o.server ? '{http.matchers.file.relative}{http.matchers.file.remainder}' : '{http.matchers.file.relative}' }],
    });
  }
  const paths = o.split.flatMap((s) => (o.server ? [`*${s}`, `*${s}/*`] : [`*${s}`]));
  routes.push({ match: [{ path: paths }], handle: [o.handler] });
  if (o.server && o.fileServer) routes.push({ handle: [{ handler: 'file_server', ...root }] });
  return { handler: 'subroute', routes };
}

function parsePhpFastcgi(d: Dispenser): HandlerConfig {
  const upstreams = d.strings(0, Infinity);
  const flat = parseBlock(d, PHP_FASTCGI_TABLE, 'php_fastcgi');
  const rp = buildReverseProxy(d, upstreams, flat);
  const split = (flat.split as string[] | undefined) ?? ['.php'];
  const transport: Record<string, unknown> = { protocol: 'fastcgi', split_path: split };
  for (const [k, v] of Object.entries(flat)) if (k.startsWith('fcgi.')) transport[k.slice(5)] = v;
  const env = flat.env as [string, string][] | undefined;
  if (env) transport.env = Object.fromEntries(env);
  rp.transport = transport as HandlerConfig & { protocol: string };
  return phpRoutes({
    handler: rp, split, index: (flat.index as string | undefined) ?? 'index.php', tryFiles: flat.try_files as string[] | undefined,
    root: transport.root as string | undefined, server: false, fileServer: false,
  });
}

/** The `php` handler's JSON from `php`/`php_server` options. */
function phpHandler(d: Dispenser, h: DirectiveHelper, flat: Record<string, unknown>): HandlerConfig {
  const out: HandlerConfig = { handler: 'php' };
  if (flat.root !== undefined) out.root = flat.root;
  out.split_path = (flat.split as string[] | undefined) ?? ['.php'];
  const env = flat.env as [string, string][] | undefined;
  if (env) out.env = Object.fromEntries(env);
  out.resolve_root_symlink = (flat.resolve_root_symlink as boolean | undefined) ?? true;
  const workers = flat.worker as Record<string, unknown>[] | undefined;
  const global = h.options.frankenphp as Record<string, unknown> | undefined;
  if (workers?.length || (global?.workers as unknown[] | undefined)?.length) h.warn(d.span, WORKER_WARNING);
  if (global) out.frankenphp = global;
  if (flat.hot_reload !== undefined) h.warn(d.span, 'php: hot_reload has no effect here: php-fpm reads the files on every request');
  return out;
}

/** What `worker` means here (also in the README). */
export const WORKER_WARNING = 'frankenphp worker mode is accepted but PHP runs in php-fpm here: each request runs the script from the start (no long-lived worker loop); worker files and counts are ignored';

function parsePhp(d: Dispenser, h: DirectiveHelper): HandlerConfig {
  d.done();
  const flat = parseBlock(d, PHP_TABLE, 'php');
  return phpHandler(d, h, flat);
}

function parsePhpServer(d: Dispenser, h: DirectiveHelper): HandlerConfig {
  d.done();
  const flat = parseBlock(d, PHP_SERVER_TABLE, 'php_server');
  const handler = phpHandler(d, h, flat);
  return phpRoutes({
    handler, split: handler.split_path as string[], index: (flat.index as string | undefined) ?? 'index.php',
    tryFiles: flat.try_files as string[] | undefined, root: flat.root as string | undefined,
    server: true, fileServer: flat.file_server !== false,
  });
}

const FRANKENPHP_TABLE: SubTable = {
  num_threads: { kind: 'uint' },
  max_threads: { parse: (l) => { const v = l.string(); if (v === 'auto') return 'auto'; const n = Number(v); if (!Number.isInteger(n) || n < 0) throw l.err(`max_threads: expected a number or 'auto', got '${v}'`); return n; } },
  max_wait_time: { kind: 'duration' },
  max_idle_time: { kind: 'duration' },
  max_requests: { kind: 'uint' },
  php_ini: {
    repeat: true,
    parse: (l) => {
      if (l.hasBlock()) { l.args(0); return l.block().map((s) => [s.name, s.strings(0, 1)[0] ?? ''] as [string, string]); }
      const [k, v] = l.strings(2);
      return [[k!, v!]];
    },
  },
  worker: { repeat: true, parse: workerLine },
};

/** The global `frankenphp` option (a bare `frankenphp` line is allowed). */
function parseFrankenphp(d: Dispenser): Record<string, unknown> {
  d.done();
  const flat = parseBlock(d, FRANKENPHP_TABLE, 'frankenphp');
  const out: Record<string, unknown> = {};
  if (flat.num_threads !== undefined) out.num_threads = flat.num_threads;
  if (flat.max_threads !== undefined) out.max_threads = flat.max_threads;
  if (flat.max_requests !== undefined) out.max_requests = flat.max_requests;
  if (flat.max_idle_time !== undefined) out.max_idle_time = flat.max_idle_time;
  if (flat.php_ini) out.php_ini = Object.fromEntries((flat.php_ini as [string, string][][]).flat());
  if (flat.worker) out.workers = flat.worker;
  return out;
}

/** `reverse_proxy { transport fastcgi { … } }`: the same options, under the transport's JSON names. */
const TRANSPORT_FASTCGI_TABLE: SubTable = {
  root: {},
  split: { key: 'split_path', kind: 'strings' },
  env: { repeat: true, parse: envPair },
  resolve_root_symlink: { kind: 'flag' },
  dial_timeout: { kind: 'duration' },
  read_timeout: { kind: 'duration' },
  write_timeout: { kind: 'duration' },
  capture_stderr: { kind: 'flag' },
  max_conns: { kind: 'uint' },
};

function parseFastcgiTransport(d: Dispenser): Record<string, unknown> {
  const out = parseBlock(d, TRANSPORT_FASTCGI_TABLE, 'transport fastcgi');
  if (out.env) out.env = Object.fromEntries(out.env as [string, string][]);
  return out;
}

export function registerPhpDirectives(): void {
  registerProxyTransport('fastcgi', parseFastcgiTransport);
  registerHandlerDirective('php_fastcgi', parsePhpFastcgi);
  registerHandlerDirective('php', parsePhp);
  registerHandlerDirective('php_server', parsePhpServer);
  registerGlobalOption('frankenphp', parseFrankenphp);
}
