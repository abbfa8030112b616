/**
 * `http.handlers.file_server`: static files from `root` (default
 * `{http.vars.root}`, else the working directory). Index files (index.html,
 * index.txt), hidden files (404), canonical URIs (a directory gets a
 * trailing `/`, a file loses it, by 308), precompressed sidecars
 * (`.zst`, `.br`, `.gz`) when the client accepts them, ETag/Last-Modified
 * with If-None-Match/If-Modified-Since (304), and single byte ranges (206,
 * 416). Directory listings (browse) are not supported. A missing file is a
 * 404 error, or falls through to the next handler with `pass_thru`.
 */
import { createReadStream, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ConfigError, HttpError } from '../../host/errors.ts';
import type { HandlerConfig, HttpContext, HttpHandler, Next } from '../handler.ts';
import { requestPath } from '../context.ts';
import { contentType } from '../mime.ts';
import { globToRegExp, cleanPath } from '../matchers/path.ts';
import { negotiate } from './encode.ts';

/** JSON config of `file_server`. */
export interface FileServerConfig extends HandlerConfig {
  handler: 'file_server';
  root?: string;
  hide?: string[];
  index_names?: string[];
  browse?: unknown;
  precompressed?: Record<string, object>;
  precompressed_order?: string[];
  status_code?: number | string;
  canonical_uris?: boolean;
  pass_thru?: boolean;
}

const SUFFIX: Record<string, string> = { zstd: '.zst', br: '.br', gzip: '.gz' };

async function statOrNull(p: string): Promise<Stats | null> {
  try { return await stat(p); } catch { return null; }
}

/** Caddy's ETag: mtime (ns, base 36) + size (base 36), quoted. */
export function etagOf(st: Stats): string {
  return `"${(BigInt(Math.floor(st.mtimeMs)) * 1_000_000n).toString(36)}${st.size.toString(36)}"`;
}

export class FileServer implements HttpHandler {
  /** Lifecycle: nothing to open, check, release. */
  provision(): void {}
  validate(): void {}
  cleanup(): void {}
  readonly config: FileServerConfig;
  #index: string[];
  #hide: ((abs: string) => boolean)[];
  #precompressed: string[];

