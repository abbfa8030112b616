/**
 * A small HDR-style histogram of non-negative integers (the harness records
 * microseconds). Values below 2^bits are exact; above, each power of two is
 * split into 2^(bits-1) sub-buckets, so the relative error stays under
 * 1/2^(bits-1) (0.8 % with the default 8 bits). Recording is one Math.clz32
 * and one array increment: no allocation.
 */

/** Percentiles in milliseconds, as they appear in reports. */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  min: number;
}

const MAX_VALUE = 0x7fffffff; // ~2147 s in µs: anything larger is clamped

/** Log-linear histogram with exact min, max and sum. */
export class Histogram {
  readonly bits: number;
  readonly counts: Uint32Array;
  count = 0;
  sum = 0;
  min = Infinity;
  max = 0;
  readonly #half: number;

  /** `bits` sets the precision (4–12); 8 keeps the error under 0.8 % in 13 KB. */
  constructor(bits = 8) {
    if (bits < 4 || bits > 12) throw new RangeError('bits must be within 4..12');
    this.bits = bits;
    this.#half = 1 << (bits - 1);
    this.counts = new Uint32Array(indexOf(MAX_VALUE, bits, this.#half) + 1);
  }

  /** Records one value (rounded, clamped to 0..2^31-1). */
  record(value: number): void {
    let v = value > 0 ? Math.round(value) : 0;
    if (v > MAX_VALUE) v = MAX_VALUE;
    this.counts[indexOf(v, this.bits, this.#half)]!++;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** Adds every count of `other` (same `bits`) into this one. */
  merge(other: Histogram): void {
    if (other.bits !== this.bits) throw new RangeError('cannot merge histograms of different precision');
    for (let i = 0; i < other.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  /** The value at quantile q (0..1): the middle of its bucket, never above max nor below min. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) {
        const lo = lowerBound(i, this.#half);
        const hi = lowerBound(i + 1, this.#half);
        const mid = lo + (hi - 1 - lo) / 2;
        return Math.min(this.max, Math.max(this.min, mid));
      }
    }
    return this.max;
  }

  /** Count, mean and percentiles, divided by `scale` (1000: µs recorded, ms reported), rounded to 3 decimals. */
  summary(scale = 1000): LatencySummary {
    const r = (v: number) => Math.round((v / scale) * 1000) / 1000;
    if (this.count === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, min: 0 };
    return {
      count: this.count,
      mean: r(this.sum / this.count),
      p50: r(this.quantile(0.5)),
      p90: r(this.quantile(0.9)),
      p99: r(this.quantile(0.99)),
      p999: r(this.quantile(0.999)),
      max: r(this.max),
      min: r(this.min),
    };
  }
}

function indexOf(v: number, bits: number, half: number): number {
  if (v < 2 * half) return v;
  const msb = 31 - Math.clz32(v);
  const shift = msb - bits + 1;
  return shift * half + (v >>> shift);
}

function lowerBound(index: number, half: number): number {
  if (index < 2 * half) return index;
  const shift = Math.floor(index / half) - 1;
  return (index - shift * half) * 2 ** shift;
}
