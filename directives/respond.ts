/**
 * respond [<matcher>] <status>|<body> [<status>] {
 *     body <text>
 *     close
 * }
 *
 * One argument is a status when it is exactly three digits, else the body.
 * Compiles to `{ handler: "static_response", status_code?, body?, close? }`.
 */
import type { StaticResponseConfig } from '../src/http/handlers/static-response.ts';
import type { Dispenser } from '../src/caddyfile/dispenser.ts';

/** A status argument as JSON: a number when numeric, else the text (a placeholder). */
export function statusValue(text: string): number | string {
  return /^\d+$/.test(text) ? Number(text) : text;
}

export function parseRespond(d: Dispenser): StaticResponseConfig {
  const args = d.args(1, 2);
  const out: StaticResponseConfig = { handler: 'static_response' };
  if (args.length === 1) {
    const a = args[0]!.text;
    if (/^\d{3}$/.test(a) && Number(a) > 0) out.status_code = Number(a);
    else out.body = a;
  } else {
    out.body = args[0]!.text;
    const s = args[1]!.text;
    if (!/^\d{3}$/.test(s) && !s.startsWith('{')) throw d.err(`invalid status code '${s}'`, args[1], { code: 'ERR_CFG_ARGS' });
    out.status_code = statusValue(s);
  }
  for (const line of d.block()) {
    switch (line.name) {
      case 'body':
        if (out.body !== undefined) throw line.err('body already specified');
        out.body = line.string();
        break;
      case 'close':
        if (out.close) throw line.err('close already specified');
        line.args(0);
        out.close = true;
        break;
      default:
        throw line.err(`unrecognized subdirective '${line.name}'`, line.span, { code: 'ERR_CFG_UNKNOWN', expected: 'body or close' });
    }
  }
  return out;
}
