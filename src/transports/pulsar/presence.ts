/**
 * Presence across nodes over a NON-PERSISTENT Pulsar topic next to the
 * update topic (`non-persistent://<tenant>/<namespace>/<topic>-presence`):
 * nothing is stored, every node reads it live. Each node publishes
 *   {"kind":"join","node":…,"info":SubscriberInfo}     when a subscriber joins
 *   {"kind":"leave","node":…,"id":…}                   when it leaves
 *   {"kind":"snapshot","node":…,"subscribers":[…]}      every ttl/3 (heartbeat)
 *   {"kind":"hello","node":…}                           at start: others answer with a snapshot
 *   {"kind":"bye","node":…}                             at a clean close
 * Every node keeps what it heard per node, stamped with its own clock when
 * heard. A node not heard from for `ttlMs` (default 15 s) is dropped, so a
 * killed node's subscribers vanish within 15 s; a starting node sees the
 * others after their answer to its hello (one round trip). Snapshots are one
 * message: below the broker's maximum message size (5 MB by default) that is
 * about 20 000 subscribers per node.
 */
import type { Logger } from 'pino';
import type { PresenceBackend, SubscriberInfo } from '../core/contract.ts';
import type { Consumer, Producer, PulsarClient } from './client/index.ts';

export const DEFAULT_PRESENCE_TTL_MS = 15_000;

interface Remote { subs: Map<string, SubscriberInfo>; heard: number }

type Note =
  | { kind: 'join'; node: string; info: SubscriberInfo }
  | { kind: 'leave'; node: string; id: string }
  | { kind: 'snapshot'; node: string; subscribers: SubscriberInfo[] }
  | { kind: 'hello' | 'bye'; node: string };

export class PulsarPresence implements PresenceBackend {
  readonly nodeId: string;
  readonly ttlMs: number;
  readonly topic: string;
  #client: PulsarClient;
  #subscription: string;
  #log: Logger | undefined;
  #local = new Map<string, SubscriberInfo>();
  #remote = new Map<string, Remote>();
  #producer: Producer | undefined;
  #consumer: Consumer | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(client: PulsarClient, topic: string, subscription: string, nodeId: string, ttlMs = DEFAULT_PRESENCE_TTL_MS, log?: Logger) {
    this.#client = client;
    this.topic = topic;
    this.#subscription = subscription;
    this.nodeId = nodeId;
    this.ttlMs = ttlMs;
    this.#log = log;
  }

  async start(): Promise<void> {
    this.#consumer = await this.#client.subscribe({
      topic: this.topic, subscription: this.#subscription, durable: false, start: 'latest',
      onMessage: (m) => this.#heard(m.payload),
      onState: (up) => { if (up) this.#say({ kind: 'hello', node: this.nodeId }); },
    });
    this.#producer = await this.#client.createProducer({ topic: this.topic, onState: (up) => { if (up) this.#snapshot(); } });
    this.#say({ kind: 'hello', node: this.nodeId });
    this.#snapshot();
    this.#timer = setInterval(() => this.#snapshot(), Math.max(10, Math.floor(this.ttlMs / 3)));
    this.#timer.unref();
  }

  join(info: SubscriberInfo): void {
    this.#local.set(info.id, info);
    this.#say({ kind: 'join', node: this.nodeId, info });
  }

  leave(id: string): void {
    if (!this.#local.delete(id)) return;
    this.#say({ kind: 'leave', node: this.nodeId, id });
  }

  async list(): Promise<SubscriberInfo[]> {
    const out = [...this.#local.values()];
    const now = Date.now();
    for (const [node, r] of this.#remote) {
      if (now - r.heard > this.ttlMs) { this.#remote.delete(node); continue; }
      out.push(...r.subs.values());
    }
    return out;
  }

  #heard(payload: Buffer): void {
    let n: Note;
    try { n = JSON.parse(payload.toString('utf8')) as Note; } catch { return; }
    if (!n || typeof n.node !== 'string' || n.node === this.nodeId) return;
    if (n.kind === 'bye') { this.#remote.delete(n.node); return; }
    let r = this.#remote.get(n.node);
    if (!r) this.#remote.set(n.node, r = { subs: new Map(), heard: 0 });
    r.heard = Date.now();
    switch (n.kind) {
      case 'hello': this.#snapshot(); break;
      case 'join': r.subs.set(n.info.id, n.info); break;
      case 'leave': r.subs.delete(n.id); break;
      case 'snapshot': r.subs = new Map(n.subscribers.map((s) => [s.id, s])); break;
    }
  }

  #snapshot(): void {
    this.#say({ kind: 'snapshot', node: this.nodeId, subscribers: [...this.#local.values()] });
  }

  /** Fire and forget: a lost note is repaired by the next snapshot. */
  #say(n: Note): void {
    const p = this.#producer;
    if (!p?.ready) return;
    p.send({ payload: Buffer.from(JSON.stringify(n)) }).catch((err: unknown) => this.#log?.debug({ err }, 'pulsar presence: a note was not sent; the next snapshot repairs it'));
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    const p = this.#producer;
    if (p?.ready) await p.send({ payload: Buffer.from(JSON.stringify({ kind: 'bye', node: this.nodeId })) }).catch(() => undefined);
    this.#local.clear();
    await Promise.allSettled([this.#producer?.close(), this.#consumer?.close()]);
  }
}
