/**
 * SSE serialisation of an update (Mercure §2.2), done once per update into a
 * Buffer that every subscriber shares. Field order and spacing are byte-equal
 * to the Go hub: `event:` (if any), `retry:` (if any), `id:`, one `data:` line
 * per line of the payload (CRLF, CR and LF all split), then a blank line.
 */
import type { Update } from './contract.ts';
import { encodeString } from './byte-string.ts';

/** Bytes that open every stream (an SSE comment that forces the headers out). */
export const STREAM_START: Buffer = Buffer.from(':\n');
/** The heartbeat comment. */
export const HEARTBEAT: Buffer = Buffer.from(':\n');

const LINE_BREAK = /\r\n|\r|\n/;

/** The event text of an update, as the Go hub writes it. */
export function formatEvent(update: Update): string {
  let s = '';
  if (update.type) s += `event: ${update.type}\n`;
  if (update.retry) s += `retry: ${update.retry}\n`;
  s += `id: ${update.id}\n`;
  const data = update.data;
  // Most payloads are one line; skip the split (and its array) for them.
  if (data.indexOf('\n') === -1 && data.indexOf('\r') === -1) return s + `data: ${data}\n\n`;
  for (const line of data.split(LINE_BREAK)) s += `data: ${line}\n`;
  return s + '\n';
}

/** The event bytes of an update: serialise once, share the Buffer, never mutate it. */
export function serializeUpdate(update: Update): Buffer {
  return encodeString(formatEvent(update));
}
