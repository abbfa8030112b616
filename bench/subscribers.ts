/**
 * Many SSE subscribers over raw HTTP/1.1 sockets (node:net), cheap enough to
 * hold 100,000 of them: one socket, one response reader and one SSE parser
 * per connection, and one shared 64 KiB read buffer for all of them (`onread`),
 * so reading allocates nothing. Connections are spread over several loopback
 * source addresses and opened with bounded concurrency.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Histogram } from './histogram.ts';
import { ResponseReader, type ResponseHandler } from './http-response.ts';
import { SseParser, type SseSink } from './sse-parser.ts';
import { checkSources, type LoopbackTarget } from './loopback.ts';
import { PortAllocator } from './ports.ts';

/** One subscription: path and query (`/.well-known/mercure?topic=…`) and an optional bearer token. */
export interface SubscriberSpec {
  path: string;
  token?: string;
}

/** How subscribers connect. */
export interface SubscriberPoolOptions {
  target: LoopbackTarget;
  /** Loopback source addresses, used round-robin. */
  sources: string[];
  /** Called for every event; `seq` is -1 when it carries no harness payload. */
  onEvent(sub: number, seq: number, sentMs: number, now: number): void;
  /** Called when the number of open streams changes. */
  onOpenChange?(open: number, now: number): void;
  /** Called on every subscribe failure (HTTP status or socket error code). */
  onError?(key: string, now: number): void;
}

/** Result of the connect phase. */
export interface ConnectResult {
  requested: number;
  established: number;
  failed: number;
  seconds: number;
  /** established / seconds. */
  ratePerSecond: number;
  /** Time from socket creation to the 200 head, µs. */
  latency: Histogram;
}

const readBuffer = Buffer.allocUnsafe(64 * 1024); // shared: each read is consumed before the next one

interface Phase {
  established: number;
  failed: number;
  last: number;
  latency: Histogram;
  settled(): void;
}

class SseConnection implements ResponseHandler {
  readonly index: number;
  readonly pool: SubscriberPool;
  readonly reader: ResponseReader;
  readonly parser: SseParser;
  readonly startedAt: number;
  socket: net.Socket | undefined;
  open = false;
  settled = false;

  constructor(index: number, pool: SubscriberPool, sink: SseSink) {
    this.index = index;
    this.pool = pool;
    this.reader = new ResponseReader(this);
    this.parser = new SseParser(index, sink);
    this.startedAt = performance.now();
  }

  onHead(status: number): void {
    if (status === 200) this.pool.established(this);
    else { this.pool.failed(this, String(status)); this.socket?.destroy(); }
  }

  onBody(buf: Buffer, start: number, end: number): void {
    this.parser.push(buf, start, end);
  }

  onEnd(): void {
    this.socket?.end();
  }
}

/** A set of SSE connections to one hub. */
export class SubscriberPool implements SseSink {
  readonly options: SubscriberPoolOptions;
  readonly connections: SseConnection[] = [];
  /** Failures by HTTP status or socket error code. */
  readonly errors: Record<string, number> = {};
  /** Streams open right now. */
  open = 0;
  /** Streams the hub (or the network) closed after they were established. */
  disconnects = 0;
  #closing = false;
  #phase: Phase | undefined;
  readonly #ports: PortAllocator;

  constructor(options: SubscriberPoolOptions) {
    checkSources(options.sources, options.target.family);
    this.options = options;
    this.#ports = new PortAllocator(options.sources.length);
  }

  /** SseSink: stamps the arrival time and hands the event on. */
  onEvent(sub: number, seq: number, sentMs: number): void {
    this.options.onEvent(sub, seq, sentMs, performance.now());
  }

