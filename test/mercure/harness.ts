/**
 * Test harness: the real hub module on a real node:http server (port 0),
 * with the local or bolt transport, a raw SSE reader and small HTTP helpers.
 */
import { once } from 'node:events';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mintToken } from '../../src/mercure/token.ts';
import { MercureHub } from '../../src/mercure/hub.ts';
import type { MercureConfig } from '../../src/mercure/config.ts';
import { registerStandardModules } from '../../src/runtime/standard.ts';
import type { HttpContext } from '../../src/http/handler.ts';
import { testModuleContext, type TestContext, type TestContextOptions } from '../helpers/module-context.ts';

export const P = '!ChangePublisher!';
export const S = '!ChangeSubscriber!';
export const HUB = '/.well-known/mercure';

registerStandardModules();

export interface TestHub {
  url: string;
  port: number;
  hub: MercureHub;
  tc: TestContext;
  server: Server;
  close(): Promise<void>;
}

/** The default test config: publisher key P, subscriber key S, local transport, fast timers off. */
export function baseConfig(extra: Partial<MercureConfig> = {}): MercureConfig {
  return {
    publisher_jwt: { key: P },
    subscriber_jwt: { key: S },
    transport: { name: 'local' },
    ...extra,
  };
}

/** Builds a minimal HttpContext (what the lead's server gives handlers). */
export function contextFor(req: IncomingMessage, res: import('node:http').ServerResponse, secure = false): HttpContext {
  const originalUri = req.url ?? '/';
  return {
    req, res, originalUri, secure,
    url: new URL(originalUri, 'http://' + (req.headers.host ?? 'localhost')),
    remoteAddr: req.socket.remoteAddress ?? '',
    remotePort: req.socket.remotePort ?? 0,
    vars: new Map(),
    replace: (s: string) => s,
  };
}

/** Starts the hub module on 127.0.0.1:0. Paths outside the hub answer 418 "next". */
export async function startHub(config: MercureConfig, opts: TestContextOptions = {}): Promise<TestHub> {
  const tc = testModuleContext(opts);
  const hub = new MercureHub(config);
  try {
    await hub.provision(tc.ctx);
    hub.validate();
  } catch (err) {
    await hub.cleanup();
    await tc.cleanup();
    throw err;
  }
  // Go's default MaxHeaderBytes is 1 MiB; Node's 16 KiB would answer 431 to large tokens.
  const server = createServer({ maxHeaderSize: 1 << 20 }, (req, res) => {
    hub.serveHTTP(contextFor(req, res), async () => { res.statusCode = 418; res.end('next'); }).catch((err) => {
      res.statusCode = 500; res.end(String(err));
    });
  });
  // Hijacked SSE streams (src/http/hijack.ts) leave node:http's connection
  // tracking, as upgraded sockets do: close() destroys every socket itself.
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => { sockets.add(s); s.once('close', () => sockets.delete(s)); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`, port, hub, tc, server,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await hub.cleanup();
      await tc.cleanup();
    },
  };
}

export interface Res { status: number; headers: IncomingHttpHeaders; rawHeaders: string[]; body: string }

/** One HTTP request with a fully read response. */
export function http(url: string, opts: { method?: string; headers?: Record<string, string | string[]>; body?: string | Buffer } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A form body from pairs (repeatable keys). */
export function form(pairs: [string, string][]): string {
  return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

/** POSTs an update with a Bearer token. */
export function publish(base: string, token: string, pairs: [string, string][], headers: Record<string, string> = {}): Promise<Res> {
  return http(base + HUB, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Bearer ${token}`, ...headers },
    body: form(pairs),
  });
}

/** Publisher token with `publish: ["*"]` (or the given selectors). */
export function pubToken(publish: string[] = ['*'], extra: Record<string, unknown> = {}): Promise<string> {
  return mintToken({ key: P, publish, ...extra });
}

/** Subscriber token. */
export function subToken(subscribe: string[] = ['*'], extra: Record<string, unknown> = {}): Promise<string> {
  return mintToken({ key: S, subscribe, ...extra });
}

/** A raw SSE stream: collects the body text; waits for content without sleeping. */
export class Sse {
  status = 0;
  headers: IncomingHttpHeaders = {};
  rawHeaders: string[] = [];
  text = '';
  ended = false;
  readonly #waiters = new Set<() => void>();
  readonly #req: ReturnType<typeof request>;
  readonly opened: Promise<void>;
  readonly closed: Promise<void>;

  constructor(url: string, headers: Record<string, string> = {}, method = 'GET') {
    let openResolve!: () => void, openReject!: (e: Error) => void, closeResolve!: () => void;
    this.opened = new Promise((a, b) => { openResolve = a; openReject = b; });
    this.closed = new Promise((a) => { closeResolve = a; });
    this.#req = request(url, { headers, method, agent: false }, (res) => {
      this.status = res.statusCode!;
      this.headers = res.headers;
      this.rawHeaders = res.rawHeaders;
      res.setEncoding('utf8');
      res.on('data', (c: string) => { this.text += c; this.#notify(); });
      const done = () => { this.ended = true; this.#notify(); closeResolve(); };
      res.on('end', done);
      res.on('close', done);
      res.on('error', () => {});
      openResolve();
    });
    this.#req.on('error', (e) => { this.ended = true; openReject(e); this.#notify(); closeResolve(); });
    this.#req.end();
  }

  #notify(): void { for (const w of [...this.#waiters]) w(); }

  /** Resolves once pred(text) holds; rejects after timeoutMs (a safety net, not a sleep). */
  waitFor(pred: (text: string) => boolean, timeoutMs = 5000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (pred(this.text)) { this.#waiters.delete(check); clearTimeout(t); resolve(this.text); }
        else if (this.ended) { this.#waiters.delete(check); clearTimeout(t); reject(new Error(`stream ended; got ${JSON.stringify(this.text)}`)); }
      };
      const t = setTimeout(() => { this.#waiters.delete(check); reject(new Error(`timeout; got ${JSON.stringify(this.text)}`)); }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  /** Waits until text contains s. */
  waitForText(s: string, timeoutMs?: number): Promise<string> { return this.waitFor((t) => t.includes(s), timeoutMs); }

  close(): void { this.#req.destroy(); }
}

/** Opens an SSE stream and waits for the response headers and the first `:\n`. */
export async function subscribe(base: string, query: string, headers: Record<string, string> = {}): Promise<Sse> {
  const s = new Sse(`${base}${HUB}?${query}`, headers);
  await s.opened;
  if (s.status === 200) await s.waitFor((t) => t.startsWith(':\n'));
  return s;
}

/** Query string from repeated topics. */
export function topics(...ts: string[]): string {
  return ts.map((t) => 'topic=' + encodeURIComponent(t)).join('&');
}

/** Waits until the hub's transport lists n subscribers (registration is async). */
export async function waitSubscribers(h: TestHub, n: number, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while ((await h.hub.runtime.transport.subscribers()).subscribers.length !== n) {
    if (Date.now() - start > timeoutMs) throw new Error(`expected ${n} subscribers`);
    await new Promise((r) => setImmediate(r));
  }
}
