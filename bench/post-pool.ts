/**
 * The publisher's HTTP/1.1 client: a fixed set of keep-alive sockets, up to
 * `depth` pipelined requests in flight on each (the requests one tick sends
 * on a socket go out in one write), a FIFO queue for the rest. It only POSTs one
 * form to one path and reads each answer with the harness's response reader
 * (http-response.ts), keeping only the status, so a request costs the harness a few microseconds where a
 * general client (undici) costs tens: at a hub's full publish rate the
 * harness shares the machine's cores with it, and must stay light.
 */
import net from 'node:net';
import { ResponseReader } from './http-response.ts';
import type { LoopbackTarget } from './loopback.ts';

interface Pending {
  body: string;
  resolve(status: number): void;
  reject(err: Error): void;
}

/** Why a request failed, as the publisher counts it (like a socket error's code). */
export class PoolError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

class Connection {
  readonly #pool: PostPool;
  #socket: net.Socket | undefined;
  /** Requests written and not yet answered, oldest first. */
  readonly #inflight: Pending[] = [];
  #corked = false;
  /** Reads the answers, one after another; each ends by answering the oldest request in flight. */
  #reader = this.#newReader();

  constructor(pool: PostPool) {
    this.#pool = pool;
  }

  #newReader(): ResponseReader {
    return new ResponseReader({ onHead: () => {}, onBody: () => {}, onEnd: () => {} });
  }

  get load(): number { return this.#inflight.length; }

  send(p: Pending): void {
    this.#inflight.push(p);
    const s = this.#socket ?? this.#open();
    if (!this.#corked) {
      this.#corked = true;
      s.cork();
      process.nextTick(() => { this.#corked = false; s.uncork(); });
    }
    s.write(this.#pool.head(Buffer.byteLength(p.body)) + p.body);
  }

  #fail(err: Error): void {
    for (const p of this.#inflight.splice(0)) p.reject(err);
  }

  #open(): net.Socket {
    const { host, port } = this.#pool.target;
    const s = net.connect({ host, port, noDelay: true });
    s.setTimeout(this.#pool.timeoutMs, () => { if (this.#inflight.length > 0) s.destroy(new PoolError('ETIMEDOUT', 'no answer in time')); });
    s.on('data', (chunk: Buffer) => this.#read(s, chunk));
    const gone = (err?: Error) => {
      if (this.#socket !== s) return;
      this.#socket = undefined;
      this.#reader = this.#newReader();
      this.#fail(new PoolError((err as NodeJS.ErrnoException | undefined)?.code ?? 'ECONNRESET', err?.message ?? 'connection closed'));
      this.#pool.idle(this);
    };
    s.on('error', gone);
    s.on('close', () => gone());
    this.#socket = s;
    return s;
  }

  #read(s: net.Socket, chunk: Buffer): void {
    for (let pos = 0; pos < chunk.length;) {
      try {
        pos = this.#reader.push(chunk, pos, chunk.length);
      } catch (err) {
        s.destroy(new PoolError('EBADRESPONSE', (err as Error).message));
        return;
      }
      if (!this.#reader.done) return;
      const status = this.#reader.status;
      this.#reader.reset();
      this.#inflight.shift()?.resolve(status);
      this.#pool.idle(this);
    }
  }

  close(): void {
    const s = this.#socket;
    this.#socket = undefined;
    s?.destroy();
    this.#fail(new PoolError('ECLOSED', 'pool closed'));
  }
}

/** POSTs form bodies to one hub URL over `connections` keep-alive sockets. */
export class PostPool {
  readonly target: LoopbackTarget;
  /** A connection with a request in flight and no byte for this long is dropped (ETIMEDOUT). */
  readonly timeoutMs: number;
  /** Requests in flight per connection (HTTP/1.1 pipelining; 1 = none). */
  readonly depth: number;
  readonly #prefix: string;
  readonly #connections: Connection[];
  readonly #queue: Pending[] = [];
  #closed = false;

  constructor(target: LoopbackTarget, opts: { connections: number; depth: number; timeoutMs: number }, headers: Record<string, string>) {
    this.target = target;
    this.timeoutMs = opts.timeoutMs;
    this.depth = Math.max(1, opts.depth);
    const connections = Math.max(1, opts.connections);
    let prefix = `POST ${target.url.pathname}${target.url.search} HTTP/1.1\r\nhost: ${target.hostHeader}\r\n`;
    for (const [k, v] of Object.entries(headers)) prefix += `${k}: ${v}\r\n`;
    this.#prefix = `${prefix}content-length: `;
    this.#connections = Array.from({ length: connections }, () => new Connection(this));
  }

  /** The request head for a body of `length` bytes. */
  head(length: number): string {
    return `${this.#prefix}${length}\r\n\r\n`;
  }

  /** Resolves with the response's status code; rejects with a PoolError when the connection fails. */
  post(body: string): Promise<number> {
    if (this.#closed) return Promise.reject(new PoolError('ECLOSED', 'pool closed'));
    return new Promise((resolve, reject) => {
      const p = { body, resolve, reject };
      const c = this.#leastLoaded();
      if (c.load < this.depth) c.send(p); else this.#queue.push(p);
    });
  }

  #leastLoaded(): Connection {
    let best = this.#connections[0]!;
    for (const c of this.#connections) if (c.load < best.load) best = c;
    return best;
  }

  /** A connection finished a request: it takes the next queued one. */
  idle(c: Connection): void {
    if (this.#closed || c.load >= this.depth) return;
    const next = this.#queue.shift();
    if (next) c.send(next);
  }

  close(): void {
    this.#closed = true;
    for (const p of this.#queue.splice(0)) p.reject(new PoolError('ECLOSED', 'pool closed'));
    for (const c of this.#connections) c.close();
  }
}
