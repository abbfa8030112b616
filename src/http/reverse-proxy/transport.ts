/**
 * The reverse-proxy transport seam. A transport module
 * (`http.reverse_proxy.transport.<protocol>`: `http` here, `fastcgi` added by
 * the PHP engineer) turns one proxied request into an upstream response.
 * The handler owns selection, retries, health, headers and streaming; the
 * transport owns connections. Errors are thrown as-is (with a `code`); the
 * handler maps them: timeouts → 504, anything else → 502.
 */
import type { Readable } from 'node:stream';
import type { Duplex } from 'node:stream';
import type { Module } from '../../host/module.ts';
import type { HttpContext } from '../handler.ts';
import type { Upstream } from './upstreams.ts';

/** What the handler hands the transport. Headers are lower-cased and already rewritten. */
export interface ProxyRequest {
  method: string;
  /** Path and query as sent upstream. */
  path: string;
  headers: Record<string, string | string[]>;
  /** The client body, or null when the request has none. */
  body: Readable | null;
  signal: AbortSignal;
}

/** The upstream's answer; the body is streamed to the client chunk by chunk. */
export interface ProxyResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

/** Result of an upgrade attempt: a tunnel (101), or an ordinary response. */
export type UpgradeResult =
  | { kind: 'tunnel'; status: number; rawHeaders: string[]; socket: Duplex; head: Buffer }
  | { kind: 'response'; response: ProxyResponse };

export interface ProxyTransport extends Module {
  roundTrip(c: HttpContext, upstream: Upstream, req: ProxyRequest): Promise<ProxyResponse>;
  /** Opens an HTTP/1.1 Upgrade (WebSocket) to the upstream; transports that cannot, omit it. */
  upgrade?(c: HttpContext, upstream: Upstream, req: ProxyRequest): Promise<UpgradeResult>;
  /** Whether upstream addresses use TLS (for X-Forwarded and health checks). */
  readonly tls?: boolean;
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT', 'ERR_PROXY_TIMEOUT']);
const DIAL_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'ENOENT', 'ECONNRESET_DIAL']);

function codeOf(err: unknown): string {
  let e = err as { code?: string; cause?: unknown } | undefined;
  for (let i = 0; e && i < 4; i++) {
    if (e.code) return e.code;
    e = e.cause as typeof e;
  }
  return '';
}

/** The status a proxy error maps to (504 for timeouts, else 502). */
export function proxyErrorStatus(err: unknown): number {
  return TIMEOUT_CODES.has(codeOf(err)) ? 504 : 502;
}

/** True for errors raised before the upstream got the request (always safe to retry). */
export function isDialError(err: unknown): boolean {
  return DIAL_CODES.has(codeOf(err));
}
