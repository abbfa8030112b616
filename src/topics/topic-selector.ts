/**
 * Topic selector matching (Mercure §3.1): `*` matches everything, a selector
 * matches a byte-equal topic, a selector without `{` matches nothing else, and
 * a valid URI template matches the topics its yosida95-style regex accepts
 * (see uri-template.ts). An invalid template therefore matches only itself.
 *
 * The hub uses this for publish authorisation and the fan-out core for
 * delivery, both through a `TopicSelectorStore`, which caches compiled
 * templates and match results.
 */
import { compileTemplate, type CompiledTemplate } from './template-nfa.ts';

/** Default match-cache size, as the Go hub (templates get a tenth of it). */
export const DEFAULT_SELECTOR_CACHE_SIZE = 100_000;

/**
 * A bounded cache with two generations: lookups hit the young map, then the
 * old one (promoting the entry); when the young map is full it becomes the old
 * one and the previous old one is dropped. Recently used entries survive,
 * like an LRU, without reordering anything on a hit. At most `size` entries.
 */
class Generations<V> {
  readonly #half: number;
  #young = new Map<string, Map<string, V>>();
  #old = new Map<string, Map<string, V>>();
  #count = 0;

  constructor(size: number) { this.#half = Math.max(1, Math.floor(size / 2)); }

  get(a: string, b: string): V | undefined {
    const v = this.#young.get(a)?.get(b);
    if (v !== undefined) return v;
    const o = this.#old.get(a)?.get(b);
    if (o !== undefined) this.set(a, b, o);
    return o;
  }

  /** Looks without promoting (for tests and diagnostics). */
  peek(a: string, b: string): V | undefined {
    return this.#young.get(a)?.get(b) ?? this.#old.get(a)?.get(b);
  }

  set(a: string, b: string, v: V): void {
    if (this.#count >= this.#half) {
      this.#old = this.#young;
      this.#young = new Map();
      this.#count = 0;
    }
    let inner = this.#young.get(a);
    if (!inner) this.#young.set(a, (inner = new Map()));
    if (!inner.has(b)) this.#count++;
    inner.set(b, v);
  }
}

/** Shares compiled templates and match results. Size 0 disables both caches. */
export class TopicSelectorStore {
  // Keyed (selector, topic) with nested maps: no key concatenation, no collisions.
  readonly #matches: Generations<boolean> | undefined;
  readonly #templates: Generations<CompiledTemplate | null> | undefined;

  constructor(size = DEFAULT_SELECTOR_CACHE_SIZE) {
    if (size > 0) this.#matches = new Generations(size);
    if (size >= 10) this.#templates = new Generations(Math.floor(size / 10));
  }

  /** Whether topic matches selector, per Mercure §3.1. */
  match(topic: string, selector: string): boolean {
    if (selector === '*' || topic === selector) return true;
    if (!selector.includes('{')) return false;
    const cached = this.#matches?.get(selector, topic);
    if (cached !== undefined) return cached;
    const result = this.template(selector)?.test(topic) ?? false;
    this.#matches?.set(selector, topic, result);
    return result;
  }

  /** Whether this store has cached the match of (topic, selector), without touching it. */
  cached(topic: string, selector: string): boolean {
    return this.#matches?.peek(selector, topic) !== undefined;
  }

  /** The compiled template for a selector containing `{`, or undefined when it is not a valid template. */
  template(selector: string): CompiledTemplate | undefined {
    const hit = this.#templates?.get('', selector);
    if (hit !== undefined) return hit ?? undefined;
    const compiled = compileTemplate(selector);
    this.#templates?.set('', selector, compiled ?? null);
    return compiled;
  }

  /** Whether some topic matches some selector (the building block of the delivery rule, §3.3). */
  matchAny(topics: readonly string[], selectors: readonly string[]): boolean {
    for (const s of selectors) {
      for (const t of topics) if (this.match(t, s)) return true;
    }
    return false;
  }
}

const shared = new TopicSelectorStore();

/** The process-wide store used when none is injected. */
export function defaultSelectorStore(): TopicSelectorStore {
  return shared;
}

/** Whether topic matches selector (Mercure §3.1), through the process-wide cache. */
export function matchSelector(topic: string, selector: string): boolean {
  return shared.match(topic, selector);
}
