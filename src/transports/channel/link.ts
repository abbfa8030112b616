/**
 * How a process reaches the backends the main process owns when the server
 * runs several worker processes (the `workers` global option). A single-node
 * transport (local, bolt) keeps its stream in one process; with workers, the
 * main process opens it once (BackendHost) and every process, itself
 * included, reaches it through a HostLink: the channel transport's backend.
 */
import type { Backend, BackendSink, HistoryResult, PublishOutcome, SubscriberInfo, Update } from '../core/contract.ts';

/** What the real backend can do, so the channel backend offers the same. */
export interface Capabilities { history: boolean; lastEventId: boolean; dedupe: Backend['dedupe'] }

/** One process's view of the backend host. Every call names the opener's own channel id. */
export interface HostLink {
  /** Opens (or joins) the backend of a transport config; deliveries go to sink from then on. */
  open(channel: string, name: string, config: Record<string, unknown>, sink: BackendSink): Promise<Capabilities>;
  /** Resolves 'duplicate' when the backend refused an ID it retains (idempotent publish). */
  publish(channel: string, update: Update): Promise<PublishOutcome | void>;
  /** Retained updates after afterId, in stream order, up to the head at call time. */
  history(channel: string, afterId: string): Promise<{ items: [Update, bigint][]; result: HistoryResult }>;
  lastEventId(channel: string): Promise<string | undefined>;
  health(channel: string): Promise<void>;
  join(channel: string, info: SubscriberInfo): void;
  leave(channel: string, id: string): void;
  /** Subscribers of every process on this backend. */
  presence(channel: string): Promise<SubscriberInfo[]>;
  close(channel: string): Promise<void>;
}

let current: HostLink | undefined;

/** Set by the runtime when the server runs workers; undefined in a single process. */
export function setHostLink(link: HostLink | undefined): void { current = link; }

export function hostLink(): HostLink | undefined { return current; }
