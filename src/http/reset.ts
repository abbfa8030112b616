/**
 * Ends a connection with a TCP reset (SO_LINGER 0) instead of a close. A
 * close leaves what the kernel still holds for an unread peer in its send
 * buffer, and the socket in FIN-WAIT-1, for as long as the peer stays
 * connected without reading; a reset frees it at once. For a stalled client
 * that already lost its stream, that is the only useful end.
 * TLS sockets are reset through the TCP socket under them; anything else
 * (HTTP/2 streams share a connection, so they are never reset here) is destroyed.
 */
import type { Socket } from 'node:net';

type Resettable = Socket & { _handle?: { _parentWrap?: Socket } | null };

export function resetConnection(socket: Socket): void {
  if (socket.destroyed) return;
  const tcp = (socket as Resettable)._handle?._parentWrap ?? socket;
  try {
    tcp.resetAndDestroy();
    if (tcp !== socket) socket.destroy();
  } catch {
    socket.destroy(); // not a TCP handle (a pipe, a test double)
  }
}
