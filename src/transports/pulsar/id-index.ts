/**
 * The update ID → position index that serves history without scanning the
 * topic: a ring of the last `capacity` updates of the stream (position and
 * update ID, in stream order), plus a map from update ID to its positions.
 * Every node fills it from the stream it reads (the start-up catch-up from the
 * oldest retained message included), so an ID is found if it is among the
 * last `capacity` updates; an older ID is "unknown" (as an ID trimmed from a
 * Redis stream). Memory is about 150 bytes per entry plus the ID's length.
 * A repeated (custom) ID maps to its oldest position still in the ring.
 */
export class IdIndex {
  readonly capacity: number;
  #seqs: bigint[] = [];
  #ids: string[] = [];
  #start = 0;
  #byId = new Map<string, bigint[]>();
  /** True once an entry was dropped: the ring no longer reaches back to the stream's start. */
  truncated = false;

  constructor(capacity: number) {
    this.capacity = Math.max(1, capacity);
  }

  get size(): number { return this.#seqs.length - this.#start; }

  add(seq: bigint, id: string): void {
    this.#seqs.push(seq);
    this.#ids.push(id);
    const list = this.#byId.get(id);
    if (list) list.push(seq); else this.#byId.set(id, [seq]);
    if (this.size > this.capacity) this.#evict();
  }

  #evict(): void {
    const id = this.#ids[this.#start]!;
    const list = this.#byId.get(id)!;
    list.shift();
    if (!list.length) this.#byId.delete(id);
    this.#start++;
    this.truncated = true;
    if (this.#start >= 4096 && this.#start * 2 >= this.#seqs.length) {
      this.#seqs = this.#seqs.slice(this.#start);
      this.#ids = this.#ids.slice(this.#start);
      this.#start = 0;
    }
  }

  /** Oldest retained position of an update ID. */
  find(id: string): bigint | undefined {
    return this.#byId.get(id)?.[0];
  }

  /** The i-th entry from the oldest (0 ≤ i < size). */
  at(i: number): { seq: bigint; id: string } {
    return { seq: this.#seqs[this.#start + i]!, id: this.#ids[this.#start + i]! };
  }

  last(): { seq: bigint; id: string } | undefined {
    return this.size ? this.at(this.size - 1) : undefined;
  }
}
