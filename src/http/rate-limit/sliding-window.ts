/**
 * caddy-ratelimit's limiter: a ring buffer of the last `maxEvents` event
 * timestamps with a cursor on the oldest one (caddy.md §6.2). An event is
 * admitted when the oldest timestamp is strictly more than `window` ago; the
 * admission overwrites that slot. So at most maxEvents events fall in any
 * window, with no smoothing and no refill. Times are milliseconds from an
 * injected clock; empty slots hold -Infinity (Go's zero time: "long ago").
 */
export class SlidingWindow {
  #ring: Float64Array;
  #cursor = 0;
  #window: number;

  constructor(maxEvents: number, windowMs: number) {
    if (maxEvents < 0 || windowMs < 0) throw new RangeError('maxEvents and window cannot be negative');
    this.#ring = new Float64Array(maxEvents).fill(-Infinity);
    this.#window = windowMs;
  }

  get maxEvents(): number { return this.#ring.length; }
  get window(): number { return this.#window; }

  /**
   * Admits and reserves (returns 0), or refuses and returns the wait in ms until
   * the oldest event leaves the window. The wait can be 0 at the exact boundary
   * (`now - oldest == window` is refused: the comparison is strict), so callers
   * must use `allowed`, not the wait, to decide.
   */
  take(now: number): { allowed: boolean; wait: number } {
    if (this.#ring.length === 0) return { allowed: false, wait: 0 };
    const oldest = this.#ring[this.#cursor]!;
    if (now - oldest > this.#window) {
      this.reserve(now);
      return { allowed: true, wait: 0 };
    }
    return { allowed: false, wait: oldest + this.#window - now };
  }

  /** Claims the oldest slot for an event at now. */
  reserve(now: number): void {
    if (this.#ring.length === 0) return;
    this.#ring[this.#cursor] = now;
    this.#advance();
  }

  #advance(): void {
    this.#cursor = (this.#cursor + 1) % this.#ring.length;
  }

  /** Events within [now - window, now], counted newest first like the plugin's Count. */
  count(now: number): number {
    return this.#scan(now).count;
  }

  /** The oldest event still inside the window (undefined when none). */
  oldestInWindow(now: number): number | undefined {
    return this.#scan(now).oldest;
  }

  #scan(now: number): { count: number; oldest: number | undefined } {
    const n = this.#ring.length;
    const begin = now - this.#window;
    let oldest: number | undefined;
    for (let i = 0; i < n; i++) {
      const t = this.#ring[(this.#cursor + n - i - 1) % n]!;
      if (t < begin) return { count: i, oldest };
      oldest = t;
    }
    return { count: n, oldest };
  }

  /** The newest event's time (-Infinity when empty). */
  newest(): number {
    const n = this.#ring.length;
    return n === 0 ? -Infinity : this.#ring[(this.#cursor + n - 1) % n]!;
  }

  /** Resizes the ring; shrinking forgets the oldest events, growing adds room at once. */
  setMaxEvents(maxEvents: number): void {
    if (maxEvents < 0) throw new RangeError('maxEvents cannot be negative');
    const n = this.#ring.length;
    if (maxEvents === n) return;
    const next = new Float64Array(maxEvents).fill(-Infinity);
    // Oldest first, skipping the ones that no longer fit, so the newest are kept.
    const skip = Math.max(0, n - maxEvents);
    for (let i = skip, j = 0; i < n; i++, j++) next[j] = this.#ring[(this.#cursor + i) % n]!;
    // A larger ring keeps the events at its start; its empty slots follow, and the oldest slot
    // (the cursor) must be an empty one when there is room, so new capacity is usable at once.
    this.#ring = next;
    this.#cursor = maxEvents > n ? n : 0;
  }

  setWindow(windowMs: number): void {
    if (windowMs < 0) throw new RangeError('window cannot be negative');
    this.#window = windowMs;
  }
}
