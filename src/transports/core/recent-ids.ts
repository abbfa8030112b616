/**
 * The IDs of the newest updates of the stream, bounded: what the fan-out core
 * checks for backends with `dedupe: 'core'` (see transport.ts `Dedupe`).
 * Insertion order is stream order; the oldest ID leaves when the window is full.
 */
export class RecentIds {
  readonly #max: number;
  /** ID → how many times it is in the window (a stream may repeat an ID written by others). */
  readonly #count = new Map<string, number>();
  readonly #ring: (string | undefined)[];
  #next = 0;

  constructor(max: number) {
    this.#max = Math.max(1, max);
    this.#ring = new Array<string | undefined>(this.#max);
  }

  has(id: string): boolean { return this.#count.has(id); }

  add(id: string): void {
    const old = this.#ring[this.#next];
    if (old !== undefined) {
      const n = this.#count.get(old)! - 1;
      if (n === 0) this.#count.delete(old); else this.#count.set(old, n);
    }
    this.#ring[this.#next] = id;
    this.#next = (this.#next + 1) % this.#max;
    this.#count.set(id, (this.#count.get(id) ?? 0) + 1);
  }
}
