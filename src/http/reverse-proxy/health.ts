/**
 * Active health checks: every `interval` (30s) each upstream gets a request
 * to `uri` (on `port` if set); it passes when the status matches
 * `expect_status` (default 2xx; a one-digit value is a class) and the body
 * matches `expect_body`. `passes`/`fails` consecutive results flip health.
 * The first round runs at start. Timers are unref'd and stopped at cleanup.
 */
import { request } from 'undici';
import { toMs } from '../../host/duration.ts';
import type { Logger } from 'pino';
import { goRegExp } from '../regexp.ts';
import type { Upstream } from './upstreams.ts';

/** JSON: `health_checks.active`. */
export interface ActiveHealthConfig {
  uri?: string;
  path?: string;
  port?: number;
  headers?: Record<string, string[]>;
  method?: string;
  interval?: string | number;
  timeout?: string | number;
  expect_status?: number;
  expect_body?: string;
  passes?: number;
  fails?: number;
}

export class ActiveHealthChecker {
  readonly config: ActiveHealthConfig;
  #timer: NodeJS.Timeout | undefined;
  #ups: Upstream[];
  #tls: boolean;
  #log: Logger;
  #body: RegExp | undefined;
  #running: Promise<void> | undefined;

  constructor(config: ActiveHealthConfig, ups: Upstream[], tls: boolean, log: Logger) {
    this.config = config;
    this.#ups = ups;
    this.#tls = tls;
    this.#log = log;
    this.#body = config.expect_body ? goRegExp(config.expect_body) : undefined;
  }

  start(): void {
    const every = toMs(this.config.interval, 30_000);
    void this.checkAll();
    this.#timer = setInterval(() => { void this.checkAll(); }, every);
    this.#timer.unref();
  }

  stop(): void { if (this.#timer) clearInterval(this.#timer); this.#timer = undefined; }

  /** Runs one round over every upstream (rounds never overlap). */
  checkAll(): Promise<void> {
    this.#running ??= Promise.all(this.#ups.map((u) => this.#check(u))).then(() => { this.#running = undefined; });
    return this.#running;
  }

  async #check(u: Upstream): Promise<void> {
    const ok = await this.#probe(u);
    if (ok) { u.failsInRow = 0; if (++u.passes >= (this.config.passes ?? 1)) u.setActive(true); }
    else { u.passes = 0; if (++u.failsInRow >= (this.config.fails ?? 1)) u.setActive(false); }
  }

  async #probe(u: Upstream): Promise<boolean> {
    const hp = u.hostport;
    const host = this.config.port ? hp.replace(/:\d+$/, `:${this.config.port}`) : hp;
    const uri = this.config.uri ?? this.config.path ?? '/';
    const url = `${this.#tls ? 'https' : 'http'}://${host}${uri.startsWith('/') ? uri : '/' + uri}`;
    const timeout = toMs(this.config.timeout, 5000);
    try {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(this.config.headers ?? {})) headers[k] = v.join(', ');
      const res = await request(url, { method: (this.config.method ?? 'GET') as 'GET', headers, headersTimeout: timeout, bodyTimeout: timeout, signal: AbortSignal.timeout(timeout) });
      const body = this.#body ? await res.body.text() : (await res.body.dump(), '');
      const expect = this.config.expect_status;
      const statusOk = expect === undefined ? res.statusCode >= 200 && res.statusCode < 300
        : expect < 10 ? Math.floor(res.statusCode / 100) === expect : res.statusCode === expect;
      return statusOk && (!this.#body || this.#body.test(body));
    } catch (err) {
      this.#log.debug({ err, upstream: u.dial }, 'active health check failed');
      return false;
    }
  }
}
