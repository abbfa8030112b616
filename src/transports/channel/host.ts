/**
 * The backend host: in the main process of a server with workers, it opens
 * each single-node transport's backend once and shares it with every process
 * through HostLinks. It starts the real backend with one sink that hands each
 * update, in stream order, to every process's channel: once per process.
 * Presence is kept here across processes; a process that dies loses its
 * channels and its subscribers at once.
 */
import { Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { ModuleContext } from '../../host/module.ts';
import { stableKey, UsagePool } from '../../host/usage-pool.ts';
import { QsError } from '../../host/errors.ts';
import type { Backend, BackendSink, SubscriberInfo, Update } from '../core/contract.ts';
import { transportDescriptor } from '../core/descriptor.ts';
import type { Capabilities, HostLink } from './link.ts';

interface Entry {
  key: string;
  backend: Backend;
  caps: Capabilities;
  channels: Set<Channel>;
  started: Promise<void>;
}

interface Channel {
  id: string;
  process: string;
  entry: Entry;
  sink: BackendSink;
  subscribers: Map<string, SubscriberInfo>;
}

export class BackendHost {
  readonly #entries = new Map<string, Entry>();
  readonly #channels = new Map<string, Channel>();
  readonly #ctx: ModuleContext;
  readonly #log: Logger;

  constructor(opts: { log: Logger; dataDir: string }) {
    this.#log = opts.log;
    const abort = new AbortController();
    this.#ctx = {
      log: opts.log,
      signal: abort.signal,
      pool: new UsagePool(),
      dataDir: opts.dataDir,
      app: { metrics: new Registry(), registry: new Map() },
      storage: () => undefined,
      load: () => Promise.reject(new QsError('ERR_MODULE_UNKNOWN', 'the backend host loads no sub-modules')),
    };
  }

  /** The link one process uses (the main process's own, or the one serving a worker's messages). */
  linkFor(process: string): HostLink {
    return {
      open: (id, name, config, sink) => this.#open(process, id, name, config, sink),
      publish: (id, update) => this.#channel(id).entry.backend.publish(update),
      history: async (id, afterId) => {
        const { backend } = this.#channel(id).entry;
        const items: [Update, bigint][] = [];
        if (!backend.history) return { items, result: { found: false, lastSeq: 0n } };
        const result = await backend.history(afterId, (u, seq) => { items.push([u, seq]); });
        return { items, result };
      },
      lastEventId: async (id) => this.#channel(id).entry.backend.lastEventId?.(),
      health: async (id) => { await this.#channel(id).entry.backend.health?.(); },
      join: (id, info) => { this.#channels.get(id)?.subscribers.set(info.id, info); },
      leave: (id, sub) => { this.#channels.get(id)?.subscribers.delete(sub); },
      presence: async (id) => {
        const list: SubscriberInfo[] = [];
        for (const c of this.#channel(id).entry.channels) list.push(...c.subscribers.values());
        return list;
      },
      close: (id) => this.#close(id),
    };
  }

  /** A process went away (a worker died): its channels and subscribers go with it. */
  async drop(process: string): Promise<void> {
    for (const c of [...this.#channels.values()]) if (c.process === process) await this.#close(c.id);
  }

  /** Closes every backend. */
  async close(): Promise<void> {
    for (const c of [...this.#channels.values()]) await this.#close(c.id);
  }

  #channel(id: string): Channel {
    const c = this.#channels.get(id);
    if (!c) throw new QsError('ERR_TRANSPORT_CLOSED', 'the Mercure transport is closed');
    return c;
  }

  async #open(process: string, id: string, name: string, config: Record<string, unknown>, sink: BackendSink): Promise<Capabilities> {
    const d = transportDescriptor(name);
    if (!d) throw new QsError('ERR_MODULE_UNKNOWN', `unknown transport ${name}`);
    const recipe = d.module.create(config).recipe(this.#ctx);
    const key = `${d.module.id} ${stableKey(recipe.key)}`;
    let entry = this.#entries.get(key);
    if (!entry) {
      const backend = recipe.backend();
      const e: Entry = {
        key, backend, channels: new Set(),
        caps: { history: typeof backend.history === 'function', lastEventId: typeof backend.lastEventId === 'function', dedupe: backend.dedupe },
        started: Promise.resolve(),
      };
      const fan: BackendSink = {
        deliver: (update, seq) => { for (const c of e.channels) c.sink.deliver(update, seq); },
        connection: (up, error) => { for (const c of e.channels) c.sink.connection(up, error); },
      };
      e.started = backend.start(fan);
      this.#entries.set(key, (entry = e));
      try {
        await e.started;
      } catch (err) {
        this.#entries.delete(key);
        await backend.close().catch(() => undefined);
        throw err;
      }
      if (recipe.started) this.#log.info(recipe.started, `${d.module.id} started for every worker`);
    } else {
      await entry.started;
    }
    const channel: Channel = { id, process, entry, sink, subscribers: new Map() };
    entry.channels.add(channel);
    this.#channels.set(id, channel);
    return entry.caps;
  }

  async #close(id: string): Promise<void> {
    const c = this.#channels.get(id);
    if (!c) return;
    this.#channels.delete(id);
    c.entry.channels.delete(c);
    if (c.entry.channels.size === 0 && this.#entries.get(c.entry.key) === c.entry) {
      this.#entries.delete(c.entry.key);
      await c.entry.backend.close();
    }
  }
}
