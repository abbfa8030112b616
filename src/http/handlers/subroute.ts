/**
 * `http.handlers.subroute`: a nested route list (what `handle`, `handle_path`,
 * `route` and each site block compile to). Its routes run in order; when none
 * answers, the request continues with the handler after the subroute.
 * Its own `errors.routes` (optional) handle errors raised inside it.
 */
import type { ModuleContext } from '../../host/module.ts';
import type { HandlerConfig, HttpContext, HttpHandler, Next, RouteConfig } from '../handler.ts';
import { type Chain, compileRoutes } from '../routes.ts';

/** JSON config of `subroute`. */
export interface SubrouteConfig extends HandlerConfig {
  handler: 'subroute';
  routes?: RouteConfig[];
  errors?: { routes?: RouteConfig[] };
}

export class Subroute implements HttpHandler {
  /** Lifecycle: nothing to check, release. */
  validate(): void {}
  cleanup(): void {}
  readonly config: SubrouteConfig;
  #routes: Chain | undefined;
  #errors: Chain | undefined;

  constructor(config: SubrouteConfig) {
    this.config = config;
  }

  async provision(ctx: ModuleContext): Promise<void> {
    this.#routes = await compileRoutes(ctx, this.config.routes);
    if (this.config.errors?.routes?.length) this.#errors = await compileRoutes(ctx, this.config.errors.routes);
  }

  async serveHTTP(c: HttpContext, next: Next): Promise<void> {
    if (!this.#errors) return this.#routes!(c, next);
    try {
      await this.#routes!(c, next);
    } catch (err) {
      const e = err as { status?: number; body?: string; message?: string };
      c.error = { status: typeof e.status === 'number' ? e.status : 500, message: e.body ?? e.message ?? String(err) };
      await this.#errors(c, () => { throw err; });
    }
  }
}
