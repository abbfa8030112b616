/**
 * Request matcher parsers for named matchers (`@name <matcher> <args…>` or a
 * `@name { … }` block). Each returns the matcher's JSON config; `previous`
 * is the value from an earlier line of the same matcher in the set, which is
 * merged (several values of one matcher are OR-ed).
 *
 *   path <patterns...>                    → ["/a*", …]
 *   path_regexp [<name>] <regexp>         → { name?, pattern }
 *   host <hosts...>                       → ["a.com", …]
 *   method <methods...>                   → ["GET", …]
 *   header <field> [<values...>]          → { Field: [values] }   (`!Field` → must be absent)
 *   header_regexp [<name>] <field> <re>   → { Field: { name?, pattern } }
 *   query <key>=<val>...                  → { key: [vals] }
 *   protocol http|https|grpc|http/<ver>[+] → "https"
 *   remote_ip [forwarded] <ranges...>     → { ranges }
 *   client_ip <ranges...>                 → { ranges }
 *   vars <var> <values...>                → { var: [values] }
 *   not <matcher> … | not { … }           → [ {set}, … ]
 *   expression <cel>                      → "<cel>"  (a small CEL subset at runtime)
 *   file [<files...>] { root, try_files, try_policy, split_path } → { root?, try_files?, try_policy?, split_path? }
 */
import { unknownName } from '../src/host/errors.ts';
import type { MatcherSet } from '../src/http/handler.ts';
import { Dispenser } from '../src/caddyfile/dispenser.ts';
import { canonicalHeader } from './header.ts';
import { parseMatcherSet, registerMatcher } from './registry.ts';
import { parseEnum } from '../src/caddyfile/values.ts';

const strs = (prev: unknown) => (Array.isArray(prev) ? (prev as string[]) : []);
const obj = <T>(prev: unknown) => ({ ...((prev ?? {}) as Record<string, T>) });

function noBlock(d: Dispenser): void { d.noBlock(); }

export function registerHttpMatchers(): void {
  registerMatcher('path', (d, prev) => { noBlock(d); return [...strs(prev), ...d.strings(1, Infinity)]; });
  registerMatcher('path_regexp', (d) => {
    noBlock(d);
    const a = d.strings(1, 2);
    return a.length === 2 ? { name: a[0], pattern: a[1] } : { pattern: a[0] };
  });
  registerMatcher('host', (d, prev) => { noBlock(d); return [...strs(prev), ...d.strings(1, Infinity)]; });
  registerMatcher('method', (d, prev) => { noBlock(d); return [...strs(prev), ...d.strings(1, Infinity).map((m) => m.toUpperCase())]; });
  registerMatcher('header', (d, prev) => {
    noBlock(d);
    const [field, ...values] = d.strings(1, Infinity);
    const out = obj<string[] | null>(prev);
    if (field!.startsWith('!')) {
      if (values.length) throw d.err('malformed header matcher: a negated field takes no values');
      out[canonicalHeader(field!.slice(1))] = null;
    } else {
      const f = canonicalHeader(field!);
      out[f] = [...((out[f] as string[] | null | undefined) ?? []), ...values];
    }
    return out;
  });
  registerMatcher('header_regexp', (d, prev) => {
    noBlock(d);
    const a = d.strings(2, 3);
    const out = obj<unknown>(prev);
    if (a.length === 3) out[canonicalHeader(a[1]!)] = { name: a[0], pattern: a[2] };
    else out[canonicalHeader(a[0]!)] = { pattern: a[1] };
    return out;
  });
  registerMatcher('query', (d, prev) => {
    noBlock(d);
    const out = obj<string[]>(prev);
    for (const t of d.args(1, Infinity)) {
      const eq = t.text.indexOf('=');
      if (eq < 0) throw d.err(`malformed query matcher token: ${t.text}; must be in param=val format`, t, { code: 'ERR_CFG_ARGS' });
      const k = t.text.slice(0, eq);
      out[k] = [...(out[k] ?? []), t.text.slice(eq + 1)];
    }
    return out;
  });
  registerMatcher('protocol', (d) => { noBlock(d); return d.string(); });
  registerMatcher('remote_ip', (d, prev) => {
    noBlock(d);
    let args = d.strings(1, Infinity);
    if (args[0] === 'forwarded') throw d.err("the 'forwarded' option is no longer supported; use the 'client_ip' matcher instead");
    args = args.flatMap((a) => (a === 'private_ranges' ? ['private_ranges'] : [a]));
    return { ranges: [...(((prev as { ranges?: string[] })?.ranges) ?? []), ...args] };
  });
  registerMatcher('client_ip', (d, prev) => {
    noBlock(d);
    return { ranges: [...(((prev as { ranges?: string[] })?.ranges) ?? []), ...d.strings(1, Infinity)] };
  });
  registerMatcher('vars', (d, prev) => {
    noBlock(d);
    const [k, ...vals] = d.strings(2, Infinity);
    const out = obj<string[]>(prev);
    out[k!] = [...(out[k!] ?? []), ...vals];
    return out;
  });
  registerMatcher('not', (d, prev) => [...((prev as MatcherSet[] | undefined) ?? []), parseMatcherSet(d)]);
  registerMatcher('expression', (d, prev) => {
    noBlock(d);
    const expr = d.strings(1, Infinity).join(' ');
    return prev ? `(${String(prev)}) && (${expr})` : expr;
  });
  registerMatcher('file', (d) => {
    const out: Record<string, unknown> = {};
    const files = d.strings(0, Infinity);
    if (files.length) out.try_files = files;
    for (const line of d.block()) {
      switch (line.name) {
        case 'root': out.root = line.string(); break;
        case 'try_files': out.try_files = line.strings(1, Infinity); break;
        case 'try_policy': out.try_policy = parseEnum(line.args(1)[0]!, ['first_exist', 'first_exist_fallback', 'smallest_size', 'largest_size', 'most_recently_modified'] as const); break;
        case 'split_path': out.split_path = line.strings(1, Infinity); break;
        default: throw unknownName('subdirective in file matcher', line.name, line.span, ['root', 'try_files', 'try_policy', 'split_path']);
      }
    }
    return out;
  });
}
