/**
 * `http.handlers.headers` (the `header` and `request_header` directives).
 * Request operations apply at once. Response operations apply before the
 * next handler runs (so later handlers may override them), or, when
 * `deferred` or `require` is set, right before the response head is written.
 * `require` limits response operations to responses whose status/headers
 * match (a header listed with null must be absent: this is `?Field value`).
 */
import type { HandlerConfig, HttpContext, HttpHandler, Next } from '../handler.ts';
import { HeaderOps, type HeaderOpsConfig, objectTarget, responseTarget } from '../header-ops.ts';
import { onWriteHead } from '../response.ts';

/** Matches a response by status (exact, or class when < 100) and headers. */
export interface ResponseMatcherConfig {
  status_code?: number[];
  headers?: Record<string, string[] | null>;
}

/** JSON config of `headers`. */
export interface HeadersConfig extends HandlerConfig {
  handler: 'headers';
  request?: HeaderOpsConfig;
  response?: HeaderOpsConfig & { deferred?: boolean; require?: ResponseMatcherConfig };
}

/** True when status and headers satisfy m. */
export function matchResponse(m: ResponseMatcherConfig, status: number, get: (name: string) => unknown): boolean {
  if (m.status_code?.length && !m.status_code.some((s) => (s < 100 ? Math.floor(status / 100) === s : s === status))) return false;
  for (const [field, allowed] of Object.entries(m.headers ?? {})) {
    const actual = get(field);
    const exists = actual !== undefined;
    if (allowed === null) { if (exists) return false; continue; }
    if (allowed.length === 0) { if (!exists) return false; continue; }
    if (!exists) return false;
    const vals = (Array.isArray(actual) ? actual : [actual]).map(String);
    if (!allowed.some((a) => vals.some((v) => (a.startsWith('*') ? v.endsWith(a.slice(1)) : a.endsWith('*') ? v.startsWith(a.slice(0, -1)) : a === v)))) return false;
  }
  return true;
}

export class Headers implements HttpHandler {
  /** Lifecycle: nothing to open, check, release. */
  provision(): void {}
  validate(): void {}
  cleanup(): void {}
  readonly config: HeadersConfig;
  #request: HeaderOps | undefined;
  #response: HeaderOps | undefined;
  #deferred: boolean;

  constructor(config: HeadersConfig) {
    this.config = config;
    if (config.request) this.#request = new HeaderOps(config.request);
    if (config.response) this.#response = new HeaderOps(config.response);
    this.#deferred = config.response?.deferred === true || config.response?.require !== undefined;
  }

  serveHTTP(c: HttpContext, next: Next): Promise<void> {
    if (this.#request) this.#request.apply(objectTarget(c.req.headers), c);
    const ops = this.#response;
    if (ops) {
      if (!this.#deferred) ops.apply(responseTarget(c.res), c);
      else {
        const require = this.config.response!.require;
        onWriteHead(c.res, (status) => {
          if (!require || matchResponse(require, status, (n) => c.res.getHeader(n))) ops.apply(responseTarget(c.res), c);
        });
      }
    }
    return next();
  }
}
