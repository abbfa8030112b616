/**
 * Reads an HTTP/1.1 response from raw socket bytes: the status line and
 * headers, then the body, de-chunked when `Transfer-Encoding: chunked`,
 * `Content-Length` bytes long when given, else up to the connection's end. On
 * a keep-alive connection, push() says where a response ended and reset()
 * readies the reader for the next one. Body
 * bytes are handed on as ranges of the input buffer (no copies); only the
 * head is turned into a string, once per connection.
 */

/** What the reader reports to its owner. */
export interface ResponseHandler {
  /** Called once, when the head is complete. */
  onHead(status: number, headers: string): void;
  /** Called with every range of body bytes. */
  onBody(buf: Buffer, start: number, end: number): void;
  /** Called when a body ends: a chunked one's zero-size chunk, or the Content-Length reached. */
  onEnd(): void;
}

const HEAD = 0;
const SIZE = 1;
const EXT = 2;
const DATA = 3;
const DATA_END = 4;
const TRAILER = 5;
const DONE = 6;
const MAX_HEAD = 64 * 1024;

/** Incremental HTTP/1.1 response reader for one connection. */
export class ResponseReader {
  readonly handler: ResponseHandler;
  /** Status code, 0 until the head is read. */
  status = 0;
  /** True when the body uses chunked framing. */
  chunked = false;
  #state = HEAD;
  #head = '';
  #size = 0;
  #remaining = 0;
  /** In the trailer: the current line is empty so far (an empty line ends the response). */
  #emptyLine = true;

  constructor(handler: ResponseHandler) {
    this.handler = handler;
  }

  /** True once the response ended (see onEnd). */
  get done(): boolean {
    return this.#state === DONE;
  }

  /** Readies the reader for the next response on the same connection. */
  reset(): void {
    this.#state = HEAD;
    this.status = 0;
    this.chunked = false;
    this.#size = 0;
  }

  /**
   * Feeds `buf[start..end)`. Returns the offset after the response's last
   * byte once it ended (bytes from there belong to the next one), else end.
   * Throws on a malformed head or chunk header.
   */
  push(buf: Buffer, start: number, end: number): number {
    let pos = start;
    if (this.#state === HEAD) {
      const before = this.#head.length;
      this.#head += buf.toString('latin1', pos, end);
      const at = this.#head.indexOf('\r\n\r\n');
      if (at === -1) {
        if (this.#head.length > MAX_HEAD) throw new Error('response head too large');
        return end;
      }
      pos += at + 4 - before;
      const head = this.#head.slice(0, at);
      this.#head = '';
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (!m) throw new Error(`bad status line: ${JSON.stringify(head.slice(0, 40))}`);
      this.status = Number(m[1]);
      this.chunked = /\r\ntransfer-encoding:[ \t]*chunked/i.test(head);
      const length = this.chunked ? null : /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
      this.#state = this.chunked ? SIZE : DATA;
      this.#remaining = length ? Number(length[1]) : Infinity;
      this.handler.onHead(this.status, head);
      if (this.#remaining === 0) { this.#state = DONE; this.handler.onEnd(); return pos; }
    }
    while (pos < end) {
      switch (this.#state) {
        case DATA: {
          const n = Math.min(this.#remaining, end - pos);
          this.handler.onBody(buf, pos, pos + n);
          pos += n;
          this.#remaining -= n;
          if (this.#remaining > 0) break;
          if (this.chunked) { this.#state = DATA_END; break; }
          this.#state = DONE;
          this.handler.onEnd();
          return pos;
        }
        case SIZE: {
          const c = buf[pos++]!;
          if (c === 10) {
            if (this.#size === 0) { this.#state = TRAILER; this.#emptyLine = true; break; }
            this.#remaining = this.#size;
            this.#size = 0;
            this.#state = DATA;
          } else if (c === 59) { // ';' chunk extension
            this.#state = EXT;
          } else if (c !== 13 && c !== 32 && c !== 9) {
            const d = hexValue(c);
            if (d < 0 || this.#size > 0xfffffff) throw new Error('bad chunk size');
            this.#size = this.#size * 16 + d;
          }
          break;
        }
        case EXT: {
          const nl = buf.indexOf(10, pos);
          if (nl === -1 || nl >= end) return end;
          pos = nl;
          this.#state = SIZE;
          break;
        }
        case TRAILER: {
          const c = buf[pos++]!;
          if (c === 10) {
            if (this.#emptyLine) { this.#state = DONE; this.handler.onEnd(); return pos; }
            this.#emptyLine = true;
          } else if (c !== 13) this.#emptyLine = false;
          break;
        }
        case DATA_END: {
          const c = buf[pos++]!;
          if (c === 10) this.#state = SIZE;
          else if (c !== 13) throw new Error('missing CRLF after chunk');
          break;
        }
        default:
          return pos;
      }
    }
    return end;
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}
