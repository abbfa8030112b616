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
 * Connection reuse and its bound live in fastcgi/connections.ts.
 */
import type net from 'node:net';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { ModuleContext } from '../../host/module.ts';
import { toMs } from '../../host/duration.ts';
import { HttpError } from '../../host/errors.ts';
import type { HttpContext } from '../handler.ts';
import { buildCgiEnv } from './fastcgi/cgi-env.ts';
import { codedError, FcgiConnections } from './fastcgi/connections.ts';
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


export class FastcgiTransport implements ProxyTransport {
  /** Lifecycle: nothing to check. */
  validate(): void {}
  readonly config: FastcgiTransportConfig;
  readonly tls = false;
  #log: Logger | undefined;
  #readMs: number;
  #writeMs: number;
  #keepAlive: boolean;
  #conns: FcgiConnections;

  constructor(config: FastcgiTransportConfig) {
    this.config = config ?? {};
    this.#readMs = toMs(this.config.read_timeout, 0);
    this.#writeMs = toMs(this.config.write_timeout, 0);
    this.#keepAlive = this.config.keep_alive?.enabled !== false;
    this.#conns = new FcgiConnections({
      dialMs: toMs(this.config.dial_timeout, 3000),
      idleMs: toMs(this.config.keep_alive?.idle_timeout, 2000),
      keepAlive: this.#keepAlive,
      maxConns: this.config.max_conns ?? 0,
    });
  }

  provision(ctx: ModuleContext): void {
    this.#log = ctx.log;
  }

  /** The document root; with resolve_root_symlink it is resolved per request, as Caddy does, so a swapped `current` symlink takes effect at once. */
  #root(c: HttpContext): string {
    const r = resolve(c.replace(this.config.root ?? '{http.vars.root}', true) || '.');
    if (!this.config.resolve_root_symlink) return r;
    try { return realpathSync(r); } catch { return r; /* a missing root stays as written: php-fpm answers "File not found." */ }
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
      const { sock, reused } = await this.#conns.acquire(u.dial);
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
    const answered = reused ? () => undefined : this.#conns.waitingFirstByte(dial);
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
        this.#conns.release(dial, sock, false);
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
            if (end.protocolStatus !== 0) { this.#conns.release(dial, sock, false); out!.destroy(codedError(`fcgi: protocol status ${end.protocolStatus}`, 'ERR_FCGI_STATUS')); return; }
            this.#conns.release(dial, sock, reader.pending === 0 && sent);
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

  cleanup(): void {
    this.#conns.close();
  }
}
