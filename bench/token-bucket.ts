/**
 * Token-bucket pacing for the publisher: `rate` tokens per second accrue up
 * to `burst`; each publish spends one. The clock is passed in (milliseconds),
 * so tests drive it by hand.
 */

const ONE = 1 - 1e-9; // refills add fractions: don't let rounding eat a token

/** A token bucket that starts full of `startTokens` (default 1: the first send goes at once). */
export class TokenBucket {
  readonly rate: number;
  readonly burst: number;
  #tokens: number;
  #last: number;
  /** Tokens that overflowed the bucket because nothing spent them (schedule slip). */
  overflowed = 0;

  /** `rate` per second (> 0), `burst` tokens at most (>= 1), `now` in ms. */
  constructor(rate: number, burst: number, now: number, startTokens = 1) {
    if (!(rate > 0)) throw new RangeError('rate must be > 0');
    if (!(burst >= 1)) throw new RangeError('burst must be >= 1');
    this.rate = rate;
    this.burst = burst;
    this.#tokens = Math.min(startTokens, burst);
    this.#last = now;
  }

  /** Tokens available at `now` (fractional), after refilling. */
  available(now: number): number {
    if (now > this.#last) {
      const t = this.#tokens + ((now - this.#last) * this.rate) / 1000;
      if (t > this.burst) {
        this.overflowed += t - this.burst;
        this.#tokens = this.burst;
      } else {
        this.#tokens = t;
      }
      this.#last = now;
    }
    return this.#tokens;
  }

  /** Spends one token if there is one; true when it was spent. */
  take(now: number): boolean {
    if (this.available(now) < ONE) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds until one whole token is available (0 when one is). */
  wait(now: number): number {
    const t = this.available(now);
    return t >= ONE ? 0 : ((1 - t) * 1000) / this.rate;
  }
}
