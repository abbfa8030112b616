/**
 * FastCGI 1.0 framing: an 8-byte header (version 1, type, request id,
 * content length, padding length) then content and padding. Writers pad to a
 * multiple of 8 and cut content at 65535 bytes; the reader is incremental
 * (feed it any slice of the byte stream, it yields whole records).
 */

export const FCGI_VERSION = 1;
export const BEGIN_REQUEST = 1;
export const ABORT_REQUEST = 2;
export const END_REQUEST = 3;
export const PARAMS = 4;
export const STDIN = 5;
export const STDOUT = 6;
export const STDERR = 7;

export const ROLE_RESPONDER = 1;
export const FLAG_KEEP_CONN = 1;

/** Largest content of one record we write (a multiple of 8, under the 65535 limit). */
export const MAX_CONTENT = 65528;

/** A parsed record. */
export interface FcgiRecord {
  type: number;
  requestId: number;
  content: Buffer;
}

/** Error codes the codec raises. */
export class FcgiProtocolError extends Error {
  readonly code = 'ERR_FCGI_PROTOCOL';
}

function header(type: number, requestId: number, length: number, padding: number): Buffer {
  const h = Buffer.alloc(8);
  h[0] = FCGI_VERSION;
  h[1] = type;
  h.writeUInt16BE(requestId, 2);
  h.writeUInt16BE(length, 4);
  h[6] = padding;
  return h;
}

/** Encodes content (any length) as one or more records of `type`; empty content gives one empty record (a stream end). */
export function encodeRecords(type: number, requestId: number, content: Buffer = Buffer.alloc(0)): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  do {
    const part = content.subarray(off, off + MAX_CONTENT);
    const pad = (8 - (part.length % 8)) % 8;
    out.push(header(type, requestId, part.length, pad), part);
    if (pad) out.push(Buffer.alloc(pad));
    off += part.length;
  } while (off < content.length);
  return out;
}

/** The BEGIN_REQUEST record for the responder role. */
export function encodeBeginRequest(requestId: number, keepConn: boolean): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt16BE(ROLE_RESPONDER, 0);
  body[2] = keepConn ? FLAG_KEEP_CONN : 0;
  return Buffer.concat([header(BEGIN_REQUEST, requestId, 8, 0), body]);
}

function encodeLength(n: number): Buffer {
  if (n < 128) return Buffer.from([n]);
  const b = Buffer.alloc(4);
  b.writeUInt32BE((n | 0x80000000) >>> 0, 0);
  return b;
}

/** Name-value pairs as PARAMS content (not yet framed). */
export function encodeParams(params: Iterable<[string, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of params) {
    const kb = Buffer.from(k, 'utf8');
    const vb = Buffer.from(v, 'utf8');
    parts.push(encodeLength(kb.length), encodeLength(vb.length), kb, vb);
  }
  return Buffer.concat(parts);
}

/** Decodes PARAMS content back into pairs (the test side, and GET_VALUES answers). */
export function decodeParams(buf: Buffer): [string, string][] {
  const out: [string, string][] = [];
  let i = 0;
  const len = (): number => {
    if (i >= buf.length) throw new FcgiProtocolError('fcgi: truncated name-value pair');
    if (buf[i]! < 128) return buf[i++]!;
    if (i + 4 > buf.length) throw new FcgiProtocolError('fcgi: truncated name-value length');
    const n = buf.readUInt32BE(i) & 0x7fffffff;
    i += 4;
    return n;
  };
  while (i < buf.length) {
    const kl = len();
    const vl = len();
    if (i + kl + vl > buf.length) throw new FcgiProtocolError('fcgi: truncated name-value pair');
    out.push([buf.toString('utf8', i, i + kl), buf.toString('utf8', i + kl, i + kl + vl)]);
    i += kl + vl;
  }
  return out;
}

/** END_REQUEST content: the application status and the protocol status. */
export function decodeEndRequest(content: Buffer): { appStatus: number; protocolStatus: number } {
  if (content.length < 5) throw new FcgiProtocolError('fcgi: short END_REQUEST body');
  return { appStatus: content.readUInt32BE(0), protocolStatus: content[4]! };
}

/** Incremental record reader: push bytes, get the records completed by them. */
export class RecordReader {
  #buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): FcgiRecord[] {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    const out: FcgiRecord[] = [];
    let off = 0;
    while (this.#buf.length - off >= 8) {
      const b = this.#buf;
      if (b[off] !== FCGI_VERSION) throw new FcgiProtocolError('fcgi: invalid header version');
      const length = b.readUInt16BE(off + 4);
      const total = 8 + length + b[off + 6]!;
      if (b.length - off < total) break;
      out.push({ type: b[off + 1]!, requestId: b.readUInt16BE(off + 2), content: b.subarray(off + 8, off + 8 + length) });
      off += total;
    }
    this.#buf = off === this.#buf.length ? Buffer.alloc(0) : this.#buf.subarray(off);
    return out;
  }

  /** Bytes held for an unfinished record. */
  get pending(): number { return this.#buf.length; }
}
