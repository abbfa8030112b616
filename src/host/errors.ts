/**
 * The one error family. Every error has a stable code (listed in README's
 * error table; test/host/errors.test.ts keeps the two in sync). Config errors
 * carry a span and render as `file:line:col: message`.
 */
import { formatSpan, type Span } from './span.ts';

/** Code → one-line description. Add a code here and in README.md together. */
export const ERROR_CODES = {
  ERR_CFG_SYNTAX: 'the Caddyfile is not well formed (quotes, braces, heredocs, imports)',
  ERR_CFG_UNKNOWN: 'an unknown directive, subdirective, global option, matcher or module',
  ERR_CFG_ARGS: 'wrong argument count, or an argument of the wrong form',
  ERR_CFG_VALUE: 'a value that parses but is not allowed (range, combination, missing key)',
  ERR_CFG_IMPORT: 'an import that cannot be read, or an import cycle',
  ERR_CFG_JSON: 'a JSON config that does not match the schema',
  ERR_MODULE_UNKNOWN: 'no module is registered under that ID',
  ERR_MODULE_PROVISION: 'a module failed to provision (connect, open, read a key)',
  ERR_MODULE_VALIDATE: 'a module rejected its provisioned configuration',
  ERR_LISTEN: 'a listener could not bind its address',
  ERR_TRANSPORT_CLOSED: 'the Mercure transport is closed',
  ERR_TRANSPORT_UNAVAILABLE: 'the Mercure transport cannot reach its backend',
  ERR_TRANSPORT_REJECTED: 'the transport\'s backend refused an update (e.g. larger than its maximum message size)',
  ERR_STORAGE: 'the storage module failed',
  ERR_ADMIN: 'the admin API rejected a request',
  ERR_CLI_USAGE: 'a command-line usage error',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Base class: a message plus a stable code. */
export class QsError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'QsError';
  }
}

/** A configuration error tied to a place in a Caddyfile (or a JSON config path). */
export class ConfigError extends QsError {
  readonly span: Span | undefined;
  readonly expected: string | undefined;
  readonly hint: string | undefined;
  readonly detail: string;
  constructor(
    code: ErrorCode,
    span: Span | undefined,
    detail: string,
    extra: { expected?: string; hint?: string; cause?: unknown } = {},
  ) {
    let text = detail;
    if (extra.expected) text += `; expected ${extra.expected}`;
    if (extra.hint) text += ` (${extra.hint})`;
    const where = span ? formatSpan(span) + ': ' : '';
    const chain = span?.imports?.length ? ` [import chain: ${span.imports.join(' <- ')}]` : '';
    super(code, where + text + chain, { cause: extra.cause });
    this.name = 'ConfigError';
    this.span = span;
    this.detail = detail;
    this.expected = extra.expected;
    this.hint = extra.hint;
  }
}

/** Several config errors reported at once (the parser reports every error in a file). */
export class ConfigErrors extends QsError {
  readonly errors: ConfigError[];
  constructor(errors: ConfigError[]) {
    super(errors[0]?.code ?? 'ERR_CFG_SYNTAX', errors.map((e) => e.message).join('\n'));
    this.name = 'ConfigErrors';
    this.errors = errors;
  }
}

/** Thrown by HTTP handlers; one error stage renders it. `body` defaults to the status text. */
export class HttpError extends Error {
  readonly status: number;
  readonly body: string | undefined;
  readonly headers: Record<string, string> | undefined;
  constructor(status: number, body?: string, options?: { cause?: unknown; headers?: Record<string, string> }) {
    super(body ?? `HTTP ${status}`, { cause: options?.cause });
    this.name = 'HttpError';
    this.status = status;
    this.body = body;
    this.headers = options?.headers;
  }
}

/** Levenshtein distance, for did-you-mean hints. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** The closest candidate within a small edit distance, or undefined. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) { bestD = d; best = c; }
  }
  const limit = Math.max(2, Math.floor(word.length / 3));
  return bestD <= limit ? best : undefined;
}

/** Builds the standard "unknown X" error with the known names and a did-you-mean. */
export function unknownName(kind: string, word: string, span: Span | undefined, known: string[]): ConfigError {
  const guess = didYouMean(word, known);
  return new ConfigError('ERR_CFG_UNKNOWN', span, `unknown ${kind} "${word}"`, {
    expected: `one of ${[...known].sort().join(', ')}`,
    hint: guess ? `did you mean "${guess}"?` : undefined,
  });
}
