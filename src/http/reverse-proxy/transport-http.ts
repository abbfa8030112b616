/**
 * `http.reverse_proxy.transport.http`: HTTP/1.1 (and h2 over TLS) to
 * upstreams through undici Pools, one per dial address, created lazily and
 * closed at cleanup. Timeouts: `dial_timeout` (3s), `response_header_timeout`
 * (none), `read_timeout` (none: long-lived streams such as SSE must not be
 * cut). Upgrades (WebSocket) use node:http, which hands over the raw socket.
 */
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import type { ModuleContext } from '../../host/module.ts';
import { toMs } from '../../host/duration.ts';
import type { HttpContext } from '../handler.ts';
import type { ProxyRequest, ProxyResponse, ProxyTransport, UpgradeResult } from './transport.ts';
import type { Upstream } from './upstreams.ts';

/** JSON config of the http transport. */
export interface HttpTransportConfig {
  protocol?: 'http';
  dial_timeout?: string | number;
  response_header_timeout?: string | number;
  read_timeout?: string | number;
  write_timeout?: string | number;
  keep_alive?: { enabled?: boolean; idle_timeout?: string | number; max_idle_conns_per_host?: number };
  tls?: { insecure_skip_verify?: boolean; server_name?: string; root_ca_pem_files?: string[] };
  versions?: string[];
  max_conns_per_host?: number;
  [k: string]: unknown;
}

export class HttpTransport implements ProxyTransport {
  /** Lifecycle: nothing to check. */
  validate(): void {}
  readonly config: HttpTransportConfig;
  readonly tls: boolean;
  #pools = new Map<string, Pool>();
  #dialMs: number;
  #headerMs: number;
  #readMs: number;
  #ca: string[] | undefined;

  constructor(config: HttpTransportConfig) {
    this.config = config;
    this.tls = config.tls !== undefined;
    this.#dialMs = toMs(config.dial_timeout, 3000);
    this.#headerMs = toMs(config.response_header_timeout, 0);
    this.#readMs = toMs(config.read_timeout, 0);
  }

  provision(_ctx: ModuleContext): void {
    this.#ca = this.config.tls?.root_ca_pem_files?.map((f) => readFileSync(f, 'utf8'));
  }

  #target(u: Upstream): { origin: string; socketPath?: string; host: string; port: number } {
    const scheme = this.tls ? 'https' : 'http';
    if (u.dial.startsWith('unix/')) return { origin: `${scheme}://localhost`, socketPath: u.dial.slice(5), host: 'localhost', port: 0 };
    const hp = u.hostport;
    const i = hp.lastIndexOf(':');
    const host = hp.slice(0, i).replace(/^\[(.*)\]$/, '$1');
    return { origin: `${scheme}://${hp}`, host, port: Number(hp.slice(i + 1)) };
  }

  #pool(u: Upstream): Pool {
    let p = this.#pools.get(u.dial);
    if (!p) {
      const t = this.#target(u);
      const ka = this.config.keep_alive;
      p = new Pool(t.origin, {
        connect: {
          timeout: this.#dialMs,
          ...(t.socketPath ? { socketPath: t.socketPath } : {}),
          ...(this.tls ? { rejectUnauthorized: this.config.tls?.insecure_skip_verify !== true, servername: this.config.tls?.server_name, ca: this.#ca } : {}),
        },
        headersTimeout: this.#headerMs,
        bodyTimeout: this.#readMs,
        ...(ka?.enabled === false ? { pipelining: 0, keepAliveTimeout: 1 } : ka?.idle_timeout !== undefined ? { keepAliveTimeout: toMs(ka.idle_timeout, 4000) } : {}),
        ...(this.config.max_conns_per_host ? { connections: this.config.max_conns_per_host } : {}),
        allowH2: this.tls && (this.config.versions ?? ['1.1', '2']).includes('2'),
      });
      this.#pools.set(u.dial, p);
    }
    return p;
  }

  async roundTrip(_c: HttpContext, u: Upstream, req: ProxyRequest): Promise<ProxyResponse> {
    const r = await this.#pool(u).request({
      method: req.method as 'GET',
      path: req.path,
      headers: req.headers,
      body: req.body ?? undefined,
      signal: req.signal,
    });
    return { status: r.statusCode, headers: r.headers as Record<string, string | string[] | undefined>, body: r.body };
  }

  upgrade(_c: HttpContext, u: Upstream, req: ProxyRequest): Promise<UpgradeResult> {
    const t = this.#target(u);
    const mod = this.tls ? https : http;
    return new Promise((resolve, reject) => {
      const out = mod.request({
        ...(t.socketPath ? { socketPath: t.socketPath } : { host: t.host, port: t.port }),
        method: req.method, path: req.path, headers: req.headers, agent: false, signal: req.signal,
        timeout: this.#dialMs,
        ...(this.tls ? { rejectUnauthorized: this.config.tls?.insecure_skip_verify !== true, servername: this.config.tls?.server_name, ca: this.#ca } : {}),
      });
      out.once('timeout', () => out.destroy(Object.assign(new Error('upstream timeout'), { code: 'ERR_PROXY_TIMEOUT' })));
      out.once('upgrade', (res, socket, head) => {
        out.setTimeout(0);
        resolve({ kind: 'tunnel', status: res.statusCode ?? 101, rawHeaders: res.rawHeaders, socket, head });
      });
      out.once('response', (res) => {
        out.setTimeout(0);
        resolve({ kind: 'response', response: { status: res.statusCode ?? 502, headers: res.headers, body: res } });
      });
      out.once('error', reject);
      out.end();
    });
  }

  async cleanup(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((p) => p.destroy().catch(() => undefined)));
  }
}
