/**
 * Test helpers for transports: a Subscriber that records what it gets and lets
 * a test await it (never sleep), and a fence to prove something was NOT
 * delivered: per-stream order means an update dispatched before the fence
 * would have arrived before it.
 */
import type { Subscriber, Transport, Update } from '../../src/transports/core/contract.ts';

/** Every Recorder also subscribes to this topic, for fences. */
export const FENCE_TOPIC = 'urn:test:fence';
let counter = 0;

/** One event a Recorder accepted. */
export interface Received { update: Update; bytes: string }

/** A Subscriber that records events; `capacity` simulates a full SSE buffer. */
export class Recorder implements Subscriber {
  readonly id: string;
  readonly topics: string[];
  readonly privateTopics: string[] | null;
  readonly payload?: unknown;
  readonly received: Received[] = [];
  closedWith: string | undefined;
  /** send() refuses once this many events were accepted (a full SSE buffer). */
  capacity = Infinity;
  readonly #waiters = new Set<() => void>();
  readonly #timeoutMs: number;

  constructor(topics: string[], privateTopics: string[] | null = null, opts: { payload?: unknown; timeoutMs?: number; fence?: boolean } = {}) {
    this.id = `urn:uuid:test-${++counter}`;
    this.topics = opts.fence === false ? topics : [...topics, FENCE_TOPIC];
    this.privateTopics = privateTopics;
    if (opts.payload !== undefined) this.payload = opts.payload;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
  }

  send(event: Buffer, update: Update): boolean {
    if (this.closedWith !== undefined || this.received.length >= this.capacity) return false;
    this.received.push({ update, bytes: event.toString('utf8') });
    this.#notify();
    return true;
  }

  close(reason: string): void {
    this.closedWith ??= reason;
    this.#notify();
  }

  /** IDs received, fences left out. */
  ids(): string[] {
    return this.received.filter((r) => !r.update.topics.includes(FENCE_TOPIC)).map((r) => r.update.id);
  }

  /** Resolves once check() holds; rejects after the timeout with what was received. */
  until(check: () => boolean, what: string): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        if (!check()) return;
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(done);
        reject(new Error(`${this.id}: timed out waiting for ${what}; got ${JSON.stringify(this.received.map((r) => r.update.id).slice(-20))}, closed: ${this.closedWith}`));
      }, this.#timeoutMs);
      this.#waiters.add(done);
    });
  }

  waitFor(count: number): Promise<void> {
    return this.until(() => this.ids().length >= count, `${count} events`);
  }

  waitForId(id: string): Promise<void> {
    return this.until(() => this.received.some((r) => r.update.id === id), `event ${id}`);
  }

  waitClosed(): Promise<void> {
    return this.until(() => this.closedWith !== undefined, 'close');
  }

  #notify(): void {
    for (const w of [...this.#waiters]) w();
  }
}

/** Dispatches a public fence update and waits until every recorder got it. */
export async function fence(transport: Transport, ...subs: Recorder[]): Promise<void> {
  const id = `fence-${++counter}`;
  await transport.dispatch({ id, topics: [FENCE_TOPIC], data: '', private: false });
  await Promise.all(subs.map((s) => s.waitForId(id)));
}

/** Polls an async condition (for state a backend updates out of band, e.g. shared presence). */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A public update with `data of <id>` as payload. */
export function update(id: string, topics: string | string[], extra: Partial<Update> = {}): Update {
  return { id, topics: typeof topics === 'string' ? [topics] : topics, data: `data of ${id}`, private: false, ...extra };
}
