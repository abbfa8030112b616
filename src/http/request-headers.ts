/**
 * Reading request headers the same way from node:http and node:http2 compat
 * requests. `headersDistinct` exists only on node:http's IncomingMessage; an
 * HTTP/2 request has `headers` alone (duplicates already joined, or an array
 * for set-cookie).
 */
import type { IncomingMessage } from 'node:http';

/** Every value of the header `name` (lower case), or undefined when it is absent. */
export function headerValues(req: IncomingMessage, name: string): string[] | undefined {
  const distinct = (req as Partial<IncomingMessage>).headersDistinct;
  if (distinct) return distinct[name];
  const v = req.headers[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v : [v];
}
