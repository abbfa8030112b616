/**
 * Small helpers over node:http and node:http2 compat responses, so handlers
 * need not care which one they hold, plus the one way to hook the moment a
 * response's headers are written (deferred headers, encoders, access logs).
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** Headers that are connection-specific and must not be sent over HTTP/2 (nor forwarded by proxies). */
export const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection',
  'te', 'trailer', 'transfer-encoding', 'upgrade',
]);

/** True for an HTTP/2 compat response. */
export function isHttp2(res: ServerResponse): boolean {
  return (res as unknown as { stream?: unknown }).stream !== undefined;
}

/** Sends the headers now (SSE clients must see them before the first event). */
export function flushHeaders(res: ServerResponse): void {
  if (res.headersSent) return;
  if (typeof res.flushHeaders === 'function') res.flushHeaders();
  else res.writeHead(res.statusCode);
}

/**
 * Pushes buffered body bytes to the client now: calls the `flush()` an encoder
 * installs on the response, if any. Proxies call it after each streamed chunk.
 */
export function flushBody(res: ServerResponse): void {
  const f = (res as unknown as { flush?: () => void }).flush;
  if (typeof f === 'function') f.call(res);
}

/** Applies writeHead's optional headers argument through setHeader, so hooks see one header set. */
export function applyHeadArgs(res: ServerResponse, a: unknown, b: unknown): string | undefined {
  const msg = typeof a === 'string' ? a : undefined;
  const headers = (typeof a === 'string' ? b : a) as OutgoingHttpHeaders | [string, string][] | string[] | undefined;
  if (!headers) return msg;
  if (Array.isArray(headers)) {
    if (headers.length && Array.isArray(headers[0])) for (const [k, v] of headers as [string, string][]) res.setHeader(k, v);
    else for (let i = 0; i + 1 < headers.length; i += 2) res.setHeader(headers[i] as string, headers[i + 1] as string);
  } else {
    for (const [k, v] of Object.entries(headers)) if (v !== undefined) res.setHeader(k, v as string | string[] | number);
  }
  return msg;
}

/**
 * Wraps res.writeHead so `before(status)` runs once, right before the head is
 * written (explicitly, or implicitly by write/end/flushHeaders: both node:http
 * and the http2 compat layer route those through writeHead). `before` may
 * change headers and return a different status.
 */
export function onWriteHead(res: ServerResponse, before: (status: number) => number | void): void {
  const orig = res.writeHead as (this: ServerResponse, ...args: unknown[]) => ServerResponse;
  let fired = false;
  res.writeHead = function (this: ServerResponse, status: number, a?: unknown, b?: unknown) {
    if (fired) return orig.call(this, status, a, b);
    fired = true;
    const msg = applyHeadArgs(this, a, b);
    const s = before(status) ?? status;
    return msg === undefined ? orig.call(this, s) : orig.call(this, s, msg);
  } as ServerResponse['writeHead'];
}
