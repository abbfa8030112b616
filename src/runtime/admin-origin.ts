/**
 * Who may talk to the admin endpoint. A web page on any origin can make a
 * browser send simple requests (form posts, `fetch(…, { mode: 'no-cors' })`,
 * `text/plain` bodies) to localhost without a preflight, so the Host check
 * alone (against DNS rebinding) is not enough. As Caddy does:
 *
 * - the allowed origins are the `origins` option, or by default the listen
 *   address (a loopback or wildcard listener also allows localhost,
 *   127.0.0.1 and [::1] on its port);
 * - the Host header must name one of them;
 * - an `Origin` header, when present, must be one of them (`null` never is);
 *   with `enforce_origin` it must be present;
 * - `Sec-Fetch-Site: cross-site | same-site` (a browser request started by
 *   another site's page) is refused unless its Origin is allowed;
 * - `POST /load` and `/adapt` need `Content-Type: application/json` or
 *   `text/caddyfile` (both need a CORS preflight, which is refused for
 *   origins that are not allowed).
 */

export interface AdminAccessOptions {
  /** The listen address as configured ("localhost:2019", ":2019", "[::1]:0"). */
  listen: string;
  /** The port actually bound (differs from the configured one for port 0). */
  port: number;
  origins?: string[];
  enforceOrigin?: boolean;
}

/** One allowed origin: host[:port] always, scheme only when the option gave one. */
interface Allowed { scheme?: string; host: string }

export type AccessVerdict = { ok: true; origin?: string } | { ok: false; error: string };

const LOOPBACK_HOST = /^(localhost|127(?:\.\d+){3}|::1|)$/i;
const WILDCARD_HOST = /^(|0\.0\.0\.0|::)$/;

function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function parseAllowed(text: string): Allowed {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/]*)\/?$/i.exec(text);
  if (m) return { scheme: m[1]!.toLowerCase(), host: m[2]!.toLowerCase() };
  return { host: text.replace(/\/$/, '').toLowerCase() };
}

/** The origins allowed by default for a listen address, as host:port. */
export function defaultOrigins(listen: string, port: number): string[] {
  const m = /^(.*):(\d+)$/.exec(listen);
  const host = (m?.[1] ?? listen).replace(/^\[|\]$/g, '');
  const out = new Set<string>();
  if (!WILDCARD_HOST.test(host)) out.add(joinHostPort(host.toLowerCase(), port));
  if (LOOPBACK_HOST.test(host) || WILDCARD_HOST.test(host)) {
    for (const h of ['localhost', '127.0.0.1', '::1']) out.add(joinHostPort(h, port));
  }
  return [...out];
}

export class AdminAccess {
  readonly #allowed: Allowed[];
  readonly #enforce: boolean;

  constructor(opts: AdminAccessOptions) {
    const list = opts.origins && opts.origins.length > 0 ? opts.origins : defaultOrigins(opts.listen, opts.port);
    this.#allowed = list.map(parseAllowed);
    this.#enforce = opts.enforceOrigin === true;
  }

  /** The allowed origins, as configured or derived (for logs and errors). */
  get origins(): string[] { return this.#allowed.map((a) => (a.scheme ? `${a.scheme}://${a.host}` : a.host)); }

  #hostAllowed(host: string): boolean {
    const h = host.toLowerCase();
    return this.#allowed.some((a) => a.host === h);
  }

  #originAllowed(origin: string): boolean {
    let u: URL;
    try { u = new URL(origin); } catch { return false; }
    if (u.origin === 'null') return false;
    const scheme = u.protocol.slice(0, -1);
    const host = u.host.toLowerCase();
    return this.#allowed.some((a) => a.host === host && (a.scheme === undefined || a.scheme === scheme));
  }

  /** Decides on one request from its headers (Host, Origin, Sec-Fetch-Site). */
  check(headers: { host?: string; origin?: string; 'sec-fetch-site'?: string | string[] }): AccessVerdict {
    const host = headers.host ?? '';
    if (!this.#hostAllowed(host)) return { ok: false, error: `host not allowed: ${host}` };
    const origin = headers.origin;
    if (origin !== undefined) {
      if (!this.#originAllowed(origin)) return { ok: false, error: `client is not allowed to access from origin '${origin}'` };
      return { ok: true, origin };
    }
    if (this.#enforce) return { ok: false, error: 'required Origin header is missing or invalid' };
    const site = String(headers['sec-fetch-site'] ?? '').toLowerCase();
    if (site === 'cross-site' || site === 'same-site') return { ok: false, error: `cross-site request refused (Sec-Fetch-Site: ${site})` };
    return { ok: true };
  }
}

/** The media types POST /load and /adapt accept, and the adapter each selects. */
export function loadAdapter(contentType: string | undefined): 'json' | 'caddyfile' | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') return 'json';
  if (type === 'text/caddyfile') return 'caddyfile';
  return undefined;
}
