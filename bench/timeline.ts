/**
 * Per-second buckets over a run: deliveries, publishes, errors and a
 * low-precision latency histogram per second, plus the hub's RSS and CPU as
 * sampled once a second. Feeds the SVG chart and the report's `timeline`.
 */
import { Histogram } from './histogram.ts';

/** One second of the run, as reported. */
export interface TimelinePoint {
  /** Seconds since the start of the run (bucket start). */
  t: number;
  delivered: number;
  published: number;
  errors: number;
  /** Delivery latency in ms over this second (0 when nothing was delivered). */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Open subscriber connections at the end of the second. */
  connected: number;
  /** Hub RSS (sum over hub processes) sampled in this second, bytes. */
  hubRssBytes?: number;
  /** Hub CPU (sum over hub processes) used in this second, seconds. */
  hubCpuSeconds?: number;
}

interface Bucket {
  delivered: number;
  published: number;
  errors: number;
  latency: Histogram | undefined;
  connected: number;
  hubRssBytes?: number;
  hubCpuSeconds?: number;
}

/** Collects per-second buckets starting at `start` (performance.now() ms). */
export class Timeline {
  readonly start: number;
  readonly #buckets: Bucket[] = [];
  #connected = 0;

  constructor(start: number) {
    this.start = start;
  }

  #at(now: number): Bucket {
    const i = Math.max(0, Math.floor((now - this.start) / 1000));
    while (this.#buckets.length <= i) {
      this.#buckets.push({ delivered: 0, published: 0, errors: 0, latency: undefined, connected: this.#connected });
    }
    return this.#buckets[i]!;
  }

  /** One payload delivered at `now` with `latencyUs`. */
  delivered(now: number, latencyUs: number): void {
    const b = this.#at(now);
    b.delivered++;
    (b.latency ??= new Histogram(6)).record(latencyUs);
  }

  /** One update accepted by the hub at `now`. */
  published(now: number): void {
    this.#at(now).published++;
  }

  /** One failed request (publish or subscribe) at `now`. */
  error(now: number): void {
    this.#at(now).errors++;
  }

  /** The number of open subscriber connections changed to `n`. */
  connected(now: number, n: number): void {
    this.#connected = n;
    this.#at(now).connected = n;
  }

  /** A hub resource sample taken at `now`. */
  sample(now: number, rssBytes: number | undefined, cpuSeconds: number | undefined): void {
    const b = this.#at(now);
    if (rssBytes !== undefined) b.hubRssBytes = rssBytes;
    if (cpuSeconds !== undefined) b.hubCpuSeconds = (b.hubCpuSeconds ?? 0) + cpuSeconds;
  }

  /** The buckets so far, up to `now` (so trailing idle seconds show as zeros). */
  points(now?: number): TimelinePoint[] {
    if (now !== undefined) this.#at(now);
    return this.#buckets.map((b, i) => {
      const s = b.latency?.summary();
      const p: TimelinePoint = {
        t: i, delivered: b.delivered, published: b.published, errors: b.errors,
        p50Ms: s?.p50 ?? 0, p99Ms: s?.p99 ?? 0, maxMs: s?.max ?? 0, connected: b.connected,
      };
      if (b.hubRssBytes !== undefined) p.hubRssBytes = b.hubRssBytes;
      if (b.hubCpuSeconds !== undefined) p.hubCpuSeconds = Math.round(b.hubCpuSeconds * 1000) / 1000;
      return p;
    });
  }
}
