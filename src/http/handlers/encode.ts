/**
 * `http.handlers.encode`: compresses responses with zstd, gzip or br (node:zlib),
 * negotiated from Accept-Encoding and the `prefer` order.
 * The decision is made when the head would be written, as in Caddy: a
 * response is encoded only if it matches `match` (by default: compressible
 * Content-Types), has no Content-Encoding, no `Cache-Control: no-transform`,
 * and is at least `minimum_length` bytes (Content-Length, or the first write).
 * `text/event-stream` is NEVER encoded or buffered: its head and every event
 * pass straight through. Errors raised by later handlers are not encoded.
 * When encoding: Content-Encoding set, Content-Length and Accept-Ranges
 * removed, `Vary: Accept-Encoding` added, a strong ETag gets `-<encoding>`
 * (stripped again from If-None-Match). `res.flush()` pushes buffered output.
 */
import type { ServerResponse } from 'node:http';
import zlib from 'node:zlib';
import type { Transform } from 'node:stream';
import { ConfigError } from '../../host/errors.ts';
import type { HandlerConfig, HttpContext, HttpHandler, Next } from '../handler.ts';
import { applyHeadArgs } from '../response.ts';
import { matchResponse, type ResponseMatcherConfig } from './headers.ts';

/** JSON config of `encode`. */
export interface EncodeConfig extends HandlerConfig {
  handler: 'encode';
  /** Levels: numbers; zstd also takes fastest | default | better | best. */
  encodings?: { gzip?: { level?: number }; zstd?: { level?: number | string }; br?: { level?: number } };
  prefer?: string[];
  /** Bytes; default 512. */
  minimum_length?: number;
  match?: ResponseMatcherConfig;
}

const DEFAULT_TYPES = [
  'application/atom+xml*', 'application/eot*', 'application/font*', 'application/geo+json*', 'application/graphql+json*',
  'application/graphql-response+json*', 'application/javascript*', 'application/json*', 'application/ld+json*',
  'application/manifest+json*', 'application/opentype*', 'application/otf*', 'application/rss+xml*', 'application/truetype*',
  'application/ttf*', 'application/vnd.api+json*', 'application/vnd.ms-fontobject*', 'application/wasm*', 'application/x-httpd-cgi*',
  'application/x-javascript*', 'application/x-opentype*', 'application/x-otf*', 'application/x-perl*', 'application/x-protobuf*',
  'application/x-ttf*', 'application/xhtml+xml*', 'application/xml*', 'font/*', 'image/svg+xml*', 'image/vnd.microsoft.icon*',
  'image/x-icon*', 'multipart/bag*', 'multipart/mixed*', 'text/*',
];

const ZSTD_LEVELS: Record<string, number> = { fastest: 1, default: 3, better: 7, best: 11 };

const FACTORIES: Record<string, (level?: number) => Transform> = {
  gzip: (level) => zlib.createGzip(level === undefined ? {} : { level }),
  zstd: (level) => zlib.createZstdCompress(level === undefined ? {} : { params: { [zlib.constants.ZSTD_c_compressionLevel]: level } }),
  br: (level) => zlib.createBrotliCompress(level === undefined ? {} : { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: level } }),
};

/** Parses Accept-Encoding and picks the best configured encoding (q first, then `prefer` order). */
export function negotiate(header: string | undefined, available: string[]): string | undefined {
  if (!header) return undefined;
  const accepted: { name: string; q: number }[] = [];
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().split(';');
    if (!name) continue;
    let q = 1;
    for (const p of params) { const m = /^\s*q=([\d.]+)/.exec(p); if (m) q = Number(m[1]); }
    accepted.push({ name: name.trim().toLowerCase(), q });
  }
  let best: string | undefined;
  let bestQ = 0;
  for (const enc of available) {
    const a = accepted.find((x) => x.name === enc) ?? accepted.find((x) => x.name === '*');
    if (a && a.q > bestQ) { best = enc; bestQ = a.q; }
  }
  return best;
}

export class Encode implements HttpHandler {
  /** Lifecycle: nothing to open, check, release. */
  provision(): void {}
  validate(): void {}
  cleanup(): void {}
  readonly config: EncodeConfig;
  #prefer: string[];
  #min: number;
  #match: ResponseMatcherConfig;

  constructor(config: EncodeConfig) {
    this.config = config;
    const names = Object.keys(config.encodings ?? {});
    for (const n of names) {
      if (!FACTORIES[n]) throw new ConfigError('ERR_MODULE_UNKNOWN', undefined, `finding encoder module 'http.encoders.${n}': module not registered`);
    }
    this.#prefer = [...(config.prefer ?? []).filter((p) => names.includes(p)), ...names.filter((n) => !config.prefer?.includes(n))];
    this.#min = config.minimum_length ?? 512;
    this.#match = config.match ?? { headers: { 'Content-Type': DEFAULT_TYPES } };
  }

