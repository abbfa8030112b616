/**
 * `rate_limit` (mholt/caddy-ratelimit). Ordered "before basic_auth" (see registry.ts).
 *
 *   rate_limit [<matcher>] {
 *       zone <name> {
 *           match { <request matchers…> }   # optional, may repeat (sets are ORed)
 *           key         <string>            # placeholders, e.g. {remote_host}, {client_ip}
 *           window      <duration>          # required
 *           events      <max events>        # required
 *           ipv4_prefix <0-32>
 *           ipv6_prefix <0-128>
 *       }
 *       distributed {                        # the block is optional
 *           read_interval  <duration>       # default 5s
 *           write_interval <duration>       # default 5s
 *           purge_age      <duration>       # default: never
 *       }
 *       storage <module> { … }               # default: the global storage
 *       jitter  <fraction>                   # 0.2 = up to +20% on Retry-After
 *       sweep_interval <duration>            # default 1m
 *       log_key
 *       disable_metrics
 *   }
 *
 * Error texts are the plugin's, so searches for them find the plugin's docs too.
 */
import type { ZoneConfig } from '../src/http/rate-limit/config.ts';
import type { HandlerConfig, MatcherSet } from '../src/http/handler.ts';
import { formatDuration, parseDurationString } from '../src/host/duration.ts';
import { didYouMean, unknownName } from '../src/host/errors.ts';
import type { Dispenser } from '../src/caddyfile/dispenser.ts';
import { getMatcher, getStorage, matcherNames, registerHandlerDirective, registerStorage, storageNames } from './registry.ts';
import { parseRedisStorage } from './storage-redis.ts';

/** `unrecognized subdirective 'x'`, with the known names and a did-you-mean. */
function unrecognized(line: Dispenser, known: string[]) {
  const guess = didYouMean(line.name, known);
  return line.err(`unrecognized subdirective '${line.name}'`, line.span,
    { code: 'ERR_CFG_UNKNOWN', expected: `one of ${known.join(', ')}`, hint: guess ? `did you mean "${guess}"?` : undefined });
}

/** The single argument of a line (ArgErr otherwise). */
const one = (line: Dispenser) => { line.noBlock(); return line.args(1)[0]!; };

/** A duration argument; `what` names it in the plugin's message (`invalid read interval 'x': …`). */
function duration(line: Dispenser, what: string): string {
  const t = one(line);
  const ms = parseDurationString(t.text);
  if (ms === undefined) throw line.err(`invalid ${what} '${t.text}': time: invalid duration "${t.text}"`, t);
  return formatDuration(ms);
}

/** Go's strconv.Atoi, with its error text. */
function integer(line: Dispenser, what: string): number {
  const t = one(line);
  if (!/^[+-]?\d+$/.test(t.text)) throw line.err(`invalid ${what} '${t.text}': strconv.Atoi: parsing "${t.text}": invalid syntax`, t);
  return Number(t.text);
}

/** `match { … }`: one matcher set, parsed by the registered matcher parsers. */
function matchSet(line: Dispenser): MatcherSet {
  line.args(0);
  const set: MatcherSet = {};
  for (const m of line.block()) {
    const parse = getMatcher(m.name);
    if (!parse) throw unknownName('matcher', m.name, m.span, matcherNames());
    set[m.name] = parse(m, set[m.name]);
  }
  return set;
}

const ZONE_KEYS = ['match', 'key', 'window', 'events', 'ipv4_prefix', 'ipv6_prefix'];

function zone(d: Dispenser): ZoneConfig {
  const z: ZoneConfig = {};
  for (const line of d.block()) {
    switch (line.name) {
      case 'match': (z.match ??= []).push(matchSet(line)); break;
      case 'key': {
        const t = one(line);
        if (z.key) throw line.err(`zone key already specified: ${z.key}`, t);
        z.key = t.text;
        break;
      }
      case 'window': {
        const w = duration(line, 'window duration');
        if (z.window) throw line.err(`zone window already specified: ${z.window}`);
        z.window = w;
        break;
      }
      case 'events': {
        const n = integer(line, 'max events integer');
        if (z.max_events) throw line.err(`zone max events already specified: ${z.max_events}`);
        z.max_events = n;
        break;
      }
      case 'ipv4_prefix': z.ipv4_prefix = integer(line, 'ipv4_prefix integer'); break;
      case 'ipv6_prefix': z.ipv6_prefix = integer(line, 'ipv6_prefix integer'); break;
      default: throw unrecognized(line, ZONE_KEYS);
    }
  }
  if (!z.window || !z.max_events) throw d.err('a rate limit zone requires both a window and maximum events');
  return z;
}

const DIST_KEYS: Record<string, [string, string]> = {
  read_interval: ['read interval', 'read_interval'],
  write_interval: ['write interval', 'write_interval'],
  purge_age: ['purge age', 'purge_age'],
};

function distributed(d: Dispenser): Record<string, string> {
  d.args(0);
  const out: Record<string, string> = {};
  for (const line of d.block()) {
    const spec = DIST_KEYS[line.name];
    if (!spec) throw unrecognized(line, Object.keys(DIST_KEYS));
    const [what, key] = spec;
    const v = duration(line, what);
    if (out[key]) throw line.err(`${what} already specified: ${out[key]}`);
    out[key] = v;
  }
  return out;
}

const TOP_KEYS = ['zone', 'distributed', 'storage', 'jitter', 'sweep_interval', 'log_key', 'disable_metrics'];

/** Parses one `rate_limit` directive (after its matcher token). */
export function parseRateLimit(d: Dispenser): HandlerConfig {
  d.done();
  const h: HandlerConfig & Record<string, unknown> = { handler: 'rate_limit' };
  for (const line of d.block()) {
    switch (line.name) {
      case 'zone': {
        const name = line.args(1)[0]!.text;
        ((h.rate_limits ??= {}) as Record<string, ZoneConfig>)[name] = zone(line);
        break;
      }
      case 'distributed': h.distributed = distributed(line); break;
      case 'storage': {
        const mod = line.nextArg();
        if (!mod) throw line.argErr();
        const parse = getStorage(mod.text);
        if (!parse) throw unknownName('storage module', mod.text, mod.span, storageNames());
        h.storage = { module: mod.text, ...parse(line) };
        break;
      }
      case 'jitter': {
        const t = one(line);
        const j = Number(t.text);
        if (t.text.trim() === '' || !Number.isFinite(j)) throw line.err(`invalid jitter percentage '${t.text}': strconv.ParseFloat: parsing "${t.text}": invalid syntax`, t);
        if (h.jitter) throw line.err(`jitter already specified: ${String(h.jitter)}`, t);
        h.jitter = j;
        break;
      }
      case 'sweep_interval': {
        const v = duration(line, 'sweep interval');
        if (h.sweep_interval) throw line.err(`sweep interval already specified: ${String(h.sweep_interval)}`);
        h.sweep_interval = v;
        break;
      }
      case 'log_key': line.args(0); line.noBlock(); h.log_key = true; break;
      case 'disable_metrics': line.args(0); line.noBlock(); h.disable_metrics = true; break;
      default: throw unrecognized(line, TOP_KEYS);
    }
  }
  return h;
}

/** Registers `storage redis` and the `rate_limit` directive. Called once from directives/index.ts. */
export function registerRedisStorageAndRateLimit(): void {
  registerStorage('redis', parseRedisStorage);
  registerHandlerDirective('rate_limit', (d) => parseRateLimit(d));
}
