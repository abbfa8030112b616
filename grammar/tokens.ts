/**
 * The Chevrotain token set of the Caddyfile (caddy.md §1.3–1.8). Structure only:
 * words, quotes, heredocs, braces, newlines. Context-sensitive pieces (quotes,
 * heredocs) are custom patterns; their text is computed afterwards by lexer.ts.
 *
 * Order in `allTokens` matters: Chevrotain takes the first pattern that matches,
 * so the tokens that claim a start character (`#`, `"`, `` ` ``, `<<`, `\`+newline)
 * come before `Word`, which takes any other run of non-space characters.
 */
import { createToken, type CustomPatternMatcherReturn, Lexer, type TokenType } from 'chevrotain';

/** Go's unicode.IsSpace set, minus '\n' (which is its own token). */
const SPACE = '\\t\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const isMarkerChar = /^[A-Za-z0-9_-]+$/;

/** A custom-pattern match; `payload.closed` tells lexer.ts whether the quote or heredoc was terminated. */
function matched(image: string, closed: boolean): CustomPatternMatcherReturn {
  const m: CustomPatternMatcherReturn = [image];
  m.payload = { closed };
  return m;
}

/** Spaces and tabs (and CR, which Caddy ignores outside quotes) separate tokens. */
export const Whitespace = createToken({ name: 'Whitespace', pattern: new RegExp(`[${SPACE}]+`), group: Lexer.SKIPPED });

/** Newlines are significant: they end a directive's argument list. */
export const NewLine = createToken({ name: 'NewLine', pattern: /\n/, line_breaks: true });

/**
 * `\` + newline joins lines. At a token start Caddy also lets spaces sit between
 * the backslash and the newline (the escape flag survives the whitespace).
 * Kept in the vector (not skipped) so lexer.ts can reproduce Caddy's line count.
 */
export const Continuation = createToken({
  name: 'Continuation',
  pattern: new RegExp(`\\\\[${SPACE}]*\\n`),
  line_breaks: true,
});

/** `#` only starts a comment at a token start; Word swallows a `#` inside a token. */
export const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*/, group: Lexer.SKIPPED });

/**
 * `<<MARKER` immediately followed by a newline opens a heredoc, which runs up to
 * the first occurrence of MARKER (Caddy ends it as soon as the text read ends with
 * the marker). Anything else (a space after the marker, EOF, a bad marker) is not
 * a heredoc and falls through to Word; lexer.ts reports the bad-marker errors.
 */
export const Heredoc = createToken({
  name: 'Heredoc',
  line_breaks: true,
  start_chars_hint: ['<'],
  pattern: {
    exec(text: string, offset: number): CustomPatternMatcherReturn | null {
      if (text.charCodeAt(offset) !== 60 || text.charCodeAt(offset + 1) !== 60) return null;
      let i = offset + 2;
      let marker = '';
      for (; i < text.length; i++) {
        const ch = text[i];
        if (ch === ' ') return null;
        if (ch === '\n') break;
        if (ch !== '\r') marker += ch;
      }
      if (i >= text.length || !isMarkerChar.test(marker)) return null;
      const found = text.indexOf(marker, i + 1);
      return found < 0 ? matched(text.slice(offset), false) : matched(text.slice(offset, found + marker.length), true);
    },
  },
});

/** A token starting with `"` runs to the next unescaped `"` (or EOF: lexer.ts reports it). */
export const DoubleQuoted = createToken({
  name: 'DoubleQuoted',
  line_breaks: true,
  start_chars_hint: ['"'],
  pattern: {
    exec(text: string, offset: number): CustomPatternMatcherReturn | null {
      if (text[offset] !== '"') return null;
      let i = offset + 1;
      while (i < text.length) {
        const ch = text[i];
        if (ch === '\\') i += 2;
        else if (ch === '"') return matched(text.slice(offset, i + 1), true);
        else i++;
      }
      return matched(text.slice(offset), false);
    },
  },
});

/** A token starting with a backtick runs to the next backtick; there are no escapes. */
export const Backtick = createToken({
  name: 'Backtick',
  line_breaks: true,
  start_chars_hint: ['`'],
  pattern: {
    exec(text: string, offset: number): CustomPatternMatcherReturn | null {
      if (text[offset] !== '`') return null;
      const end = text.indexOf('`', offset + 1);
      return end < 0 ? matched(text.slice(offset), false) : matched(text.slice(offset, end + 1), true);
    },
  },
});

/**
 * Any other run of non-space characters. A backslash escapes the next non-space
 * character; a backslash right before a newline is a Continuation, so the word
 * stops in front of it; a backslash before other whitespace ends the word.
 */
export const Word = createToken({
  name: 'Word',
  pattern: new RegExp(`(?:[^\\\\\\n${SPACE}]|\\\\[^\\n${SPACE}]|\\\\(?!\\r*\\n))+`),
});

/** A bare `{` is structural only as a whole unquoted token; `{path}` and `{}` are words. */
export const LCurly = createToken({ name: 'LCurly', pattern: /\{/, longer_alt: Word });

/** A bare `}`; `}}` or `}x` are words. */
export const RCurly = createToken({ name: 'RCurly', pattern: /\}/, longer_alt: Word });

export const allTokens: TokenType[] = [
  Whitespace, NewLine, Continuation, Comment, Heredoc, DoubleQuoted, Backtick, LCurly, RCurly, Word,
];

/**
 * The one lexer instance. Positions are derived from offsets by lexer.ts (they
 * must be mapped back through env substitution), so Chevrotain only tracks offsets.
 */
export const caddyLexer = new Lexer(allTokens, { positionTracking: 'onlyOffset', ensureOptimizations: false });
