/**
 * A cursor over ONE directive line: its name, its arguments, and its block.
 * Every directive's parser gets one; errors it raises cite the token's position.
 */
import type { Directive, Span, Token } from '../../grammar/ast.ts';
import { formatSpan } from '../../grammar/ast.ts';
import { ConfigError, type ErrorCode } from '../host/errors.ts';

export class Dispenser {
  readonly node: Directive;
  #i = 0;

  constructor(node: Directive) {
    this.node = node;
  }

  get name(): string { return this.node.name.text; }
  get span(): Span { return this.node.name.span; }
  /** `file:line:col` of the directive name, for a config's `@span`. */
  get where(): string { return formatSpan(this.node.name.span); }

  /** The next argument, or undefined at the end of the line. */
  nextArg(): Token | undefined { return this.node.args[this.#i++]; }
  /** The next argument without consuming it. */
  peek(): Token | undefined { return this.node.args[this.#i]; }
  /** How many arguments are left. */
  remainingCount(): number { return this.node.args.length - this.#i; }
  /** Consumes and returns every remaining argument. */
  remaining(): Token[] {
    const rest = this.node.args.slice(this.#i);
    this.#i = this.node.args.length;
    return rest;
  }
  /** Consumes between min and max remaining arguments (all of them must fit), or throws the arity error. */
  args(min: number, max = min): Token[] {
    const n = this.remainingCount();
    if (n < min || n > max) throw this.argErr();
    return this.remaining();
  }
  /** Texts of args(min, max). */
  strings(min: number, max = min): string[] { return this.args(min, max).map((t) => t.text); }
  /** Exactly one argument's text. */
  string(): string { return this.args(1)[0]!.text; }

  /** Caddy's arity error, positioned on the directive. */
  argErr(): ConfigError {
    const extra = this.node.args[this.#i];
    const at = extra ? extra.span : this.span;
    return new ConfigError('ERR_CFG_ARGS', at,
      `wrong argument count or unexpected line ending after '${this.name}'`);
  }
  /** An error at a token (or the directive name). */
  err(detail: string, at?: Token | Span, extra: { expected?: string; hint?: string; code?: ErrorCode } = {}): ConfigError {
    const span = at ? ('span' in at ? at.span : at) : this.span;
    return new ConfigError(extra.code ?? 'ERR_CFG_VALUE', span, detail, extra);
  }
  /** Throws if arguments remain. */
  done(): void {
    const t = this.peek();
    if (t) throw this.err(`unexpected argument '${t.text}' after '${this.name}'`, t, { code: 'ERR_CFG_ARGS' });
  }

  hasBlock(): boolean { return this.node.block !== null; }
  /** The block's lines, each as its own dispenser ([] without a block). */
  block(): Dispenser[] { return (this.node.block ?? []).map((n) => new Dispenser(n)); }
  /** Throws if the directive has a block. */
  noBlock(): void {
    if (this.node.block !== null) throw this.err(`'${this.name}' takes no block`, this.span, { code: 'ERR_CFG_ARGS' });
  }
}
