/**
 * One TCP (or TLS) connection to a broker: the CONNECT handshake (token auth
 * included), request ids and their answers, PING/PONG keep-alive, and routing
 * of producer/consumer commands to their owners. When the socket goes away
 * every pending request fails with 'Disconnected' and every owner hears
 * `closed()`; reconnecting is the owners' job (client.ts).
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { PulsarError } from './errors.ts';
import { encodeCommand, encodePayloadCommand, FrameReader, type Frame } from './frame.ts';
import { serverErrorName, T, toBig, type Command } from './proto.ts';

export const CLIENT_VERSION = 'quicksilver-pulsar 1.0';
/** Protocol version we announce; the broker answers with min(its, ours). */
export const PROTOCOL_VERSION = 15;

export interface ConnectionOptions_ {
  host: string;
  port: number;
  /** TLS options (pulsar+ssl://); undefined = plain TCP. */
  tls?: ConnectionOptions;
  /** JWT for the `token` authentication method. */
  token?: string | (() => string);
  /** Connect + handshake timeout, and per-request timeout (ms). */
  timeoutMs?: number;
  /** Idle time before we PING; no answer within the same time closes the connection (ms). */
  keepAliveMs?: number;
}

/** Producers and consumers register one of these for their id. */
export interface Handler {
  frame(frame: Frame): void;
  /** The connection closed (or the broker closed this producer/consumer: `byBroker`). */
  closed(byBroker: boolean): void;
}

interface Pending { resolve(c: Command): void; reject(e: Error): void; timer: NodeJS.Timeout }

export class Connection {
  readonly options: ConnectionOptions_;
  readonly key: string;
  maxMessageSize = 5 * 1024 * 1024;
  serverVersion = '';
  #socket: Socket | undefined;
  #reader = new FrameReader();
  #nextRequest = 1n;
  #pending = new Map<bigint, Pending>();
  readonly producers = new Map<bigint, Handler>();
  readonly consumers = new Map<bigint, Handler>();
  #closed = false;
  #onClose: (() => void)[] = [];
  #lastIn = Date.now();
  #keepAlive: NodeJS.Timeout | undefined;
  #pingSent = false;

  constructor(options: ConnectionOptions_) {
    this.options = options;
    this.key = `${options.tls ? 'tls' : 'tcp'}://${options.host}:${options.port}`;
  }

