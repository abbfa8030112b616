/**
 * Ends a connection with a TCP reset (SO_LINGER 0) instead of a close. A
 * close leaves what the kernel still holds for an unread peer in its send
 * buffer, and the socket in FIN-WAIT-1, for as long as the peer stays
 * connected without reading; a reset frees it at once. For a stalled client
 * that already lost its stream, that is the only useful end.
 *
 * Plain TCP only. A TLS socket is destroyed (closed): Node has no safe way to
 * reset the TCP connection under a live TLS layer (resetting the wrapped
 * socket crashes Node 24 with a segmentation fault, and once the TLS socket
 * is destroyed the TCP handle is gone). HTTP/2 streams share a connection and
 * are never reset here.
 */
import { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';

export function resetConnection(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket instanceof TLSSocket) { socket.destroy(); return; }
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy(); // not a TCP handle (a pipe, a test double)
  }
}
