/**
 * The FastCGI transport's connections, per upstream: idle ones kept alive
 * and reused (newest first), new ones dialed with a timeout, and with
 * `maxConns` a bound beyond which requests wait for a released connection.
 * php-fpm binds a worker to each connection, so without that bound a
 * finished connection is closed, not kept, while a request on a new
 * connection still waits for its first byte (it may sit in php-fpm's listen
 * backlog, waiting for exactly the worker an idle connection would hold).
 */
import net from 'node:net';

export function codedError(message: string, code: string, cause?: unknown): Error {
  return Object.assign(new Error(message, cause ? { cause } : undefined), { code });
}

export interface ConnectionOptions {
  dialMs: number;
  idleMs: number;
  keepAlive: boolean;
  /** 0 = unbounded. */
  maxConns: number;
}

/** Idle connections and waiters of one upstream. */
class ConnPool {
  idle: net.Socket[] = [];
  open = 0;
  /** Requests on new connections still waiting for their first byte (maybe queued behind busy php-fpm workers). */
  fresh = 0;
  waiters: ((s: net.Socket | undefined) => void)[] = [];
}

export class FcgiConnections {
  #o: ConnectionOptions;
  #pools = new Map<string, ConnPool>();
  #closed = false;

  constructor(o: ConnectionOptions) {
    this.#o = o;
  }

  #dial(dial: string): Promise<net.Socket> {
    return new Promise((res, rej) => {
      const opts = dial.startsWith('unix/') ? { path: dial.slice(5) } : (() => {
        const i = dial.lastIndexOf(':');
        return { host: dial.slice(0, i).replace(/^\[(.*)\]$/, '$1') || 'localhost', port: Number(dial.slice(i + 1)) };
      })();
      const s = net.connect(opts as net.NetConnectOpts);
      const t = setTimeout(() => { s.destroy(); rej(codedError(`dial ${dial}: timeout`, 'UND_ERR_CONNECT_TIMEOUT')); }, this.#o.dialMs);
      s.once('connect', () => { clearTimeout(t); s.setNoDelay(true); res(s); });
      s.once('error', (e) => { clearTimeout(t); rej(e); });
    });
  }

  /** A connection for dial: an idle one, a new one, or (at max_conns) the next one released. */
  async acquire(dial: string): Promise<{ sock: net.Socket; reused: boolean }> {
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
    if (this.#o.maxConns > 0 && p.open >= this.#o.maxConns) {
      const s = await new Promise<net.Socket | undefined>((r) => p.waiters.push(r));
      if (s) return { sock: s, reused: true };
      return this.acquire(dial);
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
  release(dial: string, s: net.Socket, reusable: boolean): void {
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
    const starving = this.#o.maxConns === 0 && p.fresh > 0;
    if (!reusable || !this.#o.keepAlive || this.#closed || s.destroyed || starving) {
      s.destroy();
      p.open--;
      this.#wake(p);
      return;
    }
    const w = p.waiters.shift();
    if (w) { w(s); return; }
    s.on('error', () => undefined);
    s.once('close', () => { const i = p.idle.indexOf(s); if (i >= 0) { p.idle.splice(i, 1); p.open--; this.#wake(p); } });
    s.setTimeout(this.#o.idleMs, () => s.destroy());
    p.idle.push(s);
  }

  /** Counts a request on a new connection as waiting; call the result when its first byte (or an error) came. */
  waitingFirstByte(dial: string): () => void {
    const p = this.#pools.get(dial);
    if (!p) return () => undefined;
    p.fresh++;
    let done = false;
    return () => { if (!done) { done = true; p.fresh--; } };
  }

  /** Closes idle connections and fails the waiters; later releases close their connection. */
  close(): void {
    this.#closed = true;
    for (const p of this.#pools.values()) {
      for (const s of p.idle) s.destroy();
      p.idle = [];
      for (const w of p.waiters.splice(0)) w(undefined);
    }
    this.#pools.clear();
  }
}
