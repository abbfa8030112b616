/**
 * The parser's cursor over tokens. `import` replaces the statement under the
 * cursor with the imported tokens, so the remaining tokens are kept as a
 * reversed stack: the replacement then costs only the size of the statement and
 * its expansion. (Splicing one big array made many imports quadratic.)
 */
import type { PTok } from './imports.ts';

export class TokenStream {
  /** Tokens not consumed yet, reversed: the current token is last. */
  #rest: PTok[];
  #prev: PTok | undefined;
  #lastReal: PTok | undefined;

  constructor(tokens: PTok[]) {
    this.#rest = tokens.slice().reverse();
  }

  /** The token k places ahead of the cursor (0 = current), or undefined past the end. */
  peek(k = 0): PTok | undefined {
    return this.#rest[this.#rest.length - 1 - k];
  }

  /** Consumes and returns the current token. */
  next(): PTok | undefined {
    const t = this.#rest.pop();
    if (t) {
      this.#prev = t;
      if (t.kind !== 'eol') this.#lastReal = t;
    }
    return t;
  }

  /** Whether the current token starts a line (nothing consumed yet, or a newline just was). */
  get atLineStart(): boolean {
    return this.#prev === undefined || this.#prev.kind === 'eol';
  }

  /** Replaces the `count` tokens at the cursor with `tokens`; the cursor stays put. */
  replace(count: number, tokens: PTok[]): void {
    this.#rest.length = Math.max(0, this.#rest.length - count);
    for (let i = tokens.length - 1; i >= 0; i--) this.#rest.push(tokens[i]!);
  }

  /** The last non-newline token of the input (for "unexpected EOF"). */
  lastReal(): PTok | undefined {
    for (const t of this.#rest) if (t.kind !== 'eol') return t;
    return this.#lastReal;
  }
}
