/**
 * Answers for requests node:http cannot parse (its 'clientError'), as Go's
 * server does: 431 for a header block over the limit (1 MiB, Go's
 * MaxHeaderBytes), 413 for oversized chunk extensions, 408 for a request that
 * timed out, 400 for anything else; then a lingering close. Node's own
 * handler destroys the socket right after writing the answer, and a client
 * still sending (a 2 MB Authorization header) then gets a TCP reset, which
 * may discard the answer before it reads it. Here the connection is
 * half-closed (FIN after the answer) and what the client still sends is read
 * and dropped (the parser, in its error state, discards it) until it closes,
 * for at most LINGER_MS.
 */
import type { Duplex } from 'node:stream';

/** Go's header limit (http.DefaultMaxHeaderBytes), for HTTP/1 on every listener. */
export const MAX_HEADER_BYTES = 1 << 20;
const LINGER_MS = 2_000;

const ANSWERS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Payload Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

const handled = new WeakSet<Duplex>();

/** The 'clientError' listener of every HTTP/1 server. */
export function onClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (handled.has(socket)) return; // the parser reports every later chunk too
  handled.add(socket);
  const status = ANSWERS[err.code ?? ''] ?? '400 Bad Request';
  const s = socket as Duplex & { bytesWritten?: number };
  if (s.writable && (s.bytesWritten ?? 0) === 0) {
    s.write(`HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${status}`);
  }
  if (!s.writable) { s.destroy(); return; }
  s.end();
  const timer = setTimeout(() => s.destroy(), LINGER_MS);
  timer.unref();
  s.once('close', () => clearTimeout(timer));
}
