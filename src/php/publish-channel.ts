/**
 * The private channel behind PHP's mercure_publish(): an HTTP server on a
 * unix socket (mode 0600, in the pool's 0700 runtime directory, so only the
 * pool's user reaches it). `POST /publish` with a JSON update dispatches it
 * to the hub of this server, with the checks of the HTTP publish endpoint
 * that do not involve a JWT (reserved topic, control characters, retry).
 * Answers 200 with the ID, or an error status with a one-line reason.
 */
import { chmodSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { Logger } from 'pino';
import type { MercureHub } from '../mercure/hub.ts';
import type { Update } from '../transports/core/contract.ts';
import { newUpdateId } from '../mercure/uuid.ts';

/** Finds the hub to publish to (the newest hub of the running config), or undefined. */
export type HubFinder = () => MercureHub | undefined;

const FORBIDDEN = /[\0\r\n]/;
const MAX_BODY = 10 << 20;

class Refused extends Error {
  readonly status: number;
  constructor(status: number, message: string) { super(message); this.status = status; }
}

/** Validates and dispatches one update; returns its ID. */
export async function publishUpdate(hub: MercureHub | undefined, input: Record<string, unknown>): Promise<string> {
  if (!hub) throw new Refused(503, 'No Mercure hub configured');
  const topics = Array.isArray(input.topics) ? input.topics.map(String) : [];
  if (!topics.length) throw new Refused(400, 'Missing "topic" parameter');
  for (const t of topics) if (t.includes('/.well-known/mercure')) throw new Refused(403, `"${t}": topic value references the reserved "/.well-known/mercure" namespace`);
  const id = input.id == null ? '' : String(input.id);
  const type = input.type == null ? '' : String(input.type);
  if (FORBIDDEN.test(id)) throw new Refused(400, '"id" field contains a forbidden control character');
  if (FORBIDDEN.test(type)) throw new Refused(400, '"type" field contains a forbidden control character');
  const retry = input.retry == null ? 0 : Number(input.retry);
  if (!Number.isInteger(retry) || retry < 0) throw new Refused(400, 'Invalid "retry" parameter');
  const update: Update = { id: id || newUpdateId(), topics, data: String(input.data ?? ''), private: input.private === true };
  if (type) update.type = type;
  if (retry) update.retry = retry;
  const rt = hub.runtime;
  try {
    await rt.transport.dispatch(update);
  } catch (err) {
    rt.log.error({ err }, 'Failed to dispatch update');
    throw new Refused((err as { code?: string }).code === 'ERR_TRANSPORT_UNAVAILABLE' ? 503 : 500, 'the hub could not dispatch the update');
  }
  rt.metrics.updatePublished();
  rt.log.debug({ id: update.id, topics, via: 'mercure_publish' }, 'Update published');
  return update.id;
}

export class PublishChannel {
  readonly path: string;
  findHub: HubFinder = () => undefined;
  #server: http.Server | undefined;
  #log: Logger;

  constructor(path: string, log: Logger) {
    this.path = path;
    this.#log = log;
  }

  async listen(): Promise<void> {
    const server = http.createServer((req, res) => void this.#handle(req, res));
    this.#server = server;
    await new Promise<void>((res, rej) => { server.once('error', rej); server.listen(this.path, () => res()); });
    chmodSync(this.path, 0o600);
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const answer = (status: number, text: string) => { res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }); res.end(text); };
    try {
      if (req.method !== 'POST' || req.url !== '/publish') return answer(404, 'not found');
      const chunks: Buffer[] = [];
      let n = 0;
      for await (const ch of req) { n += (ch as Buffer).length; if (n > MAX_BODY) return answer(413, 'update too large'); chunks.push(ch as Buffer); }
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      answer(200, await publishUpdate(this.findHub(), input));
    } catch (err) {
      if (err instanceof Refused) return answer(err.status, err.message);
      this.#log.warn({ err }, 'mercure_publish failed');
      answer(400, 'invalid update');
    }
  }

  async close(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (s) await new Promise<void>((r) => { s.close(() => r()); s.closeAllConnections(); });
    rmSync(this.path, { force: true });
  }
}
