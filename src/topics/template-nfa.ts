/**
 * Linear-time matching of a parsed URI template: the language of the
 * yosida95 regex (see uri-template.ts) as a small NFA, simulated one topic
 * character at a time (Thompson/Pike), so no selector can make a match take
 * more than O(topic length × template size). The fixed head and tail literals
 * are compared directly first, which rejects most topics at once.
 */
import { isHex, parseTemplate, repetitions, RESERVED, UNRESERVED, type Expression, type Part } from './uri-template.ts';

// NFA node kinds. Consuming nodes have one successor; SPLIT nodes have several.
const SPLIT = 0, CHAR = 1, CLASS = 2, HEX = 3, MATCH = 4;

/** Allowed-byte tables for the three classes, indexed by ASCII code. */
function classTable(chars: string): Uint8Array {
  const t = new Uint8Array(128);
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}
const TABLES = [classTable(UNRESERVED + ','), classTable(UNRESERVED + ',='), classTable(UNRESERVED + RESERVED)];

/** A compiled template: fixed head and tail literals checked directly, the middle simulated as an NFA. */
export class CompiledTemplate {
  readonly #head: string;
  readonly #tail: string;
  readonly #kind: number[] = [];
  readonly #arg: number[] = [];
  readonly #out: number[][] = [];
  readonly #start: number;
  #mark: Int32Array = new Int32Array(0);
  #gen = 0;
  // Scratch lists, reused: test() is synchronous and never re-entered.
  #cur: number[] = [];
  #nxt: number[] = [];
  #stack: number[] = [];

  constructor(parts: Part[]) {
    let last = parts.length;
    this.#head = typeof parts[0] === 'string' ? parts[0] : '';
    this.#tail = parts.length > 1 && typeof parts[last - 1] === 'string' ? parts[last - 1] as string : '';
    if (this.#tail) last--;
    // Built back to front, so every fragment already knows its continuation.
    let next = this.#node(MATCH, 0, []);
    for (let i = last - 1; i >= (this.#head ? 1 : 0); i--) {
      const p = parts[i]!;
      next = typeof p === 'string' ? this.#literal(p, next) : this.#expression(p, next);
    }
    this.#start = next;
    this.#mark = new Int32Array(this.#kind.length);
  }

  #node(kind: number, arg: number, out: number[]): number {
    this.#kind.push(kind);
    this.#arg.push(arg);
    this.#out.push(out);
    return this.#kind.length - 1;
  }

  #literal(text: string, next: number): number {
    for (let i = text.length - 1; i >= 0; i--) next = this.#node(CHAR, text.charCodeAt(i), [next]);
    return next;
  }

  /** (class | %XX)* then next. */
  #body(table: number, next: number): number {
    const loop = this.#node(SPLIT, 0, []);
    const h2 = this.#node(HEX, 0, [loop]);
    const h1 = this.#node(HEX, 0, [h2]);
    const pct = this.#node(CHAR, 0x25, [h1]);
    const cls = this.#node(CLASS, table, [loop]);
    this.#out[loop] = [cls, pct, next];
    return loop;
  }

  #expression(e: Expression, next: number): number {
    const { op, vars } = e;
    const max = repetitions(e);
    const table = (named: boolean): number => (op.reserved ? 2 : named ? 1 : 0);
    let rest = next;
    if (max < 0) {
      const loop = this.#node(SPLIT, 0, []);
      this.#out[loop] = [this.#node(CHAR, op.sep.charCodeAt(0), [this.#body(table(true), loop)]), next];
      rest = loop;
    } else {
      for (let k = 0; k < max; k++) {
        rest = this.#node(SPLIT, 0, [this.#node(CHAR, op.sep.charCodeAt(0), [this.#body(table(op.named), rest)]), next]);
      }
    }
    const body = this.#body(table(op.named || vars[0]!.explode), rest);
    if (!op.first) return body; // the body already matches the empty string
    return this.#node(SPLIT, 0, [this.#node(CHAR, op.first.charCodeAt(0), [body]), next]);
  }

  /** Whether the whole topic matches. */
  test(topic: string): boolean {
    const head = this.#head, tail = this.#tail;
    if (topic.length < head.length + tail.length || !topic.startsWith(head) || !topic.endsWith(tail)) return false;
    const end = topic.length - tail.length;
    let cur = this.#cur;
    let nxt = this.#nxt;
    cur.length = 0;
    let accept = this.#add(cur, this.#start, this.#step());
    for (let i = head.length; i < end; i++) {
      if (cur.length === 0) return false;
      const c = topic.charCodeAt(i);
      const gen = this.#step();
      accept = false;
      nxt.length = 0;
      for (const s of cur) {
        const k = this.#kind[s]!;
        const ok = k === CHAR ? c === this.#arg[s] : k === CLASS ? c < 128 && TABLES[this.#arg[s]!]![c] === 1 : isHex(c);
        if (ok && this.#add(nxt, this.#out[s]![0]!, gen)) accept = true;
      }
      const t = cur; cur = nxt; nxt = t;
    }
    return accept;
  }

  #step(): number {
    if (++this.#gen === 0x7fffffff) { this.#gen = 1; this.#mark.fill(0); }
    return this.#gen;
  }

  /** Adds the epsilon closure of node to list; returns whether MATCH is in it. */
  #add(list: number[], node: number, gen: number): boolean {
    let accept = false;
    const stack = this.#stack;
    stack.length = 0;
    stack.push(node);
    while (stack.length) {
      const n = stack.pop()!;
      if (this.#mark[n] === gen) continue;
      this.#mark[n] = gen;
      const k = this.#kind[n]!;
      if (k === SPLIT) for (const o of this.#out[n]!) stack.push(o);
      else if (k === MATCH) accept = true;
      else list.push(n);
    }
    return accept;
  }
}

/** Compiles a selector containing `{`; undefined when it is not a valid template (then it only matches itself). */
export function compileTemplate(raw: string): CompiledTemplate | undefined {
  const parts = parseTemplate(raw);
  return parts ? new CompiledTemplate(parts) : undefined;
}
