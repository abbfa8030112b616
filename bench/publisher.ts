/**
 * The publisher: form-encoded POSTs to the hub over a few keep-alive
 * connections (a PostPool: raw sockets, so the harness stays light beside
 * the hub). Each update's data is a harness payload
 * (payload.ts) carrying its sequence number and its send time. Two drivers:
 * `paced` (token bucket, open loop: the rate does not bend to the hub) and
 * `closedLoop` (K workers, each sending its next update when the previous
 * one is answered: measures the most the hub sustains).
 */
import { performance } from 'node:perf_hooks';
import { Histogram } from './histogram.ts';
import { encodePayload } from './payload.ts';
import { TokenBucket } from './token-bucket.ts';
import type { LoopbackTarget } from './loopback.ts';
import { PostPool } from './post-pool.ts';

/** What to publish as update `seq`: the form fields but `data`, and which subscriber groups should get it. */
export interface UpdatePlan {
  /** URL-encoded `topic=…` (and `private=on`, …) fields, without `data`. */
  form: string;
  groups: readonly number[];
}

/** Publisher settings. */
export interface PublisherOptions {
  target: LoopbackTarget;
  token: string;
  /** Keep-alive connections in the pool. */
  connections: number;
  /** Pipelined requests per connection (1 = none). */
  pipelining?: number;
  /** Padding: minimum payload size in bytes. */
  size: number;
  timeoutMs: number;
  /** Called when the hub accepts update `seq` (2xx). */
  onAccepted(seq: number, plan: UpdatePlan, now: number): void;
  onError?(key: string, now: number): void;
}

/** Bounds shared by both drivers: stop at `count` updates or after `durationMs`, whichever comes first. */
export interface Bounds {
  count: number;
  durationMs: number;
  next(seq: number): UpdatePlan;
}

/** What one publishing phase did. */
export interface PhaseResult {
  sent: number;
  accepted: number;
  seconds: number;
  /** accepted / seconds (seconds run until the last answer). */
  ratePerSecond: number;
  /** sent / the time from the first send to the last one: the pace the publisher held. */
  sentPerSecond: number;
  /** Sends the token bucket granted but the in-flight cap held back (paced only). */
  lagged: number;
}

/** n sends between t0 and last (ms): n-1 intervals, so one send at t0 alone gives n/0 → reported as n per second. */
function sendRate(n: number, t0: number, last: number): number {
  return n <= 1 || last <= t0 ? n : ((n - 1) * 1000) / (last - t0);
}

/** Publishes updates with increasing sequence numbers. */
export class Publisher {
  readonly options: PublisherOptions;
  readonly pool: PostPool;
  /** Publish round-trip time (request to full response), µs. */
  readonly latency = new Histogram(8);
  /** When set, publish round trips are also recorded here (one ramp step). */
  stepLatency: Histogram | undefined;
  /** Failures by HTTP status or error code. */
  readonly errors: Record<string, number> = {};
  sent = 0;
  accepted = 0;
  inflight = 0;
  #seq = 0;

  constructor(options: PublisherOptions) {
    this.options = options;
    this.pool = new PostPool(options.target, { connections: options.connections, depth: options.pipelining ?? 1, timeoutMs: options.timeoutMs }, {
      authorization: `Bearer ${options.token}`,
      'content-type': 'application/x-www-form-urlencoded',
    });
  }

  /** Sends the next update; resolves true when the hub accepted it. Never rejects. */
  async publish(plan: UpdatePlan): Promise<boolean> {
    const seq = this.#seq++;
    this.sent++;
    this.inflight++;
    const t0 = performance.now();
    const body = `${plan.form}&data=${encodePayload(seq, t0, this.options.size).replace(/ /g, '+')}`;
    try {
      const status = await this.pool.post(body);
      const now = performance.now();
      if (status >= 200 && status < 300) {
        this.accepted++;
        this.latency.record((now - t0) * 1000);
        this.stepLatency?.record((now - t0) * 1000);
        this.options.onAccepted(seq, plan, now);
        return true;
      }
      this.#fail(String(status));
      return false;
    } catch (e) {
      this.#fail((e as NodeJS.ErrnoException).code ?? (e as Error).name);
      return false;
    } finally {
      this.inflight--;
    }
  }

  /** Failed publishes so far. */
  get failed(): number {
    return this.sent - this.accepted - this.inflight;
  }

  #fail(key: string): void {
    this.errors[key] = (this.errors[key] ?? 0) + 1;
    this.options.onError?.(key, performance.now());
  }

  /** The sequence number the next update will get. */
  get nextSeq(): number {
    return this.#seq;
  }

  /**
   * Open-loop publishing at `rate` per second (token bucket of `burst`,
   * 50 ms worth by default, so timer lateness does not lose sends), never
   * more than `maxInflight` requests at once.
   */
  paced(bounds: Bounds, rate: number, maxInflight: number, burst = Math.max(2, rate / 20)): Promise<PhaseResult> {
    const t0 = performance.now();
    const end = t0 + bounds.durationMs;
    const bucket = new TokenBucket(rate, burst, t0);
    const sent0 = this.sent;
    const acc0 = this.accepted;
    let lagged = 0;
    let stopped = false;
    let lastSend = t0;
    return new Promise((resolve) => {
      const done = () => {
        const seconds = (performance.now() - t0) / 1000;
        const accepted = this.accepted - acc0;
        const sent = this.sent - sent0;
        resolve({ sent, accepted, seconds, ratePerSecond: accepted / seconds, sentPerSecond: sendRate(sent, t0, lastSend), lagged: Math.round(lagged + bucket.overflowed) });
      };
      const settle = () => { if (stopped && this.inflight === 0) done(); };
      const tick = () => {
        const now = performance.now();
        while (!stopped && this.sent - sent0 < bounds.count && now < end && bucket.wait(now) === 0) {
          if (this.inflight >= maxInflight) { lagged += 1; bucket.take(now); continue; }
          bucket.take(now);
          lastSend = now;
          void this.publish(bounds.next(this.#seq)).then(settle);
        }
        if (this.sent - sent0 >= bounds.count || now >= end) { stopped = true; settle(); return; }
        setTimeout(tick, Math.max(1, Math.min(bucket.wait(now), end - now)));
      };
      tick();
    });
  }

  /** Closed-loop publishing: `concurrency` workers, each waiting for its answer before the next send. */
  async closedLoop(bounds: Bounds, concurrency: number): Promise<PhaseResult> {
    const t0 = performance.now();
    const end = t0 + bounds.durationMs;
    const sent0 = this.sent;
    const acc0 = this.accepted;
    const worker = async () => {
      while (this.sent - sent0 < bounds.count && performance.now() < end) await this.publish(bounds.next(this.#seq));
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const seconds = (performance.now() - t0) / 1000;
    const accepted = this.accepted - acc0;
    return { sent: this.sent - sent0, accepted, seconds, ratePerSecond: accepted / seconds, sentPerSecond: (this.sent - sent0) / seconds, lagged: 0 };
  }

  /** Closes the keep-alive connections. */
  async close(): Promise<void> {
    this.pool.close();
  }
}
