/**
 * `http.reverse_proxy.transport.fastcgi`: FastCGI 1.0 to php-fpm (or any
 * responder) over TCP or a unix socket. One request per connection at a
 * time; connections are kept alive (FCGI_KEEP_CONN) and reused, up to
 * `max_conns` per upstream (0 = unlimited; further requests wait for one).
 * The request body is streamed into STDIN records with back-pressure; STDOUT
 * is parsed as a CGI response and its body streamed out as it arrives (a PHP
 * page that flushes is never buffered). STDERR goes to the log (warn, or
 * error for a status ≥ 400, with `capture_stderr`; debug otherwise).
 * Timeouts: dial_timeout (3s) → 504, read_timeout / write_timeout (none) →
 * 504; a refused or broken connection → 502 (the handler maps the codes).
 */
import net from 'node:net';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { ModuleContext } from '../../host/module.ts';
import { toMs } from '../../host/duration.ts';
import { HttpError } from '../../host/errors.ts';
import type { HttpContext } from '../handler.ts';
import { buildCgiEnv } from './fastcgi/cgi-env.ts';
import { CgiResponseParser } from './fastcgi/cgi-response.ts';
import {
  decodeEndRequest, encodeBeginRequest, encodeParams, encodeRecords, END_REQUEST, PARAMS, RecordReader, STDERR, STDIN, STDOUT,
} from './fastcgi/codec.ts';
import type { ProxyRequest, ProxyResponse, ProxyTransport } from './transport.ts';
import type { Upstream } from './upstreams.ts';

/** JSON config (Caddy's fastcgi transport, plus keep_alive and max_conns). */
export interface FastcgiTransportConfig {
  protocol?: 'fastcgi';
  root?: string;
  split_path?: string[];
  env?: Record<string, string>;
  resolve_root_symlink?: boolean;
  dial_timeout?: string | number;
  read_timeout?: string | number;
  write_timeout?: string | number;
  capture_stderr?: boolean;
  keep_alive?: { enabled?: boolean; idle_timeout?: string | number };
  /** Upper bound of connections per upstream (php-fpm binds a worker to each); 0 = none. */
  max_conns?: number;
  [k: string]: unknown;
}

/** Largest body of unknown length buffered to compute CONTENT_LENGTH (Caddy: 4 KiB). */
const MAX_UNKNOWN_BODY = 4096;

function codedError(message: string, code: string, cause?: unknown): Error {
  return Object.assign(new Error(message, cause ? { cause } : undefined), { code });
}

/** Idle connections and waiters of one upstream. */
class ConnPool {
  idle: net.Socket[] = [];
  open = 0;
  /** Requests on new connections still waiting for their first byte (maybe queued behind busy php-fpm workers). */
  fresh = 0;
  waiters: ((s: net.Socket | undefined) => void)[] = [];
}

export class FastcgiTransport implements ProxyTransport {
  readonly config: FastcgiTransportConfig;
  readonly tls = false;
  #log: Logger | undefined;
  #dialMs: number;
  #readMs: number;
  #writeMs: number;
  #idleMs: number;
  #keepAlive: boolean;
  #maxConns: number;
  #pools = new Map<string, ConnPool>();
  #closed = false;

  constructor(config: FastcgiTransportConfig) {
    this.config = config ?? {};
    this.#dialMs = toMs(this.config.dial_timeout, 3000);
    this.#readMs = toMs(this.config.read_timeout, 0);
    this.#writeMs = toMs(this.config.write_timeout, 0);
    this.#keepAlive = this.config.keep_alive?.enabled !== false;
    this.#idleMs = toMs(this.config.keep_alive?.idle_timeout, 2000);
    this.#maxConns = this.config.max_conns ?? 0;
  }

  provision(ctx: ModuleContext): void {
    this.#log = ctx.log;
  }

