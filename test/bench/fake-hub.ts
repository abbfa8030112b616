/**
 * A tiny in-process Mercure-like hub for testing the harness itself, so the
 * harness can be checked while the real hub is still being written. It
 * speaks just enough of the protocol: SSE subscribe with `topic` selectors
 * (exact, `*`, `{var}` templates), form publish, private updates gated by the
 * token's `mercure.subscribe` (decoded, NOT verified: a test fixture), and
 * the wire format of mercure-hub.md §2. Faults can be injected by sequence
 * number (drop, duplicate) to prove the harness notices them. Several fake
 * hubs can share one `bus` to play a cluster.
 */
import http from 'node:http';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';

interface Sub { res: http.ServerResponse; selectors: string[]; grants: string[] }

/** Shared subscriber registry: hubs on one bus deliver to each other's subscribers. */
export class Bus {
  readonly subs = new Set<Sub>();
}

/** Fault injection by the leading sequence number of the data. */
export interface Faults {
  drop?: Set<number>;
  duplicate?: Set<number>;
  /** Answer publishes with this status instead of delivering. */
  publishStatus?: number;
}

/** A running fake hub. */
export interface FakeHub {
  url: string;
  server: http.Server;
  bus: Bus;
  published: number;
  close(): Promise<void>;
}

function matches(topic: string, selector: string): boolean {
  if (selector === '*' || selector === topic) return true;
  if (!selector.includes('{')) return false;
  const re = new RegExp(`^${selector.split(/\{[^}]*\}/).map((p) => p.replace(/[.*+?^$()|[\]\\/]/g, '\\$&')).join('[^/]*')}$`);
  return re.test(topic);
}

function claims(req: http.IncomingMessage): { subscribe?: string[]; publish?: string[] } | undefined {
  const auth = req.headers.authorization;
  if (!auth?.startsWith('Bearer ')) return undefined;
  try {
    return JSON.parse(Buffer.from(auth.slice(7).split('.')[1]!, 'base64url').toString()).mercure ?? {};
  } catch { return undefined; }
}

/** Starts a fake hub on 127.0.0.1 (`port` 0: a free one). */
export async function startFakeHub(faults: Faults = {}, bus = new Bus(), port = 0): Promise<FakeHub> {
  const hub: FakeHub = { url: '', server: undefined as unknown as http.Server, bus, published: 0, close: async () => {} };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/.well-known/mercure') { res.writeHead(404).end(); return; }
    if (req.method === 'GET') {
      const selectors = url.searchParams.getAll('topic');
      if (selectors.length === 0) { res.writeHead(400).end('Missing "topic" parameter.\n'); return; }
      const c = claims(req);
      if (req.headers.authorization && !c) { res.writeHead(401).end('Unauthorized\n'); return; }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(':\n');
      const sub: Sub = { res, selectors, grants: c?.subscribe ?? [] };
      bus.subs.add(sub);
      res.on('close', () => bus.subs.delete(sub));
      return;
    }
    if (req.method !== 'POST') { res.writeHead(405).end(); return; }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => { body += c; });
    req.on('end', () => {
      const c = claims(req);
      if (!c?.publish) { res.writeHead(401).end('Unauthorized\n'); return; }
      if (faults.publishStatus) { res.writeHead(faults.publishStatus).end('nope\n'); return; }
      const form = new URLSearchParams(body);
      const topics = form.getAll('topic');
      const data = form.get('data') ?? '';
      const priv = form.has('private');
      const id = `urn:uuid:${randomUUID()}`;
      const seq = Number(data.split(' ')[0]);
      const frame = `id: ${id}\ndata: ${data}\n\n`;
      for (const s of bus.subs) {
        if (!topics.some((t) => s.selectors.some((sel) => matches(t, sel)))) continue;
        if (priv && !topics.some((t) => s.grants.some((g) => matches(t, g)))) continue;
        if (faults.drop?.has(seq)) continue;
        s.res.write(frame);
        if (faults.duplicate?.has(seq)) s.res.write(frame);
      }
      hub.published++;
      res.writeHead(200, { 'content-type': 'text/plain' }).end(id);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  hub.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/.well-known/mercure`;
  hub.server = server;
  hub.close = async () => {
    for (const s of bus.subs) s.res.destroy();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return hub;
}
