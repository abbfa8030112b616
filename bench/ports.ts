/**
 * Local ports for client sockets, handed out round-robin per source address
 * over [low, high] from a random start (so back-to-back runs do not reuse the
 * ports their predecessor left in TIME_WAIT). With 127.0.0.x sources, each
 * address has its own ~55,000 ports.
 */

/** Next local port to try, per source address index. */
export class PortAllocator {
  readonly low: number;
  readonly high: number;
  readonly #next: number[];

  /** `sources` addresses; ports within [low, high] (defaults 10000..65535, above most services). */
  constructor(sources: number, low = 10_000, high = 65_535, random: () => number = Math.random) {
    if (!(low >= 1 && high <= 65_535 && low <= high)) throw new RangeError('bad port range');
    this.low = low;
    this.high = high;
    this.#next = Array.from({ length: Math.max(1, sources) }, () => low + Math.floor(random() * (high - low + 1)));
  }

  /** The next port for source `i`. */
  next(i: number): number {
    const p = this.#next[i]!;
    this.#next[i] = p >= this.high ? this.low : p + 1;
    return p;
  }
}
