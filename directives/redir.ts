/**
 * redir [<matcher>] <to> [<code>]
 *
 * code: temporary (302, default), permanent (301), any 3xx, 401, a
 * placeholder, or `html` (a 200 page that redirects with JS and a meta
 * refresh, without a Location header). Compiles to `static_response`.
 */
import type { StaticResponseConfig } from '../src/http/handlers/static-response.ts';
import type { Dispenser } from '../src/caddyfile/dispenser.ts';

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;');
}

export function parseRedir(d: Dispenser): StaticResponseConfig {
  d.noBlock();
  const [toTok, codeTok] = d.args(1, 2);
  const to = toTok!.text;
  let code = codeTok?.text ?? '';
  const out: StaticResponseConfig = { handler: 'static_response' };
  switch (code) {
    case 'permanent': code = '301'; break;
    case 'temporary': case '': code = '302'; break;
    case 'html': {
      const safe = escapeHtml(to);
      out.body = `<!DOCTYPE html>\n<html>\n\t<head>\n\t\t<title>Redirecting...</title>\n\t\t<script>window.location.replace("${safe}");</script>\n\t\t<meta http-equiv="refresh" content="0; URL='${safe}'">\n\t</head>\n\t<body>Redirecting to <a href="${safe}">${safe}</a>...</body>\n</html>\n`;
      out.headers = { 'Content-Type': ['text/html; charset=utf-8'] };
      out.status_code = 200;
      return out;
    }
    default: {
      if (code.startsWith('{')) break;
      if (!/^\d+$/.test(code)) throw d.err(`Not a supported redir code type or not valid integer: '${code}'`, codeTok, { code: 'ERR_CFG_ARGS' });
      const n = Number(code);
      if (n < 300 || (n > 399 && n !== 401)) throw d.err(`Redir code not in the 3xx range or 401: '${n}'`, codeTok, { code: 'ERR_CFG_VALUE' });
    }
  }
  out.headers = { Location: [to] };
  out.status_code = /^\d+$/.test(code) ? Number(code) : code;
  return out;
}