  constructor(config: FileServerConfig) {
    this.config = config;
    if (config.browse !== undefined && config.browse !== null && config.browse !== false) {
      throw new ConfigError('ERR_CFG_VALUE', undefined, 'file_server: browse (directory listings) is not supported');
    }
    this.#index = config.index_names ?? ['index.html', 'index.txt'];
    this.#precompressed = config.precompressed_order ?? Object.keys(config.precompressed ?? {});
    for (const p of this.#precompressed) if (!SUFFIX[p]) throw new ConfigError('ERR_CFG_VALUE', undefined, `file_server: unknown precompressed format '${p}'`);
    this.#hide = (config.hide ?? []).map((h) => {
      if (!h.includes('/')) { const re = globToRegExp(h); return (abs: string) => abs.split(sep).some((part) => re.test(part)); }
      const full = resolve(h);
      const re = globToRegExp(full);
      return (abs: string) => abs === full || abs.startsWith(full + sep) || re.test(abs);
    });
  }

  async serveHTTP(c: HttpContext, next: Next): Promise<void> {
    const method = c.req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      throw new HttpError(405, undefined, { headers: { Allow: 'GET, HEAD' } });
    }
    const rootText = c.replace(this.config.root ?? '{http.vars.root}', true) || '.';
    const root = resolve(rootText);
    const reqPath = cleanPath(requestPath(c));
    let file = join(root, reqPath).replace(/(.)\/+$/, '$1');
    if (file !== root && !file.startsWith(root.endsWith(sep) ? root : root + sep)) throw new HttpError(404);
    let st = await statOrNull(file);
    if (!st || this.#hidden(file)) return this.#notFound(next);
    const orig = c.originalUri.split('?')[0]!;
    const canonical = this.config.canonical_uris !== false;
    if (st.isDirectory()) {
      let found: Stats | null = null;
      for (const name of this.#index) {
        const candidate = join(file, c.replace(name, true));
        const s = await statOrNull(candidate);
        if (s?.isFile() && !this.#hidden(candidate)) { file = candidate; found = s; break; }
      }
      if (!found) return this.#notFound(next);
      if (canonical && !orig.endsWith('/')) return redirect(c, orig + '/');
      st = found;
    } else if (!st.isFile()) {
      return this.#notFound(next);
    } else if (canonical && reqPath.endsWith('/') && orig.endsWith('/') && orig.length > 1) {
      return redirect(c, orig.replace(/\/+$/, ''));
    }
    await this.#send(c, file, st);
  }

  #hidden(abs: string): boolean { return this.#hide.some((h) => h(abs)); }

  #notFound(next: Next): Promise<void> {
    if (this.config.pass_thru) return next();
    throw new HttpError(404);
  }

  async #send(c: HttpContext, file: string, st: Stats): Promise<void> {
    const { req, res } = c;
    let path = file;
    let size = st.size;
    res.setHeader('Content-Type', contentType(file));
    if (this.#precompressed.length) {
      res.setHeader('Vary', 'Accept-Encoding');
      const enc = negotiate(req.headers['accept-encoding'], this.#precompressed);
      if (enc) {
        const s = await statOrNull(file + SUFFIX[enc]);
        if (s?.isFile()) { path = file + SUFFIX[enc]; size = s.size; res.setHeader('Content-Encoding', enc); }
      }
    }
    const etag = etagOf(st);
    res.setHeader('ETag', etag);
    res.setHeader('Last-Modified', st.mtime.toUTCString());
    res.setHeader('Accept-Ranges', 'bytes');
    let status = 200;
    if (this.config.status_code !== undefined) status = Number(c.replace(String(this.config.status_code), true)) || 200;
    if (status === 200 && notModified(req.headers, etag, st.mtime)) {
      res.statusCode = 304;
      res.removeHeader('Content-Type');
      res.end();
      return;
    }
    let start = 0;
    let end = size - 1;
    const range = req.headers.range;
    if (status === 200 && range && !res.hasHeader('Content-Encoding') && ifRange(req.headers['if-range'] as string | undefined, etag, st.mtime)) {
      const r = parseRange(range, size);
      if (r === 'unsatisfiable') {
        res.statusCode = 416;
        res.setHeader('Content-Range', `bytes */${size}`);
        res.end();
        return;
      }
      if (r) { [start, end] = r; status = 206; res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`); }
    }
    res.statusCode = status;
    res.setHeader('Content-Length', size === 0 ? 0 : end - start + 1);
    if (req.method === 'HEAD' || size === 0) { res.end(); return; }
    await pipeline(createReadStream(path, { start, end }), res);
  }
}

function redirect(c: HttpContext, to: string): void {
  c.res.statusCode = 308;
  c.res.setHeader('Location', to + c.url.search);
  c.res.end();
}

function notModified(h: Record<string, string | string[] | undefined>, etag: string, mtime: Date): boolean {
  const inm = h['if-none-match'];
  if (typeof inm === 'string') {
    return inm.split(',').some((t) => { const v = t.trim().replace(/^W\//, ''); return v === '*' || v === etag; });
  }
  const ims = h['if-modified-since'];
  if (typeof ims === 'string') {
    const d = Date.parse(ims);
    return !Number.isNaN(d) && Math.floor(mtime.getTime() / 1000) <= Math.floor(d / 1000);
  }
  return false;
}

function ifRange(v: string | undefined, etag: string, mtime: Date): boolean {
  if (!v) return true;
  if (v.startsWith('"') || v.startsWith('W/')) return v === etag;
  const d = Date.parse(v);
  return !Number.isNaN(d) && Math.floor(mtime.getTime() / 1000) === Math.floor(d / 1000);
}

/** One `bytes=` range → [start, end]; undefined to ignore (multi-range, malformed); 'unsatisfiable' for 416. */
export function parseRange(h: string, size: number): [number, number] | 'unsatisfiable' | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(h.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (start >= size || start > end) return 'unsatisfiable';
  }
  return [start, end];
}


