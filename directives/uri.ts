/**
 * uri [<matcher>] strip_prefix <target>
 *                 | strip_suffix <target>
 *                 | replace <target> <replacement> [<limit>]
 *                 | path_regexp <target> <replacement>
 *
 * Compiles to a `rewrite` handler (strip_path_prefix, strip_path_suffix,
 * uri_substring, path_regexp). Query editing (`uri query`) is not supported.
 */
import type { RewriteConfig } from '../src/http/handlers/rewrite.ts';
import type { Dispenser } from '../src/caddyfile/dispenser.ts';
import { parseInt10 } from '../src/caddyfile/values.ts';

export function parseUri(d: Dispenser): RewriteConfig {
  d.noBlock();
  const op = d.nextArg();
  if (!op) throw d.argErr();
  const out: RewriteConfig = { handler: 'rewrite' };
  switch (op.text) {
    case 'strip_prefix': { const t = d.string(); out.strip_path_prefix = t.startsWith('/') ? t : '/' + t; break; }
    case 'strip_suffix': out.strip_path_suffix = d.string(); break;
    case 'replace': {
      const a = d.args(2, 3);
      out.uri_substring = [{ find: a[0]!.text, replace: a[1]!.text, ...(a[2] ? { limit: parseInt10(a[2], 0) } : {}) }];
      break;
    }
    case 'path_regexp': { const [f, r] = d.strings(2); out.path_regexp = [{ find: f!, replace: r! }]; break; }
    case 'query': throw d.err("'uri query' is not supported by this server", op);
    default: throw d.err(`unrecognized URI manipulation '${op.text}'`, op, { code: 'ERR_CFG_UNKNOWN', expected: 'strip_prefix, strip_suffix, replace or path_regexp' });
  }
  return out;
}
