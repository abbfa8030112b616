/**
 * Turns Caddyfile text into tokens: the Chevrotain token vector of tokens.ts,
 * post-processed into Caddy's token texts (quotes stripped, `\"` and `\<`
 * unescaped, heredocs dedented), with a file:line:column span on every token
 * and Caddy's lexer errors as ConfigErrors. Comments and whitespace are dropped;
 * newlines stay as `eol` tokens because they end argument lists.
 */
import type { IToken } from 'chevrotain';
import type { QuoteKind, Span, Token } from './ast.ts';
import { ConfigError } from '../src/host/errors.ts';
import { type Env, substituteEnvMapped } from './env.ts';
import { Backtick, caddyLexer, Continuation, DoubleQuoted, Heredoc, LCurly, NewLine, RCurly } from './tokens.ts';

/** 'open' / 'close' are the structural braces (bare, unquoted); 'eol' ends a line. */
export type TokenKind = 'word' | 'open' | 'close' | 'eol';

/** A token as the parser sees it. */
export interface LexToken extends Token {
  kind: TokenKind;
  /**
   * The line Caddy itself would report: counted in the env-substituted text, and
   * after a `\` continuation the first line's number (caddy.md §1.7). The span
   * instead holds the physical position in the original file.
   */
  caddyLine: number;
}

export interface LexResult {
  tokens: LexToken[];
  errors: ConfigError[];
}

export interface TokenizeOptions {
  file: string;
  /** Variables for `{$VAR}`; unset variables become '' (or their default). */
  env?: Env;
  /** Import chain recorded on every span (for imported files). */
  imports?: string[];
}

/** Offsets of the first character of every line. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** 0-based line index containing offset. */
function lineOf(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Reads one file's text: drops a leading BOM, substitutes `{$VAR}`, lexes.
 * Spans point into the original text (see env.ts for the line-number choice).
 */
export function tokenize(source: string, opts: TokenizeOptions): LexResult {
  const text = source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;
  const sub = substituteEnvMapped(text, opts.env ?? {});
  const starts = lineStarts(text);
  const locate = (offset: number): Span => {
    const src = sub.toSource(offset);
    const line = lineOf(starts, src);
    const span: Span = { file: opts.file, line: line + 1, column: src - starts[line]! + 1 };
    if (opts.imports?.length) span.imports = [...opts.imports];
    return span;
  };
  return lexText(sub.text, locate);
}

/** Word text: `\<` loses its backslash, a trailing lone backslash is dropped, other `\x` stay. */
function wordText(image: string): string {
  let out = '';
  for (let i = 0; i < image.length; i++) {
    const ch = image[i]!;
    if (ch !== '\\') { out += ch; continue; }
    const next = image[i + 1];
    if (next === undefined) break;
    out += next === '<' ? '<' : ch + next;
    i++;
  }
  return out;
}

/** Double-quoted text: only `\"` is an escape; every other backslash is kept with its character. */
function quotedText(inner: string): string {
  let out = '';
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i]!;
    const next = inner[i + 1];
    if (ch === '\\' && next !== undefined) {
      out += next === '"' ? '"' : ch + next;
      i++;
    } else if (ch !== '\\') {
      out += ch;
    }
  }
  return out;
}

