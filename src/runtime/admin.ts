/**
 * The local admin endpoint (Caddy's, default localhost:2019; `admin off`
 * disables it): GET /config/[path], POST /load, POST /adapt, POST /stop,
 * GET /metrics, plus routes modules register in the app registry under
 * `admin:<path prefix>` (Mercure's /mercure/health/… while a hub runs).
 * Access (Host, Origin, Sec-Fetch-Site, the /load media types) is decided
 * by AdminAccess (src/runtime/admin-origin.ts): only the allowed origins,
 * by default the listen address, against DNS rebinding and cross-site pages.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { adaptText, type AdapterName } from './load-config.ts';
import type { Runtime } from './runtime.ts';
import { ADMIN_ROUTE_PREFIX, type AdminRoute } from '../host/services.ts';
import { toCaddyJSON } from './caddy-json.ts';
import { AdminAccess, loadAdapter } from './admin-origin.ts';

/** The admin options of the config (`admin { origins …; enforce_origin }`). */
export interface AdminOptions { listen?: string; origins?: string[]; enforce_origin?: boolean }

function sendJSON(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body) + '\n');
}

async function readBody(req: IncomingMessage, limit = 16 << 20): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) { size += (c as Buffer).length; if (size > limit) throw new Error('request body too large'); chunks.push(c as Buffer); }
  return Buffer.concat(chunks).toString('utf8');
}

export class AdminServer {
  readonly address: string;
  #server: Server;
  #runtime: Runtime;
  #options: AdminOptions = {};
  /** Set once listening (the allowed origins depend on the bound port). */
  #access: AdminAccess | undefined;

  constructor(address: string, runtime: Runtime, options: AdminOptions = {}) {
    this.address = address;
    this.#runtime = runtime;
    this.#options = options;
    this.#server = createServer((req, res) => { this.#handle(req, res).catch((e) => sendJSON(res, 500, { error: (e as Error).message })); });
  }

  async listen(): Promise<string> {
    const m = /^(.*):(\d+)$/.exec(this.address);
    const host = (m?.[1] || 'localhost').replace(/^\[|\]$/g, '');
    this.#server.listen(Number(m?.[2] ?? 2019), host);
    await once(this.#server, 'listening');
    const a = this.#server.address() as AddressInfo;
    this.#port = a.port;
    this.configure(this.#options);
    return `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  #port = 0;

  /** Applies `origins` / `enforce_origin` (a reload that keeps the address keeps the listener). */
  configure(options: AdminOptions): void {
    this.#options = options;
    this.#access = new AdminAccess({ listen: this.address, port: this.#port, origins: options.origins, enforceOrigin: options.enforce_origin });
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const verdict = this.#access?.check(req.headers) ?? { ok: false as const, error: 'admin endpoint not ready' };
    if (!verdict.ok) { req.resume(); return sendJSON(res, 403, { error: verdict.error }); }
    const path = new URL(req.url ?? '/', 'http://admin').pathname;
    const method = req.method ?? 'GET';
    if (verdict.origin) {
      // An allowed origin may read the answers (and send the preflighted requests).
      res.setHeader('Access-Control-Allow-Origin', verdict.origin);
      res.setHeader('Vary', 'Origin');
      if (method === 'OPTIONS') {
        res.writeHead(204, {
          'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
          'Access-Control-Allow-Headers': 'Content-Type, Cache-Control',
        });
        res.end();
        return;
      }
    }
    const rt = this.#runtime;
    if (path === '/load' || path === '/adapt') {
      if (method !== 'POST') return sendJSON(res, 405, { error: `method not allowed: ${method}` });
      const adapter: AdapterName | undefined = loadAdapter(req.headers['content-type']);
      if (!adapter) {
        req.resume();
        return sendJSON(res, 400, { error: `unsupported Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')}; expected application/json or text/caddyfile` });
      }
      const body = await readBody(req);
      try {
        const { config, warnings } = adaptText(body, adapter, 'Caddyfile');
        if (path === '/adapt') return sendJSON(res, 200, { result: toCaddyJSON(config), warnings });
        await rt.load(config, req.headers['cache-control'] === 'must-revalidate');
        return sendJSON(res, 200, warnings.length ? { warnings } : {});
      } catch (e) {
        return sendJSON(res, 400, { error: `loading config: ${(e as Error).message}` });
      }
    }
    if (path === '/stop') {
      if (method !== 'POST') return sendJSON(res, 405, { error: `method not allowed: ${method}` });
      sendJSON(res, 200, {});
      setImmediate(() => { rt.requestStop(); });
      return;
    }
    if (path === '/metrics') {
      const reg = await rt.metrics();
      res.writeHead(200, { 'Content-Type': reg?.contentType ?? 'text/plain' });
      res.end(reg ? await reg.metrics() : '');
      return;
    }
    if (path === '/config' || path.startsWith('/config/')) {
      if (method !== 'GET') return sendJSON(res, 405, { error: 'only GET is supported on /config/ here; use POST /load' });
      let node: unknown = rt.instance?.config ?? null;
      for (const part of path.slice('/config'.length).split('/').filter(Boolean)) {
        node = node && typeof node === 'object' ? (node as Record<string, unknown>)[decodeURIComponent(part)] : undefined;
        if (node === undefined) return sendJSON(res, 404, { error: `unknown config path: ${path}` });
      }
      return sendJSON(res, 200, node);
    }
    for (const [key, route] of rt.instance?.app.registry ?? []) {
      if (key.startsWith(ADMIN_ROUTE_PREFIX) && path.startsWith(key.slice(ADMIN_ROUTE_PREFIX.length))) return (route as AdminRoute)(req, res, path);
    }
    sendJSON(res, 404, { error: `not found: ${path}` });
  }
}