  /**
   * Opens one stream per spec, at most `concurrency` handshakes at a time,
   * giving up on what is not established within `timeoutMs` (per connection
   * and for the whole phase).
   */
  connect(specs: readonly SubscriberSpec[], concurrency: number, timeoutMs: number): Promise<ConnectResult> {
    const t0 = performance.now();
    const base = this.connections.length;
    let next = 0;
    let inflight = 0;
    return new Promise((resolve) => {
      const phase: Phase = { established: 0, failed: 0, last: t0, latency: new Histogram(8), settled: () => { inflight--; launch(); } };
      const deadline = setTimeout(() => {
        next = specs.length;
        for (const c of this.connections) if (c && !c.settled) this.failed(c, 'connect_timeout');
      }, timeoutMs);
      const launch = () => {
        while (inflight < concurrency && next < specs.length) {
          inflight++;
          this.#start(base + next, specs[next]!, timeoutMs);
          next++;
        }
        if (inflight > 0 || next < specs.length || this.#phase !== phase) return;
        clearTimeout(deadline);
        this.#phase = undefined;
        const seconds = Math.max(1e-6, (phase.last - t0) / 1000);
        resolve({ requested: specs.length, established: phase.established, failed: phase.failed, seconds, ratePerSecond: phase.established / seconds, latency: phase.latency });
      };
      this.#phase = phase;
      launch();
    });
  }

  #start(index: number, spec: SubscriberSpec, timeoutMs: number): void {
    const conn = new SseConnection(index, this, this);
    this.connections[index] = conn;
    const auth = spec.token ? `Authorization: Bearer ${spec.token}\r\n` : '';
    const request = `GET ${spec.path} HTTP/1.1\r\nHost: ${this.options.target.hostHeader}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n${auth}\r\n`;
    this.#dial(conn, request, timeoutMs, 0);
  }

  /**
   * Binds an explicit local port (PortAllocator): letting the kernel pick one
   * for a bind() to a chosen address scans its port table and gets slow past
   * a few thousand sockets. A port still taken is skipped (up to 50 tries).
   */
  #dial(conn: SseConnection, request: string, timeoutMs: number, attempt: number): void {
    const { target, sources } = this.options;
    const si = conn.index % sources.length;
    let retried = false;
    const socket = net.connect({
      host: target.host,
      port: target.port,
      family: target.family,
      localAddress: sources[si],
      localPort: this.#ports.next(si),
      noDelay: true,
      onread: {
        buffer: readBuffer,
        callback: (n: number, buf: Uint8Array): boolean => {
          try { conn.reader.push(buf as Buffer, 0, n); } catch (e) { this.failed(conn, 'bad_response'); socket.destroy(e as Error); }
          return true;
        },
      },
    });
    conn.socket = socket;
    socket.setTimeout(timeoutMs, () => { if (!conn.settled) { this.failed(conn, 'connect_timeout'); socket.destroy(); } });
    socket.once('connect', () => socket.write(request));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (conn.settled) return;
      if ((e.code === 'EADDRINUSE' || e.code === 'EADDRNOTAVAIL') && attempt < 50) {
        retried = true;
        this.#dial(conn, request, timeoutMs, attempt + 1);
        return;
      }
      this.failed(conn, e.code ?? e.message);
    });
    socket.once('close', () => {
      if (retried) return;
      if (!conn.settled) this.failed(conn, 'closed_before_head');
      if (conn.open) {
        conn.open = false;
        this.open--;
        if (!this.#closing) this.disconnects++;
        this.options.onOpenChange?.(this.open, performance.now());
      }
      conn.socket = undefined;
    });
  }

  /** A stream got its 200 head. */
  established(c: SseConnection): void {
    if (c.settled) return;
    c.settled = true;
    c.open = true;
    c.socket?.setTimeout(0);
    this.open++;
    const now = performance.now();
    const p = this.#phase;
    if (p) { p.established++; p.last = now; p.latency.record((now - c.startedAt) * 1000); }
    this.options.onOpenChange?.(this.open, now);
    p?.settled();
  }

  /** A stream failed before it was established (or got a non-200 answer). */
  failed(c: SseConnection, key: string): void {
    if (c.settled) return;
    c.settled = true;
    this.errors[key] = (this.errors[key] ?? 0) + 1;
    this.options.onError?.(key, performance.now());
    c.socket?.destroy();
    const p = this.#phase;
    if (p) { p.failed++; p.settled(); }
  }

  /** Heartbeats and other comment lines seen on every stream. */
  comments(): number {
    let n = 0;
    for (const c of this.connections) n += c?.parser.comments ?? 0;
    return n;
  }

  /** Closes every stream; closes from here are not counted as disconnects. */
  async close(): Promise<void> {
    this.#closing = true;
    const waits: Promise<void>[] = [];
    for (const c of this.connections) {
      const s = c?.socket;
      if (!s || s.destroyed) continue;
      waits.push(new Promise((r) => s.once('close', () => r())));
      s.destroy();
    }
    await Promise.all(waits);
  }
}
