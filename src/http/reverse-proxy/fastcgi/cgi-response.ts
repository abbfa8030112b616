/**
 * Parses the head of a CGI response (STDOUT of a FastCGI responder): header
 * lines up to the first empty line (CRLF or LF), `Status: 404 Not Found`
 * setting the status (200 without one; the Status header itself is dropped).
 * Repeated headers (Set-Cookie) become arrays; names are lower-cased.
 */

/** Largest header block accepted before giving up (a misbehaving upstream). */
const MAX_HEAD = 1 << 20;

export interface CgiHead {
  status: number;
  headers: Record<string, string | string[]>;
  /** Body bytes that came in the same chunk as the end of the head. */
  rest: Buffer;
}

export class CgiResponseParser {
  #buf: Buffer = Buffer.alloc(0);

  /** Feeds STDOUT bytes; returns the head once complete, else undefined. */
  push(chunk: Buffer): CgiHead | undefined {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    const b = this.#buf;
    let end = -1;
    let skip = 0;
    for (let i = 0; i < b.length; i++) {
      if (b[i] !== 0x0a) continue;
      if (b[i + 1] === 0x0a) { end = i + 1; skip = 1; break; }
      if (b[i + 1] === 0x0d && b[i + 2] === 0x0a) { end = i + 1; skip = 2; break; }
    }
    if (end < 0) {
      if (b.length > MAX_HEAD) throw Object.assign(new Error('fcgi: response header block too large'), { code: 'ERR_FCGI_PROTOCOL' });
      return undefined;
    }
    const head = parseHead(b.toString('latin1', 0, end));
    this.#buf = Buffer.alloc(0);
    return { ...head, rest: b.subarray(end + skip) };
  }

  /** END_REQUEST came before a complete head: whatever was sent is the head. */
  end(): CgiHead {
    const head = parseHead(this.#buf.toString('latin1'));
    return { ...head, rest: Buffer.alloc(0) };
  }
}

function parseHead(text: string): { status: number; headers: Record<string, string | string[]> } {
  const headers: Record<string, string | string[]> = {};
  let status = 200;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    if (name === 'status') {
      const n = Number(value.slice(0, 3));
      if (Number.isInteger(n) && n >= 100 && n <= 999) status = n;
      continue;
    }
    const prev = headers[name];
    headers[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return { status, headers };
}
