/**
 * Delivery bookkeeping by sequence number.
 *
 * Subscribers belong to groups (same selectors, same grants, so the same
 * expected updates). The publisher marks an accepted update as expected for
 * the groups that should see it; each subscriber marks what it received. A
 * delivery may arrive before the publish response, so missed and unexpected
 * deliveries are only counted at the end, from the bitsets; duplicates and
 * out-of-order arrivals are counted as they happen.
 *
 * One order: each subscriber folds the sequence numbers it receives, in
 * arrival order, into an order-sensitive hash. At the end, among the
 * subscribers of a group that missed nothing, those whose hash differs from
 * the group's first such subscriber saw another order (`orderMismatched`).
 * Out-of-order counts disagreement with the send order, which concurrent
 * publishes may legitimately break; `orderMismatched` counts disagreement
 * between streams, which a hub (with any number of processes) must not have.
 */
import { Histogram } from './histogram.ts';

/** A growable bitset over sequence numbers. */
export class Bitset {
  words: Uint32Array;
  constructor(bits = 1024) {
    this.words = new Uint32Array(Math.max(1, Math.ceil(bits / 32)));
  }
  /** Sets bit n; returns its previous value. */
  set(n: number): boolean {
    const w = n >>> 5;
    if (w >= this.words.length) {
      const next = new Uint32Array(Math.max(w + 1, this.words.length * 2));
      next.set(this.words);
      this.words = next;
    }
    const mask = 1 << (n & 31);
    const was = (this.words[w]! & mask) !== 0;
    this.words[w]! |= mask;
    return was;
  }
  /** True when bit n is set. */
  has(n: number): boolean {
    const w = n >>> 5;
    return w < this.words.length && (this.words[w]! & (1 << (n & 31))) !== 0;
  }
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Totals over every subscriber, as reported. */
export interface DeliveryCounts {
  /** Deliveries the publishes called for (accepted updates × matching subscribers). */
  expected: number;
  /** Distinct expected updates received. */
  delivered: number;
  /** Expected but never received. */
  missed: number;
  /** Received again after the first time. */
  duplicated: number;
  /** Arrived after an update with a higher sequence number on the same stream. */
  outOfOrder: number;
  /** Received but not expected (a grant or selector leak, or a publish the hub answered with an error). */
  unexpected: number;
  /** Events without a harness payload (other publishers, subscription events). */
  foreign: number;
  /** Subscribers that missed at least one update. */
  subscribersMissing: number;
  /** Subscribers that missed nothing yet got their group's updates in another order than the group's first such subscriber. */
  orderMismatched: number;
}

/** Per-subscriber and per-group state. */
export class Tracker {
  readonly groupOf: Int32Array;
  readonly expected: Bitset[];
  readonly expectedCount: Float64Array;
  readonly #received: Bitset[];
  readonly #lastSeq: Float64Array;
  /** Two order-sensitive hashes of each subscriber's arrivals. */
  readonly #orderA: Int32Array;
  readonly #orderB: Int32Array;
  readonly #groupSize: Float64Array;
  /** Latency of every payload delivery (first copies only), µs. */
  readonly latency = new Histogram(8);
  duplicated = 0;
  outOfOrder = 0;
  foreign = 0;
  /** Distinct payload deliveries so far (expected or not). */
  received = 0;
  /** Deliveries called for so far (sum over groups of size × accepted updates). */
  expectedTotal = 0;

  /** `groupOf[i]` is subscriber i's group; `groups` the number of groups. */
  constructor(groupOf: ArrayLike<number>, groups: number, bitsHint = 1024) {
    this.groupOf = Int32Array.from(groupOf);
    this.expected = Array.from({ length: groups }, () => new Bitset(bitsHint));
    this.expectedCount = new Float64Array(groups);
    this.#groupSize = new Float64Array(groups);
    for (const g of this.groupOf) this.#groupSize[g]!++;
    this.#received = Array.from({ length: this.groupOf.length }, () => new Bitset(Math.min(bitsHint, 8192)));
    this.#lastSeq = new Float64Array(this.groupOf.length).fill(-1);
    this.#orderA = new Int32Array(this.groupOf.length);
    this.#orderB = new Int32Array(this.groupOf.length);
  }

  /** The hub accepted update `seq` for these groups. */
  published(seq: number, groups: readonly number[]): void {
    for (const g of groups) {
      if (!this.expected[g]!.set(seq)) {
        this.expectedCount[g]!++;
        this.expectedTotal += this.#groupSize[g]!;
      }
    }
  }

  /** Subscriber `sub` got `seq` after `latencyUs`; returns false for a duplicate. */
  receivedBy(sub: number, seq: number, latencyUs: number): boolean {
    if (seq < 0) { this.foreign++; return false; }
    if (this.#received[sub]!.set(seq)) { this.duplicated++; return false; }
    if (seq < this.#lastSeq[sub]!) this.outOfOrder++;
    else this.#lastSeq[sub] = seq;
    this.#orderA[sub] = Math.imul(this.#orderA[sub]! ^ seq, 16777619);
    this.#orderB[sub] = Math.imul(this.#orderB[sub]! + seq + 1, 0x5bd1e995) ^ (this.#orderB[sub]! >>> 13);
    this.received++;
    this.latency.record(latencyUs);
    return true;
  }

  /** True when every expected delivery arrived (cheap check: counts only). */
  complete(): boolean {
    return this.received >= this.expectedTotal;
  }

  /** Compares received with expected, per subscriber. O(subscribers × words). */
  counts(): DeliveryCounts {
    let delivered = 0;
    let missed = 0;
    let unexpected = 0;
    let subscribersMissing = 0;
    let orderMismatched = 0;
    /** Per group, the first subscriber that missed nothing: the order the others are compared with. */
    const reference = new Map<number, number>();
    for (let s = 0; s < this.groupOf.length; s++) {
      const exp = this.expected[this.groupOf[s]!]!.words;
      const got = this.#received[s]!.words;
      let m = 0;
      for (let w = 0; w < Math.max(exp.length, got.length); w++) {
        const e = exp[w] ?? 0;
        const r = got[w] ?? 0;
        delivered += popcount(e & r);
        m += popcount(e & ~r);
        unexpected += popcount(r & ~e);
      }
      missed += m;
      if (m > 0) { subscribersMissing++; continue; }
      const g = this.groupOf[s]!;
      const ref = reference.get(g);
      if (ref === undefined) reference.set(g, s);
      else if (this.#orderA[s] !== this.#orderA[ref] || this.#orderB[s] !== this.#orderB[ref]) orderMismatched++;
    }
    return {
      expected: this.expectedTotal, delivered, missed, duplicated: this.duplicated,
      outOfOrder: this.outOfOrder, unexpected, foreign: this.foreign, subscribersMissing, orderMismatched,
    };
  }
}
