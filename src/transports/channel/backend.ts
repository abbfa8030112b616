/**
 * The channel backend: a Backend whose stream lives in the main process's
 * BackendHost. Publishes go in once; each update comes back once per process
 * (never once per subscriber), in the host's order, which is the same on
 * every process. History and presence are the host's.
 */
import { randomUUID } from 'node:crypto';
import type { Backend, BackendSink, HistoryResult, PresenceBackend, PublishOutcome, SubscriberInfo, Update } from '../core/contract.ts';
import type { HostLink } from './link.ts';

export class ChannelBackend implements Backend {
  readonly #link: HostLink;
  readonly #name: string;
  readonly #config: Record<string, unknown>;
  readonly #channel = randomUUID();
  history?: (afterId: string, visit: (update: Update, seq: bigint) => boolean | void) => Promise<HistoryResult>;
  lastEventId?: () => Promise<string | undefined>;
  dedupe?: Backend['dedupe'];
  readonly presence: PresenceBackend;

  constructor(link: HostLink, name: string, config: Record<string, unknown>) {
    this.#link = link;
    this.#name = name;
    this.#config = config;
    const ch = this.#channel;
    this.presence = {
      join: (info: SubscriberInfo) => link.join(ch, info),
      leave: (id: string) => link.leave(ch, id),
      list: () => link.presence(ch),
    };
  }

  async start(sink: BackendSink): Promise<void> {
    const caps = await this.#link.open(this.#channel, this.#name, this.#config, sink);
    if (caps.history) {
      this.history = async (afterId, visit) => {
        const { items, result } = await this.#link.history(this.#channel, afterId);
        for (const [update, seq] of items) if (visit(update, seq) === false) break;
        return result;
      };
    }
    if (caps.lastEventId) this.lastEventId = () => this.#link.lastEventId(this.#channel);
    if (caps.dedupe) this.dedupe = caps.dedupe;
  }

  publish(update: Update): Promise<PublishOutcome | void> { return this.#link.publish(this.#channel, update); }

  health(): Promise<void> { return this.#link.health(this.#channel); }

  close(): Promise<void> { return this.#link.close(this.#channel); }
}
