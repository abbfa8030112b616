/**
 * One `apps.http.servers.<name>`: its compiled routes, its node server
 * (node:http, or node:http2 secure with HTTP/1.1 fallback when TLS is on),
 * the error stage, access logs, and graceful stop. Sockets come from shared
 * listeners (listener.ts) through accept().
 */
import http, { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { HttpError } from '../host/errors.ts';
import type { AccessLog } from './access-log.ts';
import { headerMap } from './access-log.ts';
import { parseTarget, RequestContext } from './context.ts';
import { isDetached, type LiveStream, watchBody } from './response.ts';
import { onHijack } from './hijack.ts';
import { onClientError as replayUnknownMethod, replayedMethod } from './unknown-method.ts';
import type { Next } from './handler.ts';
import { type IpRange, inRanges, ipToBig } from './ip.ts';
import { hostPort, setPlaceholder, splitHostPort } from './replacer.ts';
import type { Chain } from './routes.ts';
import { MAX_HEADER_BYTES, onClientError } from './client-error.ts';

/** Options resolved by the app at provision. */
export interface ServerRuntimeOptions {
  name: string;
  routes: Chain;
  errors: Chain | undefined;
  logs: AccessLog[];
  log: Logger;
  trustedProxies: IpRange[] | undefined;
  clientIpHeaders: string[];
  trustedProxiesStrict: boolean;
  /** Sent as the Server header; '' disables it. */
  serverHeader: string;
}

const end: Next = () => Promise.resolve();
const ignore = (): void => {};

function errorId(): string {
  return Math.random().toString(36).slice(2, 11).padEnd(9, '0');
}

/**
 * The close of a hijacked stream's access log entries, prepared at hijack.
 * Top-level so the closure holds only these values, not the request.
 */
function finishLater(logs: AccessLog[], entries: Record<string, unknown>[], status: number, before: number, start: number): (bytes: number) => void {
  return (bytes) => {
    const ts = Date.now() / 1000;
    const duration = (performance.now() - start) / 1000;
    for (let i = 0; i < logs.length; i++) {
      const e = entries[i]!;
      e.ts = ts; e.duration = duration; e.size = before + bytes;
      logs[i]!.write(e, status);
    }
  };
}

export class ServerRuntime {
  readonly opts: ServerRuntimeOptions;
  node: http.Server | http2.Http2SecureServer | undefined;
  #secure = false;
  #sockets = new Set<Duplex>();
  #sessions = new Set<http2.Http2Session>();
  #active = 0;
  /**
   * Plain HTTP/1.1 connections accepted but still waiting for their first
   * request. Like Go's StateNew they count as in flight, so a stop (or the
   * old side of a reload) does not reset a client whose request is on its way.
   */
  #fresh = new Set<Duplex>();
  /** Requests in flight per plain HTTP/1.1 connection, to tell idle keep-alive connections apart at stop. */
  #busy = new Map<Duplex, number>();
  #stopping = false;
  /** Detached streams (SSE) still open; handlers add and delete them (HttpContext.streams). */
  readonly #streams = new Set<LiveStream>();
  /** While stopping: checks whether what stop() waits for is done. */
  #idle: (() => void) | undefined;
  // Shared listeners: a closure (or a once() wrapper) per connection and per
  // request would live as long as the connection, which for SSE is hours.
  readonly #forgetSocket: (this: Duplex) => void;
  readonly #requestDone = (): void => {
    this.#active--;
    // A stream's 'close' listeners delete it from #streams right after this one: check once they ran.
    if (this.#idle) queueMicrotask(this.#idle);
  };

  /** Shared 'close' listener of plain HTTP/1.1 responses (no closure per request). */
  readonly #unbusy: (this: ServerResponse) => void;
  /** A hijacked response (hijack.ts) is in flight until its connection closes. */
  readonly #onHijack = (): (() => void) => this.#requestDone;

  constructor(opts: ServerRuntimeOptions) {
    this.opts = opts;
    const sockets = this.#sockets;
    const fresh = this.#fresh;
    const busy = this.#busy;
    const done = this.#requestDone;
    this.#unbusy = function (this: ServerResponse) {
      const sock = this.req.socket;
      const n = (busy.get(sock) ?? 1) - 1;
      if (n > 0) busy.set(sock, n); else busy.delete(sock);
    };
    this.#forgetSocket = function (this: Duplex) {
      sockets.delete(this);
      busy.delete(this);
      if (fresh.delete(this)) done();
    };
  }

  /** Creates the node server: plain HTTP/1.1, or TLS (h2 + http/1.1 via ALPN, or h1 only). */
  create(tls?: http2.SecureServerOptions & { h2: boolean }): void {
    const onRequest = (req: IncomingMessage, res: ServerResponse) => this.#onRequest(req, res);
    if (tls) {
      this.#secure = true;
      const { h2, ...options } = tls;
      const srv = http2.createSecureServer({
        ...options,
        allowHTTP1: true,
        // Go's default header limit (1 MiB): Mercure tokens with many selectors are large.
        settings: { maxHeaderListSize: 1 << 20 },
        ALPNProtocols: h2 ? ['h2', 'http/1.1'] : ['http/1.1'],
      }, onRequest as never);
      srv.on('session', (s) => {
        this.#sessions.add(s);
        s.on('error', () => { /* logged per stream */ });
        s.once('close', () => this.#sessions.delete(s));
        if (this.#stopping) s.close();
      });
      srv.on('sessionError', () => { /* the session closes itself */ });
      srv.on('tlsClientError', (err) => this.opts.log.debug({ err }, 'TLS handshake error'));
      // HTTP/1.1 over TLS is parsed by node:http with the server's maxHeaderSize (Node's 16 KiB when unset).
      (srv as unknown as { maxHeaderSize: number }).maxHeaderSize = MAX_HEADER_BYTES;
      srv.on('clientError', onClientError);
      srv.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head));
      this.node = srv;
    } else {
      const srv = http.createServer({ noDelay: true, maxHeaderSize: MAX_HEADER_BYTES }, onRequest);
      srv.on('upgrade', (req, socket, head) => this.#onUpgrade(req, socket, head));
      // A method the parser does not know is replayed as a request, as Go serves any method (unknown-method.ts);
      // any other parse error gets its answer (431 for oversized headers, client-error.ts).
      srv.on('clientError', replayUnknownMethod((stream) => srv.emit('connection', stream), onClientError));
      // Starts node's connection tracking (headers/request timeouts, idle closing) without binding.
      srv.emit('listening');
      this.node = srv;
    }
  }

  /** Takes a socket from a listener. */
  accept = (socket: net.Socket): void => {
    if (!this.node || this.#stopping) { socket.destroy(); return; }
    this.#sockets.add(socket);
    if (!this.#secure) { this.#fresh.add(socket); this.#active++; }
    socket.on('error', ignore); // the http layer reports it
    socket.on('close', this.#forgetSocket);
    this.node.emit('connection', socket);
  };

  #context(req: IncomingMessage, res: ServerResponse): RequestContext | undefined {
    const url = parseTarget(req.url ?? '/');
    if (!url) return undefined;
    const c = new RequestContext(req, res, url, this.#secure);
    c.streams = this.#streams;
    c.vars.set('client_ip', this.#clientIp(c));
    return c;
  }

  #clientIp(c: RequestContext): string {
    const tp = this.opts.trustedProxies;
    if (!tp || !inRanges(c.remoteAddr, tp)) return c.remoteAddr;
    for (const name of this.opts.clientIpHeaders) {
      const raw = c.req.headers[name.toLowerCase()];
      if (!raw) continue;
      const ips = (Array.isArray(raw) ? raw.join(',') : raw).split(',').map((s) => s.trim()).filter(Boolean);
      if (this.opts.trustedProxiesStrict) {
        for (let i = ips.length - 1; i >= 0; i--) if (!inRanges(ips[i]!, tp)) return ipToBig(ips[i]!) ? ips[i]! : c.remoteAddr;
      } else if (ips[0] && ipToBig(ips[0])) return ips[0];
    }
    return c.remoteAddr;
  }

  #track(res: ServerResponse | undefined, socket?: Duplex): void {
    this.#active++;
    (res ?? socket!).on('close', this.#requestDone); // 'close' comes once
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const method = replayedMethod(req.socket);
    if (method !== undefined) { req.method = method; res.shouldKeepAlive = false; }
    this.#track(res);
    if (req.method === 'GET' && (req.httpVersionMajor ?? 1) < 2) onHijack(res, this.#onHijack); // only GETs are hijacked
    if (!this.#secure) {
      const sock = req.socket;
      if (this.#fresh.delete(sock)) this.#requestDone();
      this.#busy.set(sock, (this.#busy.get(sock) ?? 0) + 1);
      res.once('close', this.#unbusy);
    }
    if (this.#stopping && !res.headersSent) {
      if ('shouldKeepAlive' in res && (req.httpVersionMajor ?? 1) < 2) res.shouldKeepAlive = false;
    }
    const c = this.#context(req, res);
    if (!c) { res.statusCode = 400; res.end(); return; }
    void this.#serve(c);
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#track(undefined, socket);
    socket.on('error', () => socket.destroy());
    const res = new http.ServerResponse(req);
    res.assignSocket(socket as net.Socket);
    res.shouldKeepAlive = false;
    const c = this.#context(req, res);
    if (!c) { socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'); return; }
    c.upgrade = { socket, head, taken: false };
    res.once('finish', () => { if (!c.upgrade?.taken) socket.end(); });
    void this.#serve(c);
  }

  async #serve(c: RequestContext): Promise<void> {
    const res = c.res;
    if (this.opts.serverHeader) res.setHeader('Server', this.opts.serverHeader);
    if (this.opts.logs.length) this.#logTap(c);
    try {
      await this.opts.routes(c, end);
    } catch (err) {
      await this.#fail(c, err);
    }
    if (c.upgrade?.taken) return;
    if (!res.writableEnded && !res.destroyed && !isDetached(res)) {
      if (c.error && !res.headersSent) res.statusCode = c.error.status;
      res.end();
    }
  }

  /** The error stage: error routes if any, else the status with the error's body (empty by default). */
  async #fail(c: RequestContext, err: unknown): Promise<void> {
    const res = c.res;
    const status = err instanceof HttpError ? err.status : 500;
    const cause = (err as { cause?: unknown }).cause;
    const message = err instanceof HttpError
      ? err.body ?? (cause instanceof Error ? cause.message : STATUS_CODES[status] ?? '')
      : (err as Error)?.message ?? String(err);
    const id = errorId();
    c.error = { status, message };
    setPlaceholder(c, 'http.error.id', id);
    // A request read to its end is destroyed too (autoDestroy); only an incomplete one means the client left.
    const clientGone = res.destroyed || (c.req.destroyed && !c.req.complete);
    const fields = { err, status, id, request: { method: c.req.method, uri: c.originalUri, host: hostPort(c) } };
    if (clientGone) this.opts.log.debug(fields, 'client went away');
    else if (status >= 500) this.opts.log.error(fields, 'request failed');
    else this.opts.log.debug(fields, 'request error');
    if (res.headersSent || clientGone) {
      if (!res.writableEnded) res.destroy();
      return;
    }
    if (this.opts.errors) {
      c.groups = undefined;
      try {
        await this.opts.errors(c, end);
      } catch (err2) {
        this.opts.log.error({ err: err2, id }, 'error route failed');
      }
      if (res.headersSent || res.writableEnded || c.upgrade?.taken) return;
    }
    res.statusCode = status;
    if (err instanceof HttpError && err.headers) for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
    if (err instanceof HttpError && err.body !== undefined) {
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.end(err.body);
    } else res.end();
  }

  /** Hooks the response so the access log sees status and size once it is done. */
  #logTap(c: RequestContext): void {
    const hp = hostPort(c);
    const host = splitHostPort(hp)[0].toLowerCase();
    const logs = this.opts.logs.filter((l) => l.covers(host));
    if (!logs.length) return;
    const res = c.res;
    const body = watchBody(res); // a hijacked stream (hijack.ts) counts its own bytes
    const write = res.write;
    res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
      if (chunk) body.size += typeof chunk === 'string' ? Buffer.byteLength(chunk) : (chunk as Uint8Array).byteLength;
      return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as ServerResponse['write'];
    const endFn = res.end;
    res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
      if (chunk && typeof chunk !== 'function') body.size += typeof chunk === 'string' ? Buffer.byteLength(chunk) : (chunk as Uint8Array).byteLength;
      return (endFn as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest);
    } as ServerResponse['end'];
    const entryFor = (l: AccessLog, status: number): Record<string, unknown> => {
      const req = c.req;
      return {
        ts: Date.now() / 1000,
        request: {
          remote_ip: c.remoteAddr, remote_port: String(c.remotePort), client_ip: c.vars.get('client_ip'),
          proto: `HTTP/${req.httpVersion}`, method: req.method, host: hp, uri: c.originalUri,
          headers: headerMap(req.headers, !l.logCredentials),
        },
        bytes_read: Number(req.socket?.bytesRead ?? 0) > 0 ? Number(req.headers['content-length'] ?? 0) : 0,
        user_id: String(c.vars.get('http.auth.user.id') ?? ''),
        duration: (performance.now() - c.start) / 1000,
        size: body.size, status,
        resp_headers: headerMap(res.getHeaders() as Record<string, string | string[] | number | undefined>, !l.logCredentials),
      };
    };
    // Written once the response is handed to the socket ('finish', before the client can read its end, as
    // Caddy logs once the handler returns), or when the exchange ends without it ('close': an aborted request).
    let logged = false;
    const logNow = () => {
      if (logged) return;
      logged = true;
      if (c.vars.get('log_skip') === true) return;
      const status = res.headersSent ? res.statusCode : 0;
      for (const l of logs) l.write(entryFor(l, status), status);
    };
    res.once('finish', logNow);
    res.once('close', logNow);
    // A hijacked stream never closes its response: snapshot the entries now, finish them at close.
    if (c.req.method === 'GET') onHijack(res, () => {
      if (c.vars.get('log_skip') === true) return undefined;
      const status = res.statusCode;
      return finishLater(logs, logs.map((l) => entryFor(l, status)), status, body.size, c.start);
    });
  }

  /**
   * Graceful stop: refuse new work, let in-flight requests finish until the
   * deadline, then destroy what is left. `keepStreams` (a reload that keeps
   * this server's listeners): open streams are neither waited for nor cut;
   * they go on on their connections, and the stop returns once the other
   * requests are done. Otherwise streams are asked to end cleanly first.
   */
  async stop(graceMs: number, keepStreams = false): Promise<void> {
    this.#stopping = true;
    if (!keepStreams) for (const s of [...this.#streams]) s.endStream();
    for (const s of this.#sessions) s.close();
    const node = this.node;
    if (node instanceof http.Server) {
      // Close keep-alive connections that sit between requests; connections still
      // waiting for their first request get up to 5 s (Go's rule) to send it.
      for (const sock of this.#sockets) if (!this.#fresh.has(sock) && !this.#busy.has(sock)) sock.destroy();
      if (this.#fresh.size) setTimeout(() => { for (const sock of this.#fresh) sock.destroy(); }, Math.min(graceMs, 5_000)).unref();
    }
    const pending = () => this.#active - (keepStreams ? this.#streams.size : 0);
    if (pending() > 0 && graceMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        timer.unref();
        this.#idle = () => { if (pending() <= 0) { clearTimeout(timer); resolve(); } };
      });
    }
    this.#idle = undefined;
    const kept = keepStreams ? streamConnections(this.#streams) : undefined;
    for (const s of this.#sessions) if (!kept?.has(s)) s.destroy();
    for (const s of this.#sockets) if (!kept?.has(s)) s.destroy();
    if (node instanceof http.Server) {
      if (!kept?.size) node.closeAllConnections();
      node.close(() => { /* never bound */ });
    }
  }

  /** Requests (and upgraded connections) in flight. */
  get active(): number { return this.#active; }

  /** Open detached streams. */
  get streams(): number { return this.#streams.size; }
}

/**
 * The connections carrying streams, as the server holds them: the socket,
 * the raw socket under a TLS one (what a listener handed over), the HTTP/2
 * session and its raw socket.
 */
function streamConnections(streams: Set<LiveStream>): Set<object> {
  const out = new Set<object>();
  for (const s of streams) {
    let c = s.connection() as { socket?: unknown; _parent?: unknown; goaway?: unknown } | undefined;
    if (!c) continue;
    out.add(c);
    if (typeof c.goaway === 'function') { // an HTTP/2 session
      c = c.socket as typeof c | undefined;
      if (c) out.add(c);
    }
    if (c?._parent && typeof c._parent === 'object') out.add(c._parent);
  }
  return out;
}
