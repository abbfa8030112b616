/**
 * Test helpers for the HTTP core: run apps from JSON configs through the real
 * host Instance (provision → start → stop → cleanup) on port 0, and small
 * real-socket clients. Nothing here sleeps: everything awaits events.
 */
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import pino from 'pino';
import { Instance } from '../../src/host/instance.ts';
import { UsagePool } from '../../src/host/usage-pool.ts';
import type { HttpApp } from '../../src/http/app.ts';
import type { RouteConfig } from '../../src/http/handler.ts';
import { registerHttpModules } from '../../src/http/modules.ts';

registerHttpModules();

export const silent = pino({ level: process.env.QS_TEST_LOG ?? 'silent' });

export interface Running {
  instance: Instance;
  app: HttpApp;
  pool: UsagePool;
  dataDir: string;
  /** Port of a server (default srv0). */
  port(server?: string): number;
  /** http://127.0.0.1:<port><path> */
  url(path?: string, server?: string): string;
  stop(graceMs?: number): Promise<void>;
}

/** Provisions and starts `{ apps }` (or a bare http app config); stops it in t.after. */
export async function start(t: TestContext | undefined, apps: Record<string, unknown>, opts: { pool?: UsagePool; dataDir?: string } = {}): Promise<Running> {
  const pool = opts.pool ?? new UsagePool();
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'qs-http-'));
  const instance = new Instance({ apps }, { log: silent, pool, dataDir });
  await instance.provision();
  await instance.start();
  const app = instance.app.registry.get('apps.http') as HttpApp;
  let stopped = false;
  const r: Running = {
    instance, app, pool, dataDir,
    port: (s = 'srv0') => app.port(s),
    url: (path = '/', s = 'srv0') => `http://127.0.0.1:${app.port(s)}${path}`,
    async stop(graceMs = 0) {
      if (stopped) return;
      stopped = true;
      await instance.stop(graceMs);
      await instance.cleanup();
    },
  };
  t?.after(() => r.stop());
  return r;
}

/** One plain server on 127.0.0.1:0 with the given routes. */
export function serve(t: TestContext, routes: RouteConfig[], extra: Record<string, unknown> = {}): Promise<Running> {
  return start(t, { http: { servers: { srv0: { listen: ['127.0.0.1:0'], routes, ...extra } } } });
}

/** A response read fully. */
export interface Reply { status: number; headers: http.IncomingHttpHeaders; body: string; raw: Buffer }

/** Sends a request with node:http (no keep-alive unless an agent is given) and reads the whole response. */
export async function request(url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer; agent?: http.Agent | false } = {}): Promise<Reply> {
  const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers, agent: init.agent ?? false });
  req.end(init.body);
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  return { status: res.statusCode ?? 0, headers: res.headers, body: raw.toString('utf8'), raw };
}

/** A respond handler config. */
export const respond = (body?: string, status?: number, more: Record<string, unknown> = {}) =>
  ({ handler: 'static_response', ...(body !== undefined ? { body } : {}), ...(status ? { status_code: status } : {}), ...more });

/** A node:http upstream on 127.0.0.1:0, closed in t.after. */
export async function upstream(t: TestContext, handler: http.RequestListener): Promise<{ server: http.Server; port: number; url: string }> {
  const server = http.createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => { server.closeAllConnections(); server.close(); });
  const port = (server.address() as { port: number }).port;
  return { server, port, url: `http://127.0.0.1:${port}` };
}
