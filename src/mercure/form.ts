/**
 * Go's `Request.ParseForm` as the publish handler sees it: only
 * `application/x-www-form-urlencoded` bodies are parsed (≤ 10 MiB), any
 * `Content-Type` that `mime.ParseMediaType` rejects is an error, and so is a
 * malformed pair in the body or in the URL query.
 */
import { decodeBytes } from '../transports/core/byte-string.ts';
import type { IncomingMessage } from 'node:http';
import { parseQuery } from './go-json.ts';

/** Go's maxFormSize: 10 MiB. */
export const MAX_FORM_BYTES = 10 << 20;

const TSPECIALS = new Set('()<>@,;:\\"/[]?=');

function isTokenChar(c: string): boolean {
  const n = c.charCodeAt(0);
  return n > 0x20 && n < 0x7f && !TSPECIALS.has(c);
}

function consumeToken(v: string): [string, string] {
  let i = 0;
  while (i < v.length && isTokenChar(v[i]!)) i++;
  return [v.slice(0, i), v.slice(i)];
}

/** Quoted-string or token, as Go's consumeValue. */
function consumeValue(v: string): [string, string] {
  if (!v.startsWith('"')) return consumeToken(v);
  let out = '';
  for (let i = 1; i < v.length; i++) {
    const c = v[i]!;
    if (c === '"') return [out, v.slice(i + 1)];
    if (c === '\\' && i + 1 < v.length && TSPECIALS.has(v[i + 1]!)) { out += v[++i]; continue; }
    if (c === '\r' || c === '\n') return ['', v];
    out += c;
  }
  return ['', v];
}


const trimLeft = (s: string) => s.replace(/^\s+/, '');

function consumeParam(v: string): [string, string, string] {
  let rest = trimLeft(v);
  if (!rest.startsWith(';')) return ['', '', v];
  rest = trimLeft(rest.slice(1));
  let param: string;
  [param, rest] = consumeToken(rest);
  param = param.toLowerCase();
  if (param === '') return ['', '', v];
  rest = trimLeft(rest);
  if (!rest.startsWith('=')) return ['', '', v];
  rest = trimLeft(rest.slice(1));
  const [value, rest2] = consumeValue(rest);
  if (value === '' && rest2 === rest) return ['', '', v];
  return [param, value, rest2];
}

/**
 * mime.ParseMediaType, reduced to what ParseForm needs: the lower-cased media
 * type and whether parsing failed.
 */
export function parseMediaType(v: string): { type: string; error: boolean } {
  const semi = v.indexOf(';');
  const base = semi < 0 ? v : v.slice(0, semi);
  const type = base.toLowerCase().trim();
  const [typ, rest] = consumeToken(type);
  if (typ === '') return { type: '', error: true };
  if (rest !== '') {
    if (!rest.startsWith('/')) return { type: '', error: true };
    const [sub, rest2] = consumeToken(rest.slice(1));
    if (sub === '' || rest2 !== '') return { type: '', error: true };
  }
  const params = new Map<string, string>();
  let p = v.slice(base.length);
  while (p.length > 0) {
    p = trimLeft(p);
    if (p.length === 0) break;
    const [key, value, after] = consumeParam(p);
    if (key === '') {
      if (after.trim() === ';') break; // trailing semicolons are tolerated
      return { type, error: true };
    }
    const prev = params.get(key);
    if (prev !== undefined && prev !== value) return { type: '', error: true };
    params.set(key, value);
    p = after;
  }
  return { type, error: false };
}

/** Reads at most limit+1 bytes of the body; resolves undefined when it is larger than limit. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => { cleanup(); resolve(Buffer.concat(chunks, size)); };
    const onError = (err: Error) => { cleanup(); reject(err); };
    const cleanup = () => {
      req.off('data', onData); req.off('end', onEnd); req.off('error', onError); req.off('close', onClose);
    };
    const onClose = () => { if (!req.complete) { cleanup(); reject(new Error('request aborted')); } };
    req.on('data', onData); req.on('end', onEnd); req.on('error', onError); req.on('close', onClose);
  });
}

/** The outcome of ParseForm: the body's fields (PostForm), or a parse error (→ 400) / an oversized body. */
export type FormResult = { ok: true; form: Map<string, string[]> } | { ok: false; tooLarge: boolean };

/** Parses a POST request the way Go's ParseForm fills PostForm. */
export async function parsePostForm(req: IncomingMessage, rawQuery: string): Promise<FormResult> {
  const ct = req.headers['content-type'] ?? '';
  const media = parseMediaType(ct === '' ? 'application/octet-stream' : ct);
  let form = new Map<string, string[]>();
  let error = media.error;
  if (media.type === 'application/x-www-form-urlencoded') {
    const body = await readBody(req, MAX_FORM_BYTES);
    if (body === undefined) return { ok: false, tooLarge: true };
    const parsed = parseQuery(decodeBytes(body)); // raw bytes that are not UTF-8 are kept, as in Go
    form = parsed.values;
    error ||= parsed.error;
  }
  if (rawQuery !== '' && parseQuery(rawQuery).error) error = true;
  return error ? { ok: false, tooLarge: false } : { ok: true, form };
}
