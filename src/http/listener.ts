/**
 * Listeners shared across config reloads. A listener is a raw net.Server kept
 * in the usage pool under its address; it hands every accepted socket to its
 * current target (the newest started server on that address), which feeds it
 * to its own http/https/http2 server with emit('connection'). So a reload that
 * keeps an address keeps the socket: the new server swaps itself in, and the
 * old one finishes its connections and releases its reference.
 * The socket is bound lazily, at start, so `validate` binds nothing.
 */
import net from 'node:net';
import { QsError } from '../host/errors.ts';
import type { UsagePool } from '../host/usage-pool.ts';

/** A parsed listen address: `:8080`, `127.0.0.1:8080`, `[::1]:443`, `tcp/:80`, `unix//run/x.sock`. */
export interface ListenAddress { network: 'tcp' | 'unix'; host: string; port: number; path?: string; key: string }

/** Parses a Caddy listen address; throws ERR_CFG_VALUE when malformed. */
export function parseListenAddress(addr: string): ListenAddress {
  let s = addr.trim();
  if (s.startsWith('unix/')) {
    const path = s.slice(5);
    if (!path) throw new QsError('ERR_CFG_VALUE', `listen address '${addr}': missing socket path`);
    return { network: 'unix', host: '', port: 0, path, key: `unix/${path}` };
  }
  if (s.startsWith('tcp/') || s.startsWith('tcp4/') || s.startsWith('tcp6/')) s = s.slice(s.indexOf('/') + 1);
  let host: string;
  let portText: string;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    host = s.slice(1, end);
    portText = s.slice(end + 2);
  } else {
    const i = s.lastIndexOf(':');
    host = i < 0 ? s : s.slice(0, i);
    portText = i < 0 ? '' : s.slice(i + 1);
  }
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) {
    throw new QsError('ERR_CFG_VALUE', `listen address '${addr}': invalid or missing port (ranges are not supported)`);
  }
  const port = Number(portText);
  return { network: 'tcp', host, port, key: `tcp/${host.includes(':') ? `[${host}]` : host}:${port}` };
}

let reusePort = false;

/**
 * With the `workers` option every process binds the same TCP addresses with
 * SO_REUSEPORT, and the kernel spreads new connections between them.
 */
export function setReusePort(on: boolean): void { reusePort = on; }

/** Where a listener hands its sockets. */
export type ConnectionTarget = (socket: net.Socket) => void;

/** One bound (or not yet bound) address, shared through the usage pool. */
export class Listener {
  readonly address: ListenAddress;
  readonly server: net.Server;
  /** The server currently receiving new connections; undefined = refuse. */
  target: ConnectionTarget | undefined;
  /** Opaque owner token of the current target. */
  owner: unknown;
  #listening: Promise<void> | undefined;

  constructor(address: ListenAddress) {
    this.address = address;
    this.server = net.createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 }, (socket) => {
      const t = this.target;
      if (t) t(socket); else socket.destroy();
    });
    this.server.on('error', () => { /* reported through listen() */ });
  }

  /** Binds the address once; later calls share the result. */
  listen(): Promise<void> {
    this.#listening ??= new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        this.#listening = undefined;
        reject(new QsError('ERR_LISTEN', `listen ${this.address.key}: ${err.message}`, { cause: err }));
      };
      this.server.once('error', onError);
      const ok = () => { this.server.off('error', onError); resolve(); };
      if (this.address.network === 'unix') this.server.listen(this.address.path, ok);
      else this.server.listen({ port: this.address.port, host: this.address.host || undefined, reusePort }, ok);
    });
    return this.#listening;
  }

  /** The bound port (useful with `:0`). */
  port(): number {
    const a = this.server.address();
    return a && typeof a === 'object' ? a.port : 0;
  }

  /** Called by the pool when the last reference is released. */
  destruct(): void {
    this.target = undefined;
    if (this.server.listening) this.server.close();
  }
}

/** Pool key for an address. */
export function listenerKey(a: ListenAddress): string { return `http.listener:${a.key}`; }

/** Takes a reference to the listener for an address (creating it unbound). */
export function acquireListener(pool: UsagePool, a: ListenAddress): Promise<Listener> {
  return pool.loadOrNew(listenerKey(a), () => new Listener(a));
}
