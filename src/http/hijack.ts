/**
 * Taking an HTTP/1.x connection over from node:http once a long-lived
 * response's head is out, as Go's http.Hijacker does. An idle SSE stream held
 * through node:http keeps its parser, IncomingMessage, ServerResponse, the
 * server's per-connection closures and listeners: ~15.5 KiB of hub RSS each
 * (bench/results). A hijacked stream keeps only its socket: 3.9–4.8 KiB, so
 * a hub holds three to four times the connections in the same memory.
 *
 * Whoever watches a response's end (the server's in-flight count, access
 * logs) registers a hook with onHijack(); at hijack time each hook snapshots
 * what it needs and returns the function to call when the connection closes,
 * so nothing of the request is kept alive by the stream.
 *
 * Only node:http's own, named socket listeners are removed; if a Node
 * version names them differently, hijack() declines (returns null) and the
 * stream simply stays on the response.
 */
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Called once when a hijacked connection closes, with the body bytes written after the hijack. */
export type HijackEnd = (bodyBytes: number) => void;
/** Runs at hijack time; returns what to call at close (holding a snapshot, not the request). */
export type HijackHook = () => HijackEnd | undefined;

/** node:http's per-connection socket listeners (lib/_http_server.js), by function name. */
const HTTP_LISTENERS: Record<string, string[]> = {
  data: ['bound socketOnData'],
  end: ['bound socketOnEnd'],
  close: ['bound socketOnClose'],
  drain: ['bound socketOnDrain'],
  error: ['socketOnError'],
  timeout: ['socketOnTimeout'],
  resume: ['onSocketResume'],
  pause: ['onSocketPause'],
};
/** The ones every node:http connection has; without them, hijack() declines. */
const REQUIRED = ['data', 'close'];

interface Parser { remove?: unknown; unconsume?: unknown }
type FreeParser = (parser: unknown, req: unknown, socket: unknown) => void;

let freeParser: FreeParser | null | undefined;

function parserFreer(): FreeParser | null {
  if (freeParser !== undefined) return freeParser;
  try {
    const common = createRequire(import.meta.url)('_http_common') as { freeParser?: unknown };
    freeParser = typeof common.freeParser === 'function' ? common.freeParser as FreeParser : null;
  } catch {
    freeParser = null;
  }
  return freeParser;
}

const hooks = new WeakMap<ServerResponse, HijackHook[]>();

/** Registers a hook for res's hijack (see the header comment). */
export function onHijack(res: ServerResponse, hook: HijackHook): void {
  const list = hooks.get(res);
  if (list) list.push(hook); else hooks.set(res, [hook]);
}

/** A connection taken over from node:http: write chunks to `socket`, add to `bytes`, end with end(). */
export class HijackedStream {
  readonly socket: Socket;
  /** Body bytes written since the hijack (access logs). */
  bytes = 0;
  /** Told once when the connection closes, after the hooks. */
  owner: { streamClosed(): void } | undefined;
  #ends: HijackEnd[];

  constructor(socket: Socket, ends: HijackEnd[]) {
    this.socket = socket;
    this.#ends = ends;
  }

  /** Writes the last chunk and closes the connection (no keep-alive after a stream). */
  end(): void {
    const s = this.socket;
    if (!s.destroyed && !s.writableEnded) s.end(LAST_CHUNK);
  }

  /** Runs the close hooks once. */
  closed(): void {
    const ends = this.#ends;
    this.#ends = [];
    for (const f of ends) f(this.bytes);
    const o = this.owner;
    this.owner = undefined;
    o?.streamClosed();
  }
}

const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

function discard(): void { /* bytes a client sends after its stream request are ignored */ }
function ignore(): void { /* 'close' follows */ }
function hangUp(this: Socket): void { this.destroy(); }
function onClose(this: Socket & { [kStream]?: HijackedStream }): void { this[kStream]?.closed(); }
const kStream = Symbol('hijackedStream');

/** True when res's connection can be taken over: HTTP/1.x, chunked, head out, nothing buffered in res. */
function eligible(res: ServerResponse, sock: Socket | null): sock is Socket {
  if (!sock || sock.destroyed || !res.headersSent || res.writableEnded || !res.chunkedEncoding) return false;
  const req = res.req as IncomingMessage | undefined;
  // GET only: the server registers its close hooks for GETs alone (no cost on other requests).
  if (!req || req.httpVersionMajor !== 1 || req.method !== 'GET' || res.hasHeader('content-encoding')) return false;
  if (res.writableLength !== sock.writableLength) return false; // bytes still queued inside the response
  const parser = (sock as unknown as { parser?: Parser | null }).parser;
  if (!parser || typeof parser.remove !== 'function') return false;
  for (const ev of REQUIRED) if (!sock.listeners(ev).some((f) => HTTP_LISTENERS[ev]!.includes(f.name))) return false;
  return true;
}

/**
 * Detaches res's connection from node:http and returns it, or null when it
 * cannot be (HTTP/2, HTTP/1.0, not a GET, an encoded body, bytes buffered in the
 * response, an unknown Node layout). After a hijack, res is inert: its
 * 'close' and 'finish' never fire; the hooks registered with onHijack()
 * stand in for them.
 */
export function hijack(res: ServerResponse): HijackedStream | null {
  const sock = res.socket as Socket | null;
  if (!eligible(res, sock)) return null;
  const free = parserFreer();
  if (!free) return null;
  const ends: HijackEnd[] = [];
  for (const h of hooks.get(res) ?? []) {
    const f = h();
    if (f) ends.push(f);
  }
  hooks.delete(res);
  for (const [ev, names] of Object.entries(HTTP_LISTENERS)) {
    for (const f of sock.listeners(ev)) if (names.includes(f.name)) sock.removeListener(ev, f as (...a: unknown[]) => void);
  }
  free((sock as unknown as { parser: unknown }).parser, res.req, sock);
  res.detachSocket(sock);
  const stream = new HijackedStream(sock, ends);
  (sock as Socket & { [kStream]?: HijackedStream })[kStream] = stream;
  sock.on('error', ignore);
  sock.on('end', hangUp);
  sock.on('close', onClose);
  sock.on('data', discard);
  sock.setTimeout(0);
  sock.resume();
  return stream;
}
