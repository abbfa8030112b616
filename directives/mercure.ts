/**
 * The `mercure` directive (Mercure v0.24 Caddyfile syntax):
 *
 *     mercure [<matcher>] {
 *         publisher_jwt <key> [<alg>]          # alg default HS256; {env.X} kept as a placeholder
 *         subscriber_jwt <key> [<alg>]
 *         publisher_jwks_url <url>             # http(s):// or file://
 *         subscriber_jwks_url <url>
 *         anonymous
 *         subscriptions
 *         heartbeat <duration>                 # default 40s; 0 disables
 *         write_timeout <duration>             # default 600s; 0 disables
 *         dispatch_timeout <duration>          # default 5s; 0 disables
 *         flush_interval <duration>            # ours: default 20ms; 0 writes each update at once
 *         publish_origins <origin>…
 *         cors_origins <origin>…
 *         cookie_name <name>                   # default mercureAuthorization
 *         protocol_version_compatibility 7
 *         topic_selector_cache <size> | <entries_per_shard> <shards>   # default 100000
 *         subscriber_list_cache_size <n>
 *         name <name>                          # default "default"
 *         ui
 *         demo
 *         transport <name> [{ … }]             # default bolt; see src/transports/<name>/caddyfile.ts
 *         transport_url <url>                  # deprecated
 *         license <key>                        # accepted and ignored (commercial configs)
 *     }
 *
 * Unlike the reference hub, which silently ignores unknown subdirectives,
 * an unknown name is an error listing the known ones with a did-you-mean, and
 * a subdirective given twice is an error (origins lists may repeat and add up).
 * The flags (anonymous, subscriptions, ui, demo) are read as the reference
 * reads them: twice is fine, and words after one on its line are ignored with
 * a warning (a one-line MERCURE_EXTRA_DIRECTIVES).
 */
import { unknownName } from '../src/host/errors.ts';
import type { HandlerConfig } from '../src/http/handler.ts';
import { isValidOrigin } from '../src/mercure/origins.ts';
import type { Dispenser } from '../src/caddyfile/dispenser.ts';
import { registerHandlerDirective } from './registry.ts';
import { parseBlock, type SubTable, type Warn } from '../src/caddyfile/table.ts';
import { transportDescriptor, transportNames } from '../src/transports/core/descriptor.ts';
import { parseInt10 } from '../src/caddyfile/values.ts';

function jwtKey(d: Dispenser): { key: string; alg?: string } {
  const [key, alg] = d.strings(1, 2);
  return alg === undefined || alg === '' ? { key: key! } : { key: key!, alg };
}

function origins(d: Dispenser): string[] {
  return d.args(1, Infinity).map((t) => {
    if (!isValidOrigin(t.text)) {
      throw d.err(`invalid origin "${t.text}"`, t, { expected: '"*", "null" or scheme://host[:port] without path, query, fragment or userinfo' });
    }
    return t.text;
  });
}

function transport(d: Dispenser): Record<string, unknown> {
  const nameTok = d.nextArg();
  if (!nameTok) throw d.argErr();
  const parse = transportDescriptor(nameTok.text)?.parseBlock;
  if (!parse) throw unknownName('Mercure transport', nameTok.text, nameTok.span, transportNames());
  return { name: nameTok.text, ...parse(d) };
}

/**
 * `topic_selector_cache <size>` (what the reference hub's code reads), or
 * `<max_entries_per_shard> <shard_count>` (what its docs show): the cache then
 * holds their product.
 */
function selectorCache(d: Dispenser): { size: number } | { max_entries_per_shard: number; shard_count: number } {
  const [a, b] = d.args(1, 2);
  if (b === undefined) return { size: parseInt10(a!) };
  return { max_entries_per_shard: parseInt10(a!), shard_count: parseInt10(b, 1) };
}

const TABLE: SubTable = {
  publisher_jwt: { parse: jwtKey },
  subscriber_jwt: { parse: jwtKey },
  publisher_jwks_url: { kind: 'string' },
  subscriber_jwks_url: { kind: 'string' },
  // As the reference hub reads them: may be given twice; words after one on its line are ignored, with a warning.
  anonymous: { kind: 'flag', lenientFlag: true },
  subscriptions: { kind: 'flag', lenientFlag: true },
  ui: { kind: 'flag', lenientFlag: true },
  demo: { kind: 'flag', lenientFlag: true },
  heartbeat: { kind: 'duration' },
  write_timeout: { kind: 'duration' },
  dispatch_timeout: { kind: 'duration' },
  // Ours, not the reference hub's: the minimum spacing of write rounds per stream (default 20ms; 0 = write each update at once).
  flush_interval: { kind: 'duration' },
  publish_origins: { parse: origins, kind: 'strings', repeat: true },
  cors_origins: { parse: origins, kind: 'strings', repeat: true },
  cookie_name: { kind: 'string' },
  protocol_version_compatibility: {
    parse: (d) => {
      const t = d.args(1)[0]!;
      const v = parseInt10(t);
      if (v !== 7) throw d.err(`protocol_version_compatibility ${t.text} is not supported`, t, { expected: '7' });
      return v;
    },
  },
  topic_selector_cache: { key: 'cache', parse: selectorCache },
  subscriber_list_cache_size: { kind: 'uint' },
  name: { kind: 'string' },
  transport: { parse: transport },
  transport_url: { kind: 'string' },
  license: { kind: 'string' },
};

/** Parses a `mercure` directive into the `http.handlers.mercure` config. */
export function parseMercure(d: Dispenser, warn?: Warn): HandlerConfig {
  d.done();
  const cfg = parseBlock(d, TABLE, 'mercure', {}, warn);
  delete cfg.license; // accepted for commercial-config compatibility; nothing is gated, and the key stays out of the JSON
  return { handler: 'mercure', ...cfg };
}

/** Registers the directive (called from directives/index.ts). */
export function registerMercureDirective(): void {
  registerHandlerDirective('mercure', (d, h) => parseMercure(d, (span, msg) => h.warn(span, msg)));
}
