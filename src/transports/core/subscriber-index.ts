/**
 * Where the fan-out core finds the subscribers an update may concern without
 * scanning them all: one bucket per exact selector (a map lookup per update
 * topic), one bucket for `*`, and one bucket per distinct template selector
 * (one cached match per template and topic, whatever the subscriber count).
 */
import type { Subscriber, Update } from './contract.ts';
import type { TopicSelectorStore } from '../../topics/topic-selector.ts';

/** A live update held for a subscriber whose history replay is still running. */
export interface Held { update: Update; seq: bigint; event: Buffer }

/** The core's record of one local subscriber. */
export interface Entry {
  readonly sub: Subscriber;
  /** Distinct query selectors. */
  readonly selectors: string[];
  /** `*` among the private selectors: every private update on subscribed topics. */
  readonly privateAll: boolean;
  /** Last fan-out pass that visited this entry, so an update reaches it once. */
  mark: number;
  /** Live updates held while the replay runs; null once live. */
  held: Held[] | null;
  /** Live updates with seq ≤ after were already replayed; null when there is nothing to skip. */
  after: bigint | null;
  active: boolean;
}

/** A fresh, live entry for a subscriber (selectors deduplicated). */
export function createEntry(sub: Subscriber): Entry {
  return {
    sub,
    selectors: [...new Set(sub.topics)],
    privateAll: sub.privateTopics?.includes('*') ?? false,
    mark: 0,
    held: null,
    after: null,
    active: true,
  };
}

/** The delivery rule (§3.3): a subscribed topic matches, and a private update is also authorised. */
export function entryMatches(e: Entry, update: Update, store: TopicSelectorStore): boolean {
  return store.matchAny(update.topics, e.selectors) && (!update.private || authorised(e, update, store));
}

/** Private part of §3.3: some topic (maybe an alternate one) matches a `mercure.subscribe` selector. */
export function authorised(e: Entry, update: Update, store: TopicSelectorStore): boolean {
  const priv = e.sub.privateTopics;
  if (priv === null) return false;
  return e.privateAll || store.matchAny(update.topics, priv);
}

type Bucket = Set<Entry>;

/** Topics whose matching template buckets are remembered (cleared when full). */
const MEMO_SIZE = 10_000;

/** The subscriber buckets, by kind of selector. */
export class SubscriberIndex {
  readonly #exact = new Map<string, Bucket>();
  readonly #all: Bucket = new Set();
  readonly #templates = new Map<string, Bucket>();
  /**
   * Topic → the template buckets it matches, so a topic seen before costs one
   * lookup however many distinct templates there are. Cleared whenever a new
   * template bucket appears; a removed bucket may linger here empty, harmless.
   */
  readonly #memo = new Map<string, Bucket[]>();

  add(e: Entry): void {
    for (const s of e.selectors) {
      if (s === '*') { this.#all.add(e); continue; }
      const template = s.includes('{');
      const map = template ? this.#templates : this.#exact;
      let b = map.get(s);
      if (!b) {
        map.set(s, (b = new Set()));
        if (template) this.#memo.clear();
      }
      b.add(e);
    }
  }

  remove(e: Entry): void {
    for (const s of e.selectors) {
      if (s === '*') { this.#all.delete(e); continue; }
      const map = s.includes('{') ? this.#templates : this.#exact;
      const b = map.get(s);
      if (b?.delete(e) && b.size === 0) map.delete(s);
    }
  }

  /**
   * The buckets whose selector matches one of the topics. An entry may sit in
   * several of them; the caller delivers once per entry.
   */
  buckets(topics: readonly string[], store: TopicSelectorStore): Bucket[] {
    const out: Bucket[] = [];
    for (const t of topics) {
      const b = this.#exact.get(t);
      if (b) out.push(b);
    }
    if (this.#all.size && topics.length) out.push(this.#all);
    if (this.#templates.size) {
      for (const t of topics) {
        let matched = this.#memo.get(t);
        if (!matched) {
          matched = [];
          for (const [selector, b] of this.#templates) if (store.match(t, selector)) matched.push(b);
          if (this.#memo.size >= MEMO_SIZE) this.#memo.clear();
          this.#memo.set(t, matched);
        }
        for (const b of matched) out.push(b);
      }
    }
    return out;
  }
}
