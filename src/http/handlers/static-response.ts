/**
 * `http.handlers.static_response` (the `respond` and `redir` directives):
 * writes a fixed status, headers and body. The body uses ReplaceKnown (unknown
 * placeholders stay, so JSON bodies survive), header values ReplaceAll.
 * Without a status it answers 200, or the error's status inside error routes.
 * Without a Content-Type a body that parses as a JSON object/array gets
 * application/json, any other body text/plain; charset=utf-8.
 */
import { ConfigError, HttpError } from '../../host/errors.ts';
import type { HandlerConfig, HttpContext, HttpHandler } from '../handler.ts';
import { isHttp2 } from '../response.ts';

/** JSON config of `static_response`. */
export interface StaticResponseConfig extends HandlerConfig {
  handler: 'static_response';
  /** A number, or a string that may hold placeholders. */
  status_code?: number | string;
  body?: string;
  headers?: Record<string, string[]>;
  /** Close the connection after responding. */
  close?: boolean;
  /** Drop the connection without responding. */
  abort?: boolean;
}

function looksLikeJson(body: string): boolean {
  const t = body.trim();
  if (!(t.startsWith('{') && t.endsWith('}')) && !(t.startsWith('[') && t.endsWith(']'))) return false;
  try { JSON.parse(t); return true; } catch { return false; }
}

export class StaticResponse implements HttpHandler {
  /** Lifecycle: nothing to open, release. */
  provision(): void {}
  cleanup(): void {}
  readonly config: StaticResponseConfig;
  #fixedStatus: number | undefined;
  #headers: [string, string[]][];
  #json: boolean;

  constructor(config: StaticResponseConfig) {
    this.config = config;
    this.#headers = Object.entries(config.headers ?? {});
    this.#json = typeof config.body === 'string' && looksLikeJson(config.body);
  }

  validate(): void {
    const s = this.config.status_code;
    if (typeof s === 'number' || (typeof s === 'string' && /^\d+$/.test(s))) {
      const n = Number(s);
      if (n < 100 || n > 999) throw new ConfigError('ERR_CFG_VALUE', undefined, `static_response: invalid status code ${s}`);
      this.#fixedStatus = n;
    } else if (s !== undefined && (typeof s !== 'string' || !s.includes('{'))) {
      throw new ConfigError('ERR_CFG_VALUE', undefined, `static_response: invalid status code ${JSON.stringify(s)}`);
    }
  }

  async serveHTTP(c: HttpContext): Promise<void> {
    const res = c.res;
    if (this.config.abort) {
      res.destroy();
      if (c.upgrade) c.upgrade.socket.destroy();
      return;
    }
    let status = this.#fixedStatus;
    if (status === undefined) {
      if (typeof this.config.status_code === 'string') {
        status = Number(c.replace(this.config.status_code, true));
        if (!Number.isInteger(status) || status < 100 || status > 999) throw new HttpError(500, undefined, { cause: new Error(`invalid status code '${this.config.status_code}'`) });
      } else status = c.error?.status ?? 200;
    }
    for (const [name, values] of this.#headers) {
      res.setHeader(c.replace(name, true), values.map((v) => c.replace(v, true)));
    }
    if (this.config.close && !isHttp2(res)) res.setHeader('Connection', 'close');
    const body = this.config.body;
    if (body !== undefined && !res.hasHeader('Content-Type')) {
      res.setHeader('Content-Type', this.#json ? 'application/json' : 'text/plain; charset=utf-8');
    }
    res.statusCode = status;
    if (body === undefined || body === '') { res.end(); return; }
    const text = c.replace(body);
    res.setHeader('Content-Length', Buffer.byteLength(text));
    res.end(text);
  }
}
