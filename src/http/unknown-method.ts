/**
 * Requests with a method node:http's parser does not know (`FOO /x`).
 * Go's server takes any token as a method and hands the request to the
 * routes (the Mercure hub then answers 405 with its security headers); Node's
 * parser stops with HPE_INVALID_METHOD and would answer a bare 400.
 *
 * On that error, when the connection's buffered bytes start with a
 * well-formed request line, the socket is taken from node:http's parser (as
 * hijack.ts does), and the same bytes, with the method replaced by a
 * placeholder the parser knows, are fed to the server again through a small
 * duplex in front of the socket. The request is then served as any other,
 * with `req.method` set back to the method the client sent, and the
 * connection closes after the answer. Any other parse error gets Node's
 * usual answer.
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

/** A method the parser knows and treats like any other (a body only with Content-Length/Transfer-Encoding). */
const PLACEHOLDER = 'PATCH';
/** A request line: token SP target SP HTTP-version CRLF (RFC 9112). */
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([^ \r\n]+) HTTP\/1\.[01]\r\n/;

/** The method a request fed through replay() was sent with. */
const originalMethods = new WeakMap<object, string>();

/** The method the client sent, when the request was replayed; undefined otherwise. */
export function replayedMethod(socket: object | null | undefined): string | undefined {
  return socket ? originalMethods.get(socket) : undefined;
}

const CANNED: Record<string, string> = {
  HPE_HEADER_OVERFLOW: 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n\r\n',
  ERR_HTTP_REQUEST_TIMEOUT: 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n',
};

/** Node's own answer to a client error (what happens without a 'clientError' listener). */
function nodeDefault(err: NodeJS.ErrnoException, socket: Socket): void {
  if (socket.writable && socket.bytesWritten === 0) socket.write(CANNED[err.code ?? ''] ?? 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  socket.destroy(err);
}

type FreeParser = (parser: unknown, req: unknown, socket: unknown) => void;
let freeParser: FreeParser | null | undefined;
function parserFreer(): FreeParser | null {
  if (freeParser === undefined) {
    try {
      const f = (createRequire(import.meta.url)('_http_common') as { freeParser?: unknown }).freeParser;
      freeParser = typeof f === 'function' ? f as FreeParser : null;
    } catch { freeParser = null; }
  }
  return freeParser;
}

/** node:http's per-connection socket listeners, by function name (see hijack.ts). */
const HTTP_LISTENERS = ['bound socketOnData', 'bound socketOnEnd', 'bound socketOnClose', 'bound socketOnDrain', 'socketOnError', 'socketOnTimeout', 'onSocketResume', 'onSocketPause'];

/** A duplex in front of a socket: reads `first`, then what the socket receives; writes go to the socket. */
class Replay extends Duplex {
  readonly #socket: Socket;

  constructor(socket: Socket, first: Buffer) {
    super({ allowHalfOpen: false });
    this.#socket = socket;
    this.push(first);
    socket.on('data', (c: Buffer) => { if (!this.push(c)) socket.pause(); });
    socket.on('end', () => this.push(null));
    socket.on('close', () => this.destroy());
    socket.on('error', (e) => this.destroy(e));
  }

  override _read(): void { this.#socket.resume(); }
  override _write(chunk: Buffer, enc: BufferEncoding, cb: (e?: Error | null) => void): void { this.#socket.write(chunk, enc, cb); }
  override _final(cb: (e?: Error | null) => void): void { this.#socket.end(cb); }
  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void { this.#socket.destroy(); cb(err); }

  // What the server and handlers read from a connection.
  get remoteAddress(): string | undefined { return this.#socket.remoteAddress; }
  get remotePort(): number | undefined { return this.#socket.remotePort; }
  get remoteFamily(): string | undefined { return this.#socket.remoteFamily; }
  get localAddress(): string | undefined { return this.#socket.localAddress; }
  get localPort(): number | undefined { return this.#socket.localPort; }
  get bytesRead(): number { return this.#socket.bytesRead; }
  get bytesWritten(): number { return this.#socket.bytesWritten; }
  get encrypted(): boolean { return (this.#socket as { encrypted?: boolean }).encrypted === true; }
  setTimeout(ms: number, cb?: () => void): this { this.#socket.setTimeout(ms, cb); return this; }
  setNoDelay(v?: boolean): this { this.#socket.setNoDelay(v); return this; }
  setKeepAlive(v?: boolean, d?: number): this { this.#socket.setKeepAlive(v, d); return this; }
  ref(): this { this.#socket.ref(); return this; }
  unref(): this { this.#socket.unref(); return this; }
}

/**
 * A 'clientError' listener: replays a request whose method the parser does
 * not know through `emitConnection` (the server's emit('connection')); any
 * other error gets Node's default answer.
 */
export function onClientError(
  emitConnection: (stream: Duplex) => void,
  fallback: (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket) => void = nodeDefault,
): (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket) => void {
  return (err, socket) => {
    const raw = err.rawPacket;
    const free = parserFreer();
    const line = err.code === 'HPE_INVALID_METHOD' && Buffer.isBuffer(raw) && socket.bytesWritten === 0
      ? REQUEST_LINE.exec(raw.subarray(0, 8192).toString('latin1')) : null;
    const parser = (socket as unknown as { parser?: unknown }).parser;
    if (!line || !free || !parser || socket.destroyed) { fallback(err, socket); return; }
    for (const name of ['data', 'end', 'close', 'drain', 'error', 'timeout', 'resume', 'pause']) {
      for (const f of socket.listeners(name)) if (HTTP_LISTENERS.includes(f.name)) socket.removeListener(name, f as (...a: unknown[]) => void);
    }
    free(parser, null, socket);
    socket.on('error', () => { /* the replay stream reports it */ });
    const bytes = Buffer.concat([Buffer.from(PLACEHOLDER, 'latin1'), raw!.subarray(line[1]!.length)]);
    const replay = new Replay(socket, bytes);
    originalMethods.set(replay, line[1]!);
    emitConnection(replay);
  };
}