  #root(c: HttpContext): string {
    const r = resolve(c.replace(this.config.root ?? '{http.vars.root}', true) || '.');
    if (this.config.resolve_root_symlink) {
      try { return realpathSync(r); } catch { return r; }
    }
    return r;
  }

  #dial(dial: string): Promise<net.Socket> {
    return new Promise((res, rej) => {
      const opts = dial.startsWith('unix/') ? { path: dial.slice(5) } : (() => {
        const i = dial.lastIndexOf(':');
        return { host: dial.slice(0, i).replace(/^\[(.*)\]$/, '$1') || 'localhost', port: Number(dial.slice(i + 1)) };
      })();
      const s = net.connect(opts as net.NetConnectOpts);
      const t = setTimeout(() => { s.destroy(); rej(codedError(`dial ${dial}: timeout`, 'UND_ERR_CONNECT_TIMEOUT')); }, this.#dialMs);
      s.once('connect', () => { clearTimeout(t); s.setNoDelay(true); res(s); });
      s.once('error', (e) => { clearTimeout(t); rej(e); });
    });
  }

  /** A connection for dial: an idle one, a new one, or (at max_conns) the next one released. */
  async #acquire(dial: string): Promise<{ sock: net.Socket; reused: boolean }> {
    let p = this.#pools.get(dial);
    if (!p) { p = new ConnPool(); this.#pools.set(dial, p); }
    while (p.idle.length) {
      const s = p.idle.pop()!;
      s.removeAllListeners('close');
      s.removeAllListeners('error');
      s.removeAllListeners('timeout');
      s.setTimeout(0);
      if (!s.destroyed && s.readable && s.writable) return { sock: s, reused: true };
      p.open--;
    }
    if (this.#maxConns > 0 && p.open >= this.#maxConns) {
      const s = await new Promise<net.Socket | undefined>((r) => p.waiters.push(r));
      if (s) return { sock: s, reused: true };
      return this.#acquire(dial);
    }
    p.open++;
    try {
      return { sock: await this.#dial(dial), reused: false };
    } catch (e) {
      p.open--;
      this.#wake(p);
      throw e;
    }
  }

  #wake(p: ConnPool): void {
    const w = p.waiters.shift();
    if (w) w(undefined);
  }

  /** Returns a healthy connection to the pool, or closes it. */
  #release(dial: string, s: net.Socket, reusable: boolean): void {
    const p = this.#pools.get(dial);
    s.removeAllListeners('data');
    s.removeAllListeners('end');
    s.removeAllListeners('close');
    s.removeAllListeners('error');
    s.removeAllListeners('drain');
    s.removeAllListeners('timeout');
    s.setTimeout(0);
    if (!p) { s.destroy(); return; }
    // php-fpm binds a worker to each connection: without a max_conns bound, an idle kept connection may hold the
    // worker a new connection (in the listen backlog) is waiting for, so close instead of keeping while one waits.
    const starving = this.#maxConns === 0 && p.fresh > 0;
    if (!reusable || !this.#keepAlive || this.#closed || s.destroyed || starving) {
      s.destroy();
      p.open--;
      this.#wake(p);
      return;
    }
    const w = p.waiters.shift();
    if (w) { w(s); return; }
    s.on('error', () => undefined);
    s.once('close', () => { const i = p.idle.indexOf(s); if (i >= 0) { p.idle.splice(i, 1); p.open--; this.#wake(p); } });
    s.setTimeout(this.#idleMs, () => s.destroy());
    p.idle.push(s);
  }

  async roundTrip(c: HttpContext, u: Upstream, req: ProxyRequest): Promise<ProxyResponse> {
    if (c.url.pathname.includes('%00') || c.url.pathname.includes('\0')) throw new HttpError(400);
    let body = req.body;
    let length: number | undefined;
    const cl = req.headers['content-length'];
    if (req.method === 'HEAD' || req.method === 'OPTIONS') { body = null; length = 0; }
    else if (cl !== undefined) length = Number(cl);
    else if (body) {
      const chunks: Buffer[] = [];
      let n = 0;
      // destroyOnReturn false: the request must stay usable (the server reads `destroyed` as "client went away").
      for await (const ch of body.iterator({ destroyOnReturn: false })) {
        n += (ch as Buffer).length;
        // Too long to measure: read on (discarding, up to 1 MiB) so the client gets the 411 rather than a reset
        // (leaving the loop early destroys the request, and its connection with it).
        if (n <= MAX_UNKNOWN_BODY) chunks.push(ch as Buffer);
        else if (n > MAX_UNKNOWN_BODY + (1 << 20)) break;
      }
      if (n > MAX_UNKNOWN_BODY) throw new HttpError(411);
      const buf = Buffer.concat(chunks);
      length = buf.length;
      body = buf.length ? PassThrough.from([buf]) as unknown as Readable : null;
    } else length = 0;
    const env = buildCgiEnv(c, req.method, req.headers, length, {
      root: this.#root(c),
      split: this.config.split_path ?? [],
      env: this.config.env ?? {},
      serverSoftware: 'Quicksilver',
    });
    const head = [
      encodeBeginRequest(1, this.#keepAlive),
      ...encodeRecords(PARAMS, 1, encodeParams(env)),
      ...encodeRecords(PARAMS, 1),
    ];
    for (let attempt = 0; ; attempt++) {
      const { sock, reused } = await this.#acquire(u.dial);
      try {
        return await this.#exchange(c, u.dial, sock, reused, head, body, req.signal);
      } catch (e) {
        // A kept-alive connection the upstream closed meanwhile: retry once on a fresh one when nothing was consumed.
        if (reused && attempt === 0 && !body && (e as { code?: string }).code === 'ERR_FCGI_STALE') continue;
        throw e;
      }
    }
  }

  #exchange(_c: HttpContext, dial: string, sock: net.Socket, reused: boolean, head: Buffer[], body: Readable | null, signal: AbortSignal): Promise<ProxyResponse> {
    const pool = this.#pools.get(dial);
    let fresh = !reused && pool !== undefined;
    if (fresh) pool!.fresh++;
    const answered = () => { if (fresh) { fresh = false; pool!.fresh--; } };
    return new Promise<ProxyResponse>((resolveRes, rejectRes) => {
      const reader = new RecordReader();
      const cgi = new CgiResponseParser();
      let out: PassThrough | undefined;
      let settled = false;
      let gotBytes = false;
      let finished = false;
      let stderr = '';
      let status = 0;
      // Reusable only once the whole request went out: records still in flight would be read as the next request's.
      let sent = false;
      const fail = (err: Error) => {
        if (finished) return;
        finished = true;
        answered();
        body?.unpipe?.();
        signal.removeEventListener('abort', onAbort);
        this.#release(dial, sock, false);
        if (!settled) { settled = true; rejectRes(err); }
        else out?.destroy(err);
        flushStderr();
      };
      const flushStderr = () => {
        if (!stderr) return;
        const msg = stderr.trimEnd();
        stderr = '';
        if (this.config.capture_stderr) {
          if (status >= 400) this.#log?.error({ upstream: dial, stderr: msg }, 'stderr');
          else this.#log?.warn({ upstream: dial, stderr: msg }, 'stderr');
        } else this.#log?.debug({ upstream: dial, stderr: msg }, 'stderr');
      };
      const onAbort = () => fail(codedError('client went away', 'ERR_PROXY_ABORTED'));
      if (signal.aborted) { onAbort(); return; }
      signal.addEventListener('abort', onAbort, { once: true });
      if (this.#readMs > 0) {
        sock.setTimeout(this.#readMs, () => fail(codedError(`read from ${dial}: timeout`, 'ERR_PROXY_TIMEOUT')));
      }
      const onRecordData = (buf: Buffer) => {
        if (!settled) {
          const r = cgi.push(buf);
          if (!r) return;
          status = r.status;
          settled = true;
          out = new PassThrough();
          out.on('drain', () => sock.resume());
          out.on('close', () => { if (!finished) fail(codedError('response body closed', 'ERR_PROXY_ABORTED')); });
          resolveRes({ status: r.status, headers: r.headers, body: out });
          if (r.rest.length && !out.write(r.rest)) sock.pause();
        } else if (out && !out.write(buf)) sock.pause();
      };
      sock.on('data', (chunk: Buffer) => {
        gotBytes = true;
        answered();
        let records;
        try { records = reader.push(chunk); } catch (e) { fail(e as Error); return; }
        for (const rec of records) {
          if (finished) return;
          if (rec.requestId !== 1) continue;
          if (rec.type === STDOUT) { if (rec.content.length) onRecordData(rec.content); }
          else if (rec.type === STDERR) { stderr += rec.content.toString('utf8'); if (stderr.length > 65536) flushStderr(); }
          else if (rec.type === END_REQUEST) {
            const end = decodeEndRequest(rec.content);
            if (!settled) {
              // No header block at all: an empty 200 response, as CGI says.
              const r = cgi.end();
              status = r.status;
              settled = true;
              out = new PassThrough();
              resolveRes({ status: r.status, headers: r.headers, body: out });
            }
            finished = true;
            signal.removeEventListener('abort', onAbort);
            flushStderr();
            if (end.protocolStatus !== 0) { this.#release(dial, sock, false); out!.destroy(codedError(`fcgi: protocol status ${end.protocolStatus}`, 'ERR_FCGI_STATUS')); return; }
            this.#release(dial, sock, reader.pending === 0 && sent);
            out!.end();
            return;
          }
        }
      });
      sock.on('error', (e) => fail(!gotBytes ? Object.assign(e, { code: (e as { code?: string }).code === 'ECONNRESET' || (e as { code?: string }).code === 'EPIPE' ? 'ERR_FCGI_STALE' : (e as { code?: string }).code }) : e));
      sock.on('close', () => fail(codedError(`connection to ${dial} closed before the response ended`, gotBytes ? 'ECONNRESET' : 'ERR_FCGI_STALE')));
      // Request: head, then the body as STDIN records (with back-pressure), then an empty STDIN.
      // Each call is one socket write (one syscall): the records are joined first.
      const write = (b: Buffer[]): Promise<void> => {
        const ok = sock.write(b.length === 1 ? b[0]! : Buffer.concat(b));
        if (ok) return Promise.resolve();
        return new Promise<void>((res, rej) => {
          const t = this.#writeMs > 0 ? setTimeout(() => rej(codedError(`write to ${dial}: timeout`, 'ERR_PROXY_TIMEOUT')), this.#writeMs) : undefined;
          sock.once('drain', () => { if (t) clearTimeout(t); res(); });
        });
      };
      void (async () => {
        if (!body) { sent = true; await write([...head, ...encodeRecords(STDIN, 1)]); return; }
        await write(head);
        if (body) for await (const ch of body.iterator({ destroyOnReturn: false })) {
          if (finished) return;
          await write(encodeRecords(STDIN, 1, ch as Buffer));
        }
        if (!finished) { sent = true; await write(encodeRecords(STDIN, 1)); }
      })().catch((e: Error) => fail(e));
    });
  }

  async cleanup(): Promise<void> {
    this.#closed = true;
    for (const p of this.#pools.values()) {
      for (const s of p.idle) s.destroy();
      p.idle = [];
      for (const w of p.waiters.splice(0)) w(undefined);
    }
    this.#pools.clear();
  }
}
