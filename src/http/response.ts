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

/** Body byte counters of responses an access log watches (see countBody). */
const bodyCounters = new WeakMap<object, { size: number }>();

/** Starts counting the body bytes of res for its access log entry; returns the counter. */
export function watchBody(res: ServerResponse): { size: number } {
  const c = { size: 0 };
  bodyCounters.set(res, c);
  return c;
}

/** Responses whose body a handler keeps writing after its serveHTTP resolved. */
const streaming = new WeakSet<object>();

/**
 * Marks res as a stream its handler ends itself (an SSE stream): the server
 * must not end it when the route chain returns. The handler can then return
 * as soon as the stream is set up, instead of holding a pending promise chain
 * (and every frame of the route walk above it) for the stream's whole life.
 */
export function detachStream(res: ServerResponse): void {
  streaming.add(res);
}

/**
 * A detached stream as its server sees it (an SSE stream). A reload that keeps
 * the stream's listener leaves it running on its connection; a stop, or a
 * reload that closes the listener, asks it to end cleanly.
 */
export interface LiveStream {
  /** The connection it writes to: its socket (HTTP/1.x) or its HTTP/2 session; undefined once gone. */
  connection(): object | undefined;
  /** Ends the stream cleanly: what is queued is flushed, then the last chunk (or END_STREAM). */
  endStream(): void;
}

/** res's connection: its HTTP/2 session, or its socket. */
export function connectionOf(res: ServerResponse): object | undefined {
  const stream = (res as unknown as { stream?: { session?: object } }).stream;
  return stream ? stream.session : res.socket ?? undefined;
}

/** True when detachStream() was called for res. */
export function isDetached(res: ServerResponse): boolean {
  return streaming.has(res);
}

const internalSymbols = new Map<string, symbol>();

/** Node's private symbol `name` on o (found by description once, then cached). */
function internalSymbol(o: object, name: string): symbol | undefined {
  let s = internalSymbols.get(name);
  if (s === undefined) {
    s = Object.getOwnPropertySymbols(o).find((x) => x.description === name);
    if (s !== undefined) internalSymbols.set(name, s);
  }
  return s;
}

/**
 * Once a long-lived response's head is out, drops what node:http keeps only
 * to answer header lookups: the request's parsed header objects (rebuilt from
 * rawHeaders if anyone asks again) and the response's header map. ~1.5 KB per
 * idle SSE stream. Kept when an access log will read them at close. Only
 * Node's own initial value (null) is stored, so the getters behave as before
 * first use; a Node without these symbols makes this a no-op.
 */
export function shedHeaderState(res: ServerResponse): void {
  if (!res.headersSent || bodyCounters.has(res) || isHttp2(res)) return;
  const req = res.req as object | undefined;
  if (req) {
    for (const name of ['kHeaders', 'kHeadersDistinct']) {
      const s = internalSymbol(req, name);
      if (s !== undefined && (req as Record<symbol, unknown>)[s]) (req as Record<symbol, unknown>)[s] = null;
    }
  }
  const out = internalSymbol(res, 'kOutHeaders');
  if (out !== undefined && (res as unknown as Record<symbol, unknown>)[out]) (res as unknown as Record<symbol, unknown>)[out] = null;
}
