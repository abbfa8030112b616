/**
 * The Caddyfile syntax tree. grammar/ produces it and knows no directive names;
 * directives/ consumes it. Every node carries the position it came from, so
 * errors raised long after parsing can still cite file:line:col.
 */

import type { Span } from '../src/host/span.ts';

export type { Span };
export { formatSpan } from '../src/host/span.ts';

/** How a token was written. '' = bare word, '"' = double quotes, '`' = backticks, '<' = heredoc. */
export type QuoteKind = '' | '"' | '`' | '<';

export interface Token {
  text: string;
  quote: QuoteKind;
  span: Span;
}

/**
 * One line of a block: its first token is the name, the rest of the line are args,
 * and a trailing bare `{` opens a nested block of further lines.
 * `block` is null when the line had no block, [] for an empty `{ }`.
 */
export interface Directive {
  name: Token;
  args: Token[];
  block: Directive[] | null;
  /** Position of the closing `}` of `block`, when there is one. */
  end?: Span;
}

/**
 * A top-level block: keys (site addresses) and a body of directives.
 * The global options block has no keys. Snippets `(name)` and named routes
 * `&(name)` are expanded by the parser and never appear here, except that
 * named routes are returned in `namedRoutes`.
 */
export interface ServerBlock {
  keys: Token[];
  body: Directive[];
  span: Span;
  /** True when the file is a single site written without braces. */
  braceless?: boolean;
}

export interface Caddyfile {
  blocks: ServerBlock[];
  /** `&(name) { … }` definitions, by name. */
  namedRoutes: Record<string, ServerBlock>;
}