/** Lexes already-substituted text; `locate` turns an offset into a span. */
export function lexText(text: string, locate: (offset: number) => Span): LexResult {
  const { tokens: raw, errors: lexErrors } = caddyLexer.tokenize(text);
  const substStarts = lineStarts(text);
  const tokens: LexToken[] = [];
  const errors: ConfigError[] = [];
  const syntax = (offset: number, detail: string, expected?: string): void => {
    errors.push(new ConfigError('ERR_CFG_SYNTAX', locate(offset), detail, { expected }));
  };
  // every character matches some token of tokens.ts, so this is only a safety net
  for (const e of lexErrors) syntax(e.offset, `unexpected character ${JSON.stringify(text.slice(e.offset, e.offset + e.length))}`);
  let pendingContinuations = 0; // Caddy counts these lines only at the next real newline
  for (const t of raw) {
    const type = t.tokenType;
    if (type === Continuation) { pendingContinuations++; continue; }
    const caddyLine = lineOf(substStarts, t.startOffset) + 1 - pendingContinuations;
    const push = (kind: TokenKind, text: string, quote: QuoteKind): void => {
      tokens.push({ kind, text, quote, span: locate(t.startOffset), caddyLine });
    };
    if (type === NewLine) {
      pendingContinuations = 0;
      push('eol', '', '');
    } else if (type === LCurly) {
      push('open', '{', '');
    } else if (type === RCurly) {
      push('close', '}', '');
    } else if (type === DoubleQuoted || type === Backtick) {
      const q = t.image[0] as '"' | '`';
      const closed = isClosed(t);
      if (!closed) {
        syntax(t.startOffset, q === '"' ? 'unclosed double quote' : 'unclosed backtick', `a closing ${q} before the end of the file`);
      }
      const inner = t.image.slice(1, closed ? -1 : undefined);
      if (inner.includes('\n')) pendingContinuations = 0;
      push('word', q === '"' ? quotedText(inner) : inner, q);
    } else if (type === Heredoc) {
      pendingContinuations = 0;
      push('word', heredocText(t, locate, errors), '<');
    } else {
      checkHeredocStart(t, text, locate, errors);
      const word = wordText(t.image);
      // A lone `\` before spaces has nothing to escape; Caddy glues it to the next token, we drop it.
      if (t.image !== '\\') push('word', word, '');
    }
  }
  return { tokens, errors };
}

/** Whether a quote or heredoc found its terminator (set by the custom patterns of tokens.ts). */
function isClosed(t: IToken): boolean {
  return (t.payload as { closed?: boolean } | undefined)?.closed === true;
}

/**
 * A word that starts with `<<` and reaches a newline before any space was meant
 * as a heredoc opener with a bad marker (the Heredoc pattern refused it).
 */
function checkHeredocStart(t: IToken, text: string, locate: (offset: number) => Span, errors: ConfigError[]): void {
  if (!t.image.startsWith('<<')) return;
  let marker = '';
  let i = t.startOffset + 2;
  for (; i < text.length; i++) {
    const ch = text[i];
    if (ch === ' ') return;
    if (ch === '\n') break;
    if (ch !== '\r') marker += ch;
  }
  if (i >= text.length) return;
  const span = locate(t.startOffset);
  const n = span.line;
  let detail: string;
  if (marker === '') {
    detail = `missing opening heredoc marker on line #${n}; must contain only alphanumeric characters, dashes and underscores; got empty string`;
  } else if (marker.startsWith('<')) {
    detail = `too many '<' for heredoc on line #${n}; only use two, for example <<END`;
  } else {
    detail = `heredoc marker on line #${n} must contain only alphanumeric characters, dashes and underscores; got '${marker}'`;
  }
  errors.push(new ConfigError('ERR_CFG_SYNTAX', span, detail));
}

/**
 * Heredoc body: the whitespace in front of the closing marker is removed from
 * every line (a non-empty line without exactly that prefix is an error), CRs are
 * dropped and the final newline removed (Caddy's finalizeHeredoc).
 */
function heredocText(t: IToken, locate: (offset: number) => Span, errors: ConfigError[]): string {
  const image = t.image;
  const nl = image.indexOf('\n');
  const marker = image.slice(2, nl).replace(/\r/g, '');
  const bodyStart = nl + 1;
  const body = image.slice(bodyStart);
  const start = locate(t.startOffset);
  if (!isClosed(t)) {
    errors.push(new ConfigError('ERR_CFG_SYNTAX', start,
      `incomplete heredoc <<${marker} on line #${start.line}, expected ending marker ${marker}`));
    return body;
  }
  const lastNewline = body.lastIndexOf('\n');
  const padding = body.slice(lastNewline + 1, body.length - marker.length);
  const lines = body.slice(0, lastNewline + 1).split('\n');
  lines.pop();
  let out = '';
  let lineOffset = t.startOffset + bodyStart;
  for (const line of lines) {
    if (line === '' || line === '\r') {
      out += '\n';
    } else if (!line.startsWith(padding)) {
      const at = locate(lineOffset);
      errors.push(new ConfigError('ERR_CFG_SYNTAX', at,
        `mismatched leading whitespace in heredoc <<${marker} on line #${at.line} [${line}], expected whitespace [${padding}] to match the closing marker`));
      out += line.replace(/\r/g, '') + '\n';
    } else {
      out += (line.slice(padding.length) + '\n').replace(/\r/g, '');
    }
    lineOffset += line.length + 1;
  }
  return out.endsWith('\n') ? out.slice(0, -1) : out;
}
