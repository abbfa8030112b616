/**
 * Process-wide timers for SSE streams. Two Timeout objects per stream (the
 * heartbeat and the lifetime) cost ~0.6 KB each idle stream with their
 * closures; here a stream holds a few numeric fields and links instead:
 *  - heartbeats: one FIFO list per interval, ordered by last write (a write
 *    moves the stream to the tail, like Node's own TimersList on refresh()),
 *    with one timer armed for the head;
 *  - deadlines (write_timeout, token exp): one min-heap, one timer for its top.
 * The lists are process-wide, not per hub, because streams outlive their hub
 * on a reload (they end on their own timers). Timers are unref'd: the sockets
 * keep the process alive. Times are performance.now() milliseconds.
 */

/** A stream in a heartbeat list (the fields are the list's; do not touch them). */
export interface Beating {
  beatPrev: Beating | null;
  beatNext: Beating | null;
  beatAt: number;
  /** The interval elapsed without a write. Call touch() again to stay listed. */
  beat(now: number): void;
}

/** A stream in the deadline heap (the fields are the heap's). */
export interface Deadlined {
  deadlineAt: number;
  /** Index in the heap, -1 when not scheduled. */
  deadlineIndex: number;
  deadline(): void;
}

/** Timers may fire a little early against performance.now(); this much counts as due. */
const SLACK_MS = 1;

/** The streams beating at one interval. */
export class BeatList {
  readonly ms: number;
  #head: Beating | null = null;
  #tail: Beating | null = null;
  #timer: NodeJS.Timeout | undefined;

  constructor(ms: number) { this.ms = ms; }

  /** (Re)starts s's interval at now: s moves to the tail. */
  touch(s: Beating, now: number): void {
    if (this.#tail === s) { s.beatAt = now; return; }
    this.remove(s);
    s.beatAt = now;
    s.beatPrev = this.#tail;
    if (this.#tail) this.#tail.beatNext = s; else this.#head = s;
    this.#tail = s;
    if (!this.#timer) this.#arm(this.ms);
  }

  remove(s: Beating): void {
    if (s.beatPrev === null && this.#head !== s) return; // not listed
    if (s.beatPrev) s.beatPrev.beatNext = s.beatNext; else this.#head = s.beatNext;
    if (s.beatNext) s.beatNext.beatPrev = s.beatPrev; else this.#tail = s.beatPrev;
    s.beatPrev = s.beatNext = null;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#fire(), Math.min(MAX_TIMER_MS, Math.max(1, ms)));
    this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    const now = performance.now();
    let s = this.#head;
    // Beating re-touches a stream (to the tail, due later), so the loop ends.
    while (s !== null && s.beatAt + this.ms <= now + SLACK_MS) {
      this.remove(s);
      s.beat(now);
      s = this.#head;
    }
    if (s !== null && !this.#timer) this.#arm(s.beatAt + this.ms - now);
  }
}

const lists = new Map<number, BeatList>();

/** The shared list for an interval. */
export function beatList(ms: number): BeatList {
  let l = lists.get(ms);
  if (!l) lists.set(ms, (l = new BeatList(ms)));
  return l;
}

/** Stream deadlines: a binary min-heap on deadlineAt, one timer for its top. */
class DeadlineHeap {
  readonly #heap: Deadlined[] = [];
  #timer: NodeJS.Timeout | undefined;
  #armedAt = Infinity;

  add(s: Deadlined, at: number): void {
    this.remove(s);
    s.deadlineAt = at;
    s.deadlineIndex = this.#heap.length;
    this.#heap.push(s);
    this.#up(s.deadlineIndex);
    if (at < this.#armedAt) this.#arm(at);
  }

  remove(s: Deadlined): void {
    const i = s.deadlineIndex;
    if (i < 0) return;
    s.deadlineIndex = -1;
    const last = this.#heap.pop()!;
    if (last === s) return;
    this.#heap[i] = last;
    last.deadlineIndex = i;
    this.#down(i);
    this.#up(last.deadlineIndex);
    // A timer armed for a removed top stays: it fires, finds nothing due, re-arms.
  }

  #up(i: number): void {
    const h = this.#heap;
    const s = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.deadlineAt <= s.deadlineAt) break;
      h[i] = h[p]!; h[i]!.deadlineIndex = i;
      i = p;
    }
    h[i] = s; s.deadlineIndex = i;
  }

  #down(i: number): void {
    const h = this.#heap;
    const n = h.length;
    const s = h[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && h[c + 1]!.deadlineAt < h[c]!.deadlineAt) c++;
      if (h[c]!.deadlineAt >= s.deadlineAt) break;
      h[i] = h[c]!; h[i]!.deadlineIndex = i;
      i = c;
    }
    h[i] = s; s.deadlineIndex = i;
  }

  #arm(at: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#armedAt = at;
    // setTimeout takes at most 2^31-1 ms (~24.8 days; longer fires after 1 ms): a far deadline
    // (a JWT `exp` weeks away) wakes up once at the cap and re-arms for the rest.
    this.#timer = setTimeout(() => this.#fire(), Math.min(MAX_TIMER_MS, Math.max(1, at - performance.now())));
    this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    const now = performance.now();
    const h = this.#heap;
    while (h.length > 0 && h[0]!.deadlineAt <= now + SLACK_MS) {
      const s = h[0]!;
      this.remove(s);
      s.deadline();
    }
    if (h.length > 0 && !this.#timer) this.#arm(h[0]!.deadlineAt);
  }
}

/** The longest delay setTimeout honours. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The process-wide deadline heap. */
export const deadlines = new DeadlineHeap();
