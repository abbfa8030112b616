/**
 * The HostLink over a Node IPC channel (child_process.fork, whose channel
 * the supervisor's messages share). Worker side: IpcHostLink sends requests
 * and routes deliveries to its channels' sinks. Main side: serveIpc answers one worker from the host.
 * Messages carry `qs: 'channel'` so they share the channel with others.
 *
 * Both sides batch: what one turn of the event loop sends (publishes and
 * their answers, deliveries) goes out as one IPC message, so under load a
 * publish costs a share of one serialisation and one pipe write instead of
 * several. Order is kept: a batch holds messages in the order they were sent.
 * A batch travels as one JSON string (about half the CPU of V8's serialiser
 * for an update, here): a delivery's seq as decimal text, and any other
 * bigint (a history answer, a retry above 2^53) as a tagged object.
 */
import { QsError, type ErrorCode } from '../../host/errors.ts';
import type { BackendSink } from '../core/contract.ts';
import type { BackendHost } from './host.ts';
import type { HostLink } from './link.ts';

/** The part of `process` (worker side) or a ChildProcess (main side) this needs. */
export interface IpcPort {
  send(message: unknown): unknown;
  on(event: 'message', listener: (message: any) => void): unknown;
  off(event: 'message', listener: (message: any) => void): unknown;
}

const TAG = 'channel';
type Op = 'open' | 'publish' | 'history' | 'lastEventId' | 'health' | 'presence' | 'close';

interface WireError { code?: string; message: string }

function toWire(err: unknown): WireError {
  return { code: (err as { code?: string }).code, message: (err as Error).message ?? String(err) };
}

const BIG = '__qs_bigint';
const bigReplacer = (_key: string, v: unknown) => (typeof v === 'bigint' ? { [BIG]: v.toString() } : v);
const bigReviver = (_key: string, v: any) => (v !== null && typeof v === 'object' && typeof v[BIG] === 'string' ? BigInt(v[BIG]) : v);

/** Queues messages for one port and sends each turn's as one `{ qs, json }` message. */
class Outbox {
  readonly #port: IpcPort;
  #batch: object[] = [];

  constructor(port: IpcPort) {
    this.#port = port;
  }

  post(m: object): void {
    if (this.#batch.length === 0) setImmediate(this.#flush);
    this.#batch.push(m);
  }

  readonly #flush = (): void => {
    const batch = this.#batch;
    this.#batch = [];
    let json: string;
    try { json = JSON.stringify(batch); } catch { json = JSON.stringify(batch, bigReplacer); } // a bigint: the tagged form
    try { this.#port.send({ qs: TAG, json }); } catch { /* the other side is gone */ }
  };
}

/** Calls `each` for every channel message in a received IPC message. */
function unbatch(m: any, each: (m: any) => void): void {
  if (m?.qs !== TAG || typeof m.json !== 'string') return;
  const text: string = m.json;
  const batch = JSON.parse(text, text.includes(`"${BIG}"`) ? bigReviver : undefined) as any[];
  for (const item of batch) each(item);
}

function fromWire(e: WireError): Error {
  return e.code?.startsWith('ERR_') ? new QsError(e.code as ErrorCode, e.message) : new Error(e.message);
}

/** Worker side. */
export class IpcHostLink implements HostLink {
  readonly #out: Outbox;
  readonly #pending = new Map<number, { resolve(v: any): void; reject(e: Error): void }>();
  readonly #sinks = new Map<string, BackendSink>();
  #rid = 0;

  constructor(port: IpcPort) {
    this.#out = new Outbox(port);
    port.on('message', (batch) => unbatch(batch, (m) => {
      if (m.op === 'deliver') this.#sinks.get(m.channel)?.deliver(m.update, BigInt(m.seq));
      else if (m.op === 'connection') this.#sinks.get(m.channel)?.connection(m.up, m.error ? fromWire(m.error) : undefined);
      else if (m.op === 'reply') {
        const p = this.#pending.get(m.rid);
        this.#pending.delete(m.rid);
        if (m.error) p?.reject(fromWire(m.error)); else p?.resolve(m.value);
      }
    }));
  }

  #call<T>(op: Op, channel: string, args: unknown[] = []): Promise<T> {
    const rid = ++this.#rid;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(rid, { resolve, reject });
      this.#out.post({ op, rid, channel, args });
    });
  }

  open(channel: string, name: string, config: Record<string, unknown>, sink: BackendSink) {
    this.#sinks.set(channel, sink);
    return this.#call<Awaited<ReturnType<HostLink['open']>>>('open', channel, [name, config]).catch((err) => {
      this.#sinks.delete(channel);
      throw err;
    });
  }
  publish(channel: string, update: unknown) { return this.#call<Awaited<ReturnType<HostLink['publish']>>>('publish', channel, [update]); }
  history(channel: string, afterId: string) { return this.#call<Awaited<ReturnType<HostLink['history']>>>('history', channel, [afterId]); }
  lastEventId(channel: string) { return this.#call<string | undefined>('lastEventId', channel); }
  health(channel: string) { return this.#call<void>('health', channel); }
  presence(channel: string) { return this.#call<Awaited<ReturnType<HostLink['presence']>>>('presence', channel); }
  join(channel: string, info: unknown) { this.#out.post({ op: 'join', channel, args: [info] }); }
  leave(channel: string, id: string) { this.#out.post({ op: 'leave', channel, args: [id] }); }
  async close(channel: string) {
    try { await this.#call<void>('close', channel); } finally { this.#sinks.delete(channel); }
  }
}

/** Main side: answers one worker's requests from the host. Returns a detach function. */
export function serveIpc(host: BackendHost, process: string, port: IpcPort): () => void {
  const link = host.linkFor(process);
  const out = new Outbox(port);
  const send = (m: object): void => out.post(m);
  const serve = (m: any) => {
    const { op, rid, channel, args } = m as { op: string; rid: number; channel: string; args: any[] };
    if (op === 'join') return link.join(channel, args[0]);
    if (op === 'leave') return link.leave(channel, args[0]);
    let result: Promise<unknown>;
    switch (op) {
      case 'open': result = link.open(channel, args[0], args[1], {
        deliver: (update, seq) => send({ op: 'deliver', channel, update, seq: seq.toString() }),
        connection: (up, error) => send({ op: 'connection', channel, up, error: error === undefined ? undefined : toWire(error) }),
      }); break;
      case 'publish': result = link.publish(channel, args[0]); break;
      case 'history': result = link.history(channel, args[0]); break;
      case 'lastEventId': result = link.lastEventId(channel); break;
      case 'health': result = link.health(channel); break;
      case 'presence': result = link.presence(channel); break;
      case 'close': result = link.close(channel); break;
      default: result = Promise.reject(new Error(`unknown channel operation ${op}`));
    }
    result.then((value) => send({ op: 'reply', rid, value }), (err) => send({ op: 'reply', rid, error: toWire(err) }));
  };
  const listener = (m: any) => unbatch(m, serve);
  port.on('message', listener);
  return () => { port.off('message', listener); };
}
