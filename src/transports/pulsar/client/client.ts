/**
 * The entry point of the client: service URL, auth and TLS settings, one
 * connection per broker (shared by its producers and consumers), and topic
 * LOOKUP with redirects. Producers and consumers reconnect by themselves
 * (back-off below) after the connection or the broker goes away.
 */
import type { ConnectionOptions } from 'node:tls';
import { brokerError, Connection } from './connection.ts';
import { PulsarError } from './errors.ts';
import { fromBig, T, type Command } from './proto.ts';
import { Producer, type ProducerOptions } from './producer.ts';
import { Consumer, type ConsumerOptions } from './consumer.ts';

export interface PulsarClientOptions {
  /** pulsar://host:port or pulsar+ssl://host:port (several hosts: host1:port,host2:port). */
  serviceUrl: string;
  /** JWT for token authentication (or a function returning the current one). */
  token?: string | (() => string);
  /** Extra TLS options (ca, cert, key, rejectUnauthorized, servername) for pulsar+ssl://. */
  tls?: ConnectionOptions;
  /** Per-request and connect timeout (ms, default 10 000). */
  operationTimeoutMs?: number;
  /** Idle time before a PING (ms, default 30 000). */
  keepAliveMs?: number;
  /** Reconnect back-off bounds (ms; default 100 → 5 000, doubling, with jitter). */
  backoffMinMs?: number;
  backoffMaxMs?: number;
}

interface Address { host: string; port: number; tls: boolean }

/** Parses pulsar://h:p[,h:p] / pulsar+ssl://…; default ports 6650 / 6651. */
export function parseServiceUrl(url: string): Address[] {
  const m = /^(pulsar|pulsar\+ssl):\/\/([^/?#]+)\/?$/.exec(url.trim());
  if (!m) throw new PulsarError('InvalidUrl', `not a Pulsar service URL: ${url} (expected pulsar://host:6650 or pulsar+ssl://host:6651)`);
  const tls = m[1] === 'pulsar+ssl';
  return m[2]!.split(',').map((hp) => {
    const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(hp);
    const [host, port] = v6 ? [v6[1]!, v6[2]] : hp.split(':') as [string, string | undefined];
    const p = port === undefined ? (tls ? 6651 : 6650) : Number(port);
    if (!host || !Number.isInteger(p) || p < 1 || p > 65535) throw new PulsarError('InvalidUrl', `bad host:port "${hp}" in ${url}`);
    return { host, port: p, tls };
  });
}

const MAX_REDIRECTS = 10;

export class PulsarClient {
  readonly options: PulsarClientOptions;
  readonly #service: Address[];
  #next = 0;
  #conns = new Map<string, Promise<Connection>>();
  #ids = 1n;
  #closed = false;
  #owners = new Set<{ close(): Promise<void> }>();

  constructor(options: PulsarClientOptions) {
    this.options = options;
    this.#service = parseServiceUrl(options.serviceUrl);
  }

  get closed(): boolean { return this.#closed; }

  newId(): bigint { return this.#ids++; }

  backoff(attempt: number): number {
    const min = this.options.backoffMinMs ?? 100, max = this.options.backoffMaxMs ?? 5_000;
    const base = Math.min(max, min * 2 ** Math.min(attempt, 20));
    return Math.round(base / 2 + Math.random() * base / 2);
  }

  /** A connected connection to host:port (shared; replaced once it closed). */
  connection(addr: Address): Promise<Connection> {
    if (this.#closed) return Promise.reject(new PulsarError('Closed', 'pulsar client is closed'));
    const key = `${addr.tls ? 'tls' : 'tcp'}://${addr.host}:${addr.port}`;
    const known = this.#conns.get(key);
    if (known) return known;
    const c = new Connection({
      host: addr.host, port: addr.port, tls: addr.tls ? (this.options.tls ?? {}) : undefined,
      token: this.options.token, timeoutMs: this.options.operationTimeoutMs, keepAliveMs: this.options.keepAliveMs,
    });
    const p = c.open().then(() => c);
    this.#conns.set(key, p);
    c.onClose(() => { if (this.#conns.get(key) === p) this.#conns.delete(key); });
    p.catch(() => { if (this.#conns.get(key) === p) this.#conns.delete(key); });
    return p;
  }

  /** A connection to the service URL (round-robin over its hosts). */
  serviceConnection(): Promise<Connection> {
    const addr = this.#service[this.#next++ % this.#service.length]!;
    return this.connection(addr);
  }

  /**
   * LOOKUP: which broker serves the topic. Follows Redirect answers (asking
   * the broker it names, with `authoritative` as told) up to 10 times, then
   * returns a connection to the owner (or the service URL when the answer
   * says to proxy through it).
   */
  async lookup(topic: string): Promise<Connection> {
    let conn = await this.serviceConnection();
    let authoritative = false;
    for (let i = 0; i <= MAX_REDIRECTS; i++) {
      const requestId = conn.newRequestId();
      const res = (await conn.request({ type: T.LOOKUP, lookupTopic: { topic, request_id: fromBig(requestId), authoritative } }, requestId)).lookupTopicResponse as Command;
      const kind = res.response ?? 0;
      if (kind === 2 /* Failed */) {
        throw brokerError({ error: res.error, message: `lookup of ${topic} failed: ${res.message ?? ''}` });
      }
      const url: string | undefined = this.#service[0]!.tls ? (res.brokerServiceUrlTls ?? res.brokerServiceUrl) : res.brokerServiceUrl;
      const target = res.proxy_through_service_url || !url ? undefined : parseServiceUrl(url)[0];
      const next = target ? await this.connection({ ...target, tls: this.#service[0]!.tls }) : conn;
      if (kind === 1 /* Connect */) return next;
      conn = next;
      authoritative = res.authoritative === true;
    }
    throw new PulsarError('LookupFailed', `lookup of ${topic}: more than ${MAX_REDIRECTS} redirects`);
  }

  /** Creates a producer; resolves once the broker accepted it. It reconnects by itself afterwards. */
  async createProducer(options: ProducerOptions): Promise<Producer> {
    const p = new Producer(this, options);
    this.#owners.add(p);
    try { await p.open(); } catch (err) { this.#owners.delete(p); await p.close(); throw err; }
    return p;
  }

  /** Subscribes; resolves once the broker accepted it. It resubscribes by itself afterwards. */
  async subscribe(options: ConsumerOptions): Promise<Consumer> {
    const c = new Consumer(this, options);
    this.#owners.add(c);
    try { await c.open(); } catch (err) { this.#owners.delete(c); await c.close(); throw err; }
    return c;
  }

  /** Forgets a closed producer or consumer. */
  release(owner: { close(): Promise<void> }): void { this.#owners.delete(owner); }

  /** Closes every producer and consumer, then the connections. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#owners].map((o) => o.close()));
    for (const p of this.#conns.values()) p.then((c) => c.close(), () => undefined);
    this.#conns.clear();
  }
}
