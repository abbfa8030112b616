/**
 * `http.handlers.metrics` (the `metrics` directive): serves the config's
 * Prometheus registry (what the admin endpoint's /metrics serves) in the
 * Prometheus text format. `disable_openmetrics` is accepted: this server
 * never negotiates the OpenMetrics format, so the answer is the same.
 */
import type { Registry } from 'prom-client';
import type { ModuleContext } from '../../host/module.ts';
import type { HandlerConfig, HttpContext, HttpHandler } from '../handler.ts';

export interface MetricsHandlerConfig extends HandlerConfig { handler: 'metrics'; disable_openmetrics?: boolean }

export class MetricsHandler implements HttpHandler {
  /** Lifecycle: nothing to check or release. */
  validate(): void {}
  cleanup(): void {}
  readonly config: MetricsHandlerConfig;
  #registry: Registry | undefined;

  constructor(config: MetricsHandlerConfig) { this.config = config; }

  provision(ctx: ModuleContext): void { this.#registry = ctx.app.metrics; }

  async serveHTTP(c: HttpContext): Promise<void> {
    const body = await this.#registry!.metrics();
    c.res.statusCode = 200;
    c.res.setHeader('Content-Type', this.#registry!.contentType);
    c.res.end(c.req.method === 'HEAD' ? undefined : body);
  }
}
