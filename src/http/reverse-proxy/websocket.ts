/**
 * WebSocket (HTTP/1.1 Upgrade) pass-through: writes the upstream's 101 head
 * to the client socket, forwards bytes read past either head, then pipes the
 * two sockets both ways until one side closes.
 */
import type { HttpContext } from '../handler.ts';
import type { UpgradeResult } from './transport.ts';

/** Joins the client's upgraded socket with the upstream's. */
export function tunnel(c: HttpContext, r: Extract<UpgradeResult, { kind: 'tunnel' }>): void {
  const client = c.upgrade!.socket;
  c.upgrade!.taken = true;
  const up = r.socket;
  let head = `HTTP/1.1 ${r.status} Switching Protocols\r\n`;
  for (let i = 0; i + 1 < r.rawHeaders.length; i += 2) head += `${r.rawHeaders[i]}: ${r.rawHeaders[i + 1]}\r\n`;
  client.write(head + '\r\n');
  if (r.head.length) client.write(r.head);
  if (c.upgrade!.head.length) up.write(c.upgrade!.head);
  const close = () => { client.destroy(); up.destroy(); };
  up.on('error', close);
  client.on('error', close);
  up.once('close', close);
  client.once('close', close);
  up.pipe(client);
  client.pipe(up);
}