  get closed(): boolean { return this.#closed; }

  /** Opens the socket and completes CONNECT → CONNECTED. */
  async open(): Promise<void> {
    const { host, port, tls } = this.options;
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    const socket = tls ? tlsConnect({ host, port, servername: isIp(host) ? undefined : host, ...tls }) : tcpConnect({ host, port });
    this.#socket = socket;
    socket.setNoDelay(true);
    let handshake: Pending | undefined;
    const connected = new Promise<Command>((resolve, reject) => {
      handshake = { resolve, reject, timer: setTimeout(() => reject(new PulsarError('Timeout', `connect to ${this.key} timed out`)), timeoutMs) };
    });
    socket.on('data', (chunk: Buffer) => {
      this.#lastIn = Date.now();
      let frames: Frame[];
      try { frames = this.#reader.push(chunk); } catch (err) { this.#fail(err as Error); return; }
      for (const f of frames) {
        if (handshake && (f.command.type === T.CONNECTED || f.command.type === T.ERROR)) {
          const h = handshake;
          handshake = undefined;
          clearTimeout(h.timer);
          if (f.command.type === T.CONNECTED) h.resolve(f.command);
          else h.reject(brokerError(f.command.error));
          continue;
        }
        this.#dispatch(f);
      }
    });
    socket.on('error', (err) => { if (handshake) { clearTimeout(handshake.timer); handshake.reject(new PulsarError('Disconnected', `${this.key}: ${err.message}`, { cause: err })); handshake = undefined; } this.#fail(err); });
    socket.on('close', () => { if (handshake) { clearTimeout(handshake.timer); handshake.reject(new PulsarError('Disconnected', `${this.key} closed during connect`)); handshake = undefined; } this.#fail(); });
    const token = typeof this.options.token === 'function' ? this.options.token() : this.options.token;
    const connect: Record<string, unknown> = { client_version: CLIENT_VERSION, protocol_version: PROTOCOL_VERSION };
    if (token) { connect.auth_method_name = 'token'; connect.auth_data = Buffer.from(token); }
    // Written at once: the socket queues it until the TCP/TLS handshake is done.
    socket.write(encodeCommand({ type: T.CONNECT, connect }));
    try {
      const c = await connected;
      this.serverVersion = c.connected?.server_version ?? '';
      if (c.connected?.max_message_size) this.maxMessageSize = c.connected.max_message_size;
    } catch (err) {
      this.close();
      throw err;
    }
    const keepAliveMs = this.options.keepAliveMs ?? 30_000;
    this.#keepAlive = setInterval(() => this.#checkAlive(keepAliveMs), Math.max(50, keepAliveMs / 2));
    this.#keepAlive.unref();
  }

  /** Registers a callback for when the connection is gone (once). */
  onClose(fn: () => void): void {
    if (this.#closed) queueMicrotask(fn);
    else this.#onClose.push(fn);
  }

  newRequestId(): bigint { return this.#nextRequest++; }

  /** Sends a command with a request_id (already set in the body) and waits for its answer; ERROR rejects. */
  request(cmd: Command, requestId: bigint): Promise<Command> {
    if (this.#closed) return Promise.reject(new PulsarError('Disconnected', `${this.key} is closed`));
    return new Promise((resolve, reject) => {
      const timeoutMs = this.options.timeoutMs ?? 10_000;
      const timer = setTimeout(() => {
        this.#pending.delete(requestId);
        reject(new PulsarError('Timeout', `no answer from ${this.key} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(requestId, { resolve, reject, timer });
      this.#socket!.write(encodeCommand(cmd));
    });
  }

  send(cmd: Command): void {
    if (this.#closed) throw new PulsarError('Disconnected', `${this.key} is closed`);
    this.#socket!.write(encodeCommand(cmd));
  }

  sendPayload(cmd: Command, metadata: Record<string, unknown>, payload: Uint8Array): void {
    if (this.#closed) throw new PulsarError('Disconnected', `${this.key} is closed`);
    const frame = encodePayloadCommand(cmd, metadata, payload);
    if (frame.length - 4 > this.maxMessageSize + 10 * 1024) {
      throw new PulsarError('MessageTooLarge', `message of ${payload.length} bytes exceeds the broker's maximum message size (${this.maxMessageSize} bytes)`);
    }
    this.#socket!.write(frame);
  }

  close(): void {
    this.#fail();
  }

  #checkAlive(keepAliveMs: number): void {
    const idle = Date.now() - this.#lastIn;
    if (idle < keepAliveMs) { this.#pingSent = false; return; }
    if (this.#pingSent && idle >= 2 * keepAliveMs) {
      this.#fail(new PulsarError('Timeout', `${this.key}: no PONG within ${keepAliveMs} ms`));
      return;
    }
    if (!this.#pingSent) {
      this.#pingSent = true;
      try { this.send({ type: T.PING, ping: {} }); } catch { /* closing */ }
    }
  }

  #dispatch(f: Frame): void {
    const c = f.command;
    switch (c.type) {
      case T.PING: try { this.send({ type: T.PONG, pong: {} }); } catch { /* closing */ } return;
      case T.PONG: return;
      case T.AUTH_CHALLENGE: {
        const token = typeof this.options.token === 'function' ? this.options.token() : this.options.token ?? '';
        try { this.send({ type: T.AUTH_RESPONSE, authResponse: { client_version: CLIENT_VERSION, protocol_version: PROTOCOL_VERSION, response: { auth_method_name: 'token', auth_data: Buffer.from(token) } } }); } catch { /* closing */ }
        return;
      }
      case T.MESSAGE: return this.consumers.get(toBig(c.message?.consumer_id))?.frame(f);
      case T.SEND_RECEIPT: return this.producers.get(toBig(c.send_receipt?.producer_id))?.frame(f);
      case T.SEND_ERROR: return this.producers.get(toBig(c.send_error?.producer_id))?.frame(f);
      case T.CLOSE_PRODUCER: {
        const id = toBig(c.close_producer?.producer_id);
        const h = this.producers.get(id);
        this.producers.delete(id);
        return h?.closed(true);
      }
      case T.CLOSE_CONSUMER: {
        const id = toBig(c.close_consumer?.consumer_id);
        const h = this.consumers.get(id);
        this.consumers.delete(id);
        return h?.closed(true);
      }
      case T.REACHED_END_OF_TOPIC: case T.ACTIVE_CONSUMER_CHANGE: return;
    }
    const body = c[bodyField(c.type)] as Record<string, unknown> | undefined;
    if (!body || body.request_id === undefined) return;
    const id = toBig(body.request_id);
    const p = this.#pending.get(id);
    if (!p) return;
    // A PRODUCER_SUCCESS with producer_ready=false means "queued behind another producer": wait for the next one.
    if (c.type === T.PRODUCER_SUCCESS && c.producer_success?.producer_ready === false) return;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    if (c.type === T.ERROR) p.reject(brokerError(c.error));
    else p.resolve(c);
  }

  #fail(err?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepAlive);
    this.#socket?.destroy();
    const e = new PulsarError('Disconnected', `connection to ${this.key} lost${err ? ': ' + err.message : ''}`, { cause: err });
    for (const p of this.#pending.values()) { clearTimeout(p.timer); p.reject(e); }
    this.#pending.clear();
    const handlers = [...this.producers.values(), ...this.consumers.values()];
    this.producers.clear();
    this.consumers.clear();
    for (const h of handlers) h.closed(false);
    for (const fn of this.#onClose.splice(0)) fn();
  }
}

/** The body field of each answer type we route by request_id. */
function bodyField(type: number): string {
  switch (type) {
    case T.SUCCESS: return 'success';
    case T.ERROR: return 'error';
    case T.PRODUCER_SUCCESS: return 'producer_success';
    case T.LOOKUP_RESPONSE: return 'lookupTopicResponse';
    case T.GET_LAST_MESSAGE_ID_RESPONSE: return 'getLastMessageIdResponse';
    default: return '';
  }
}

export function brokerError(e: Record<string, unknown> | undefined): PulsarError {
  const n = typeof e?.error === 'number' ? e.error : 0;
  return new PulsarError(serverErrorName(n), String(e?.message ?? 'broker error'), { serverError: n });
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