  async serveHTTP(c: HttpContext, next: Next): Promise<void> {
    const enc = negotiate(c.req.headers['accept-encoding'], this.#prefer);
    if (!enc || c.req.method === 'HEAD' || /no-transform/i.test(String(c.req.headers['cache-control'] ?? ''))) return next();
    const inm = c.req.headers['if-none-match'];
    if (inm) c.req.headers['if-none-match'] = inm.replaceAll(`-${enc}"`, '"');
    const w = new EncodingWriter(c.res, enc, this);
    try {
      await next();
    } catch (err) {
      w.abandon();
      throw err;
    }
  }

  /** Whether a response with this status and headers should be encoded (length aside). */
  wants(res: ServerResponse, status: number): boolean {
    if (status < 200 || status === 204 || status === 304) return false;
    const type = String(res.getHeader('content-type') ?? '');
    if (type.toLowerCase().startsWith('text/event-stream')) return false;
    if (res.hasHeader('content-encoding')) return false;
    if (/no-transform/i.test(String(res.getHeader('cache-control') ?? ''))) return false;
    return matchResponse(this.#match, status, (n) => res.getHeader(n));
  }

  get min(): number { return this.#min; }
  level(enc: string): number | undefined {
    const l = (this.config.encodings as Record<string, { level?: number | string }> | undefined)?.[enc]?.level;
    return typeof l === 'string' ? ZSTD_LEVELS[l] : l;
  }
}

type Fn = (...args: unknown[]) => unknown;

/** Patches one response: holds the head until the encode decision, then routes the body. */
class EncodingWriter {
  #res: ServerResponse;
  #enc: string;
  #h: Encode;
  #state: 'pending' | 'pass' | 'encode' = 'pending';
  #status = 200;
  #headHeld = false;
  #writeHead: Fn;
  #write: Fn;
  #end: Fn;
  #z: Transform | undefined;

  constructor(res: ServerResponse, enc: string, h: Encode) {
    this.#res = res;
    this.#enc = enc;
    this.#h = h;
    this.#writeHead = res.writeHead as unknown as Fn;
    this.#write = res.write as unknown as Fn;
    this.#end = res.end as unknown as Fn;
    const self = this;
    res.writeHead = function (status: number, a?: unknown, b?: unknown) {
      if (self.#state !== 'pending') return self.#writeHead.call(res, status, a, b);
      const msg = applyHeadArgs(res, a, b);
      if (status < 200) return self.#writeHead.call(res, status, msg);
      self.#status = status;
      res.statusCode = status;
      self.#headHeld = true;
      const cl = res.getHeader('content-length');
      if (!self.#h.wants(res, status)) self.#decide(false);
      else if (cl !== undefined) self.#decide(Number(cl) >= self.#h.min);
      return res;
    } as ServerResponse['writeHead'];
    res.write = function (chunk: unknown, ...rest: unknown[]) {
      if (self.#state === 'pending') self.#decideFor(chunk);
      if (self.#state === 'encode') return self.#z!.write(chunk as Buffer, ...(rest as []));
      return self.#write.call(res, chunk, ...rest) as boolean;
    } as ServerResponse['write'];
    res.end = function (chunk?: unknown, ...rest: unknown[]) {
      const cb = [chunk, ...rest].find((x) => typeof x === 'function') as (() => void) | undefined;
      const data = typeof chunk === 'function' ? undefined : chunk;
      if (self.#state === 'pending') self.#decideFor(data);
      if (self.#state === 'encode') {
        if (cb) res.once('finish', cb);
        if (data !== undefined && data !== null) self.#z!.end(data as Buffer); else self.#z!.end();
        return res;
      }
      return self.#end.call(res, chunk, ...rest) as ServerResponse;
    } as ServerResponse['end'];
    const flushHeaders = res.flushHeaders;
    res.flushHeaders = function () {
      if (self.#state === 'pending') {
        self.#status = res.statusCode;
        self.#decide(self.#h.wants(res, res.statusCode) && !res.hasHeader('content-length'));
      }
      flushHeaders.call(res);
    };
    (res as unknown as { flush: () => void }).flush = () => {
      if (self.#state === 'encode') (self.#z as unknown as zlib.Zlib).flush();
    };
  }

  #decideFor(chunk: unknown): void {
    if (!this.#headHeld) this.#status = this.#res.statusCode;
    const len = chunk === undefined || chunk === null ? 0 : typeof chunk === 'string' ? Buffer.byteLength(chunk) : (chunk as Uint8Array).byteLength;
    const cl = this.#res.getHeader('content-length');
    const big = len >= this.#h.min || (cl !== undefined && Number(cl) >= this.#h.min);
    this.#decide(big && this.#h.wants(this.#res, this.#status));
  }

  #decide(encode: boolean): void {
    const res = this.#res;
    this.#state = encode ? 'encode' : 'pass';
    if (encode) {
      res.setHeader('Content-Encoding', this.#enc);
      res.removeHeader('Content-Length');
      res.removeHeader('Accept-Ranges');
      const vary = res.getHeader('vary');
      if (!vary) res.setHeader('Vary', 'Accept-Encoding');
      else if (!/accept-encoding/i.test(String(vary))) res.setHeader('Vary', `${String(vary)}, Accept-Encoding`);
      const etag = res.getHeader('etag');
      if (typeof etag === 'string' && etag.startsWith('"') && etag.endsWith('"')) res.setHeader('ETag', `${etag.slice(0, -1)}-${this.#enc}"`);
      const z = FACTORIES[this.#enc]!(this.#h.level(this.#enc));
      this.#z = z;
      z.on('data', (d: Buffer) => { if (!(this.#write.call(res, d) as boolean)) z.pause(); });
      res.on('drain', () => z.resume());
      z.on('end', () => this.#end.call(res));
      z.on('error', (err) => res.destroy(err));
      res.once('close', () => { if (!z.writableEnded) z.destroy(); });
    }
    this.#writeHead.call(res, this.#status);
  }

  /** A later handler failed: let the error stage write plainly. */
  abandon(): void {
    if (this.#state === 'pending') { this.#state = 'pass'; this.#headHeld = false; }
  }
}
