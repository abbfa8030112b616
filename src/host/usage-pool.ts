/**
 * A ref-counted pool of resources that must outlive a config reload
 * (Caddy's UsagePool): transports, rate-limit zones, Redis connections.
 * The key is a stable serialisation of the resource's config, so an unchanged
 * config shares the instance and a changed one gets a new instance.
 */
export interface Destructor { destruct(): Promise<void> | void }

interface Entry { refs: number; value: Promise<Destructor> }

export class UsagePool {
  #entries = new Map<string, Entry>();

  /** Returns the value for key, creating it with make() if absent; adds one reference. */
  async loadOrNew<T extends Destructor>(key: string, make: () => Promise<T> | T): Promise<T> {
    let e = this.#entries.get(key);
    if (!e) {
      const value = Promise.resolve().then(make);
      e = { refs: 0, value };
      this.#entries.set(key, e);
      value.catch(() => { if (this.#entries.get(key) === e) this.#entries.delete(key); });
    }
    e.refs++;
    return (await e.value) as T;
  }

  /** Drops one reference; destructs the value when none is left. Returns true if destructed. */
  async release(key: string): Promise<boolean> {
    const e = this.#entries.get(key);
    if (!e) return false;
    if (--e.refs > 0) return false;
    this.#entries.delete(key);
    const v = await e.value.catch(() => undefined);
    if (v) await v.destruct();
    return true;
  }

  references(key: string): number { return this.#entries.get(key)?.refs ?? 0; }
}

/** Stable JSON: object keys sorted, so equal configs give equal keys. */
export function stableKey(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v);
}
