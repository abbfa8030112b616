/**
 * The HTTP handler contract (Caddy's MiddlewareHandler, in Node terms).
 * A handler either answers, or calls next() to pass the request on.
 * Chains are compiled once at provision time, never per request.
 * Handlers signal failures by throwing HttpError; one error stage renders it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Module, ModuleConfig } from '../host/module.ts';
import type { LiveStream } from './response.ts';

export type Next = () => Promise<void>;

/** Per-request state shared by the handlers of one route chain. */
export interface HttpContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** Parsed request URL (path may be rewritten by handle_path/uri/rewrite). */
  url: URL;
  /** The original request URI as received (path + ?query), never rewritten. */
  originalUri: string;
  /** True when the connection is TLS. */
  secure: boolean;
  /** Client address. */
  remoteAddr: string;
  remotePort: number;
  /** `http.vars.*` (root, client_ip, …) and other per-request values for placeholders. */
  vars: Map<string, unknown>;
  /** Replaces runtime placeholders ({path}, {http.request.header.X}, {env.X}, …) in s. */
  replace(s: string, emptyUnknown?: boolean): string;
  /** Set by the error stage while handle_errors routes run. */
  error?: { status: number; message: string };
  /**
   * Further placeholder values set by modules for this request (`http.regexp.*`,
   * `http.matchers.file.*`, `http.reverse_proxy.*`, `http.error.id`). Use
   * setPlaceholder() from replacer.ts.
   */
  placeholders?: Map<string, unknown>;
  /**
   * Present when the request is an HTTP/1.1 Upgrade (WebSocket): the raw socket
   * and the bytes read past the headers. A handler that takes over the socket
   * sets `taken`; otherwise `res` (bound to the socket) answers as usual.
   */
  upgrade?: { socket: Duplex; head: Buffer; taken: boolean };
  /** Route groups already applied to this request (mutually exclusive routes). */
  groups?: Set<string>;
  /**
   * The server's open streams. A handler that detaches a long-lived stream
   * adds it here and deletes it when it closes, so a reload can keep it
   * running and a stop can end it cleanly (see ServerRuntime.stop).
   */
  streams?: Set<LiveStream>;
}

export interface HttpHandler extends Module {
  serveHTTP(c: HttpContext, next: Next): Promise<void>;
}

/** A handler config as it appears in the JSON: `{ "handler": "respond", … }`. */
export interface HandlerConfig extends ModuleConfig {
  handler: string;
}

/** A matcher set: matcher name → its config; all entries must match (AND). */
export type MatcherSet = Record<string, unknown>;

/** A route: matcher sets (OR between sets) and a handler chain. */
export interface RouteConfig {
  group?: string;
  match?: MatcherSet[];
  handle: HandlerConfig[];
  terminal?: boolean;
}

export interface RequestMatcher extends Module {
  match(c: HttpContext): boolean;
}
