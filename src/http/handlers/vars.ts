/**
 * `http.handlers.vars`: sets request variables (`{http.vars.*}`). `root` and
 * `log_skip` compile to it: `{ handler: "vars", root: "/srv" }`,
 * `{ handler: "vars", log_skip: true }`. String values may hold placeholders
 * (ReplaceAll, evaluated per request).
 */
import type { HandlerConfig, HttpContext, HttpHandler, Next } from '../handler.ts';

/** JSON config of `vars`: any key → value. */
export interface VarsConfig extends HandlerConfig {
  handler: 'vars';
  [name: string]: unknown;
}

export class Vars implements HttpHandler {
  /** Lifecycle: nothing to open, check, release. */
  provision(): void {}
  validate(): void {}
  cleanup(): void {}
  readonly config: VarsConfig;
  #entries: [string, unknown][];

  constructor(config: VarsConfig) {
    this.config = config;
    this.#entries = Object.entries(config).filter(([k]) => k !== 'handler' && !k.startsWith('@'));
  }

  serveHTTP(c: HttpContext, next: Next): Promise<void> {
    for (const [k, v] of this.#entries) c.vars.set(k, typeof v === 'string' ? c.replace(v, true) : v);
    return next();
  }
}
