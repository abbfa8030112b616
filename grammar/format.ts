/**
 * `caddy fmt` (caddy.md §4.1): a character-level formatter that never parses and
 * never rejects. It cuts the text into items (words, structural braces, comments,
 * line continuations) and lays them out with one tab per nesting level. Token
 * bodies (quoted strings, backtick strings, heredocs, escapes, comments) are
 * copied verbatim. Brace rules follow Caddy's formatter rather than its lexer:
 * a `{` followed by whitespace opens a block even when glued (`a{` → `a {`), and
 * a glued `}` closes one unless an unmatched glued `{` came before it (`{path}`).
 */

type ItemKind = 'word' | 'open' | 'close' | 'comment' | 'cont';

interface Item {
  kind: ItemKind;
  text: string;
  /** Newlines in the whitespace before the item. */
  nl: number;
  /** Whether spaces or tabs separated it from the previous item on the same line. */
  sp: boolean;
}

const SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
const isSpace = (ch: string | undefined): boolean => ch === undefined || SPACE.test(ch);
const HEREDOC_START = /^<<([A-Za-z0-9_-]+)\n/;
const HEREDOC_WORD = /^<<[A-Za-z0-9_-]+$/;
/** Caddy caps the rendered nesting so hostile input cannot blow up the output. */
const MAX_INDENT = 10;

/** End (exclusive) of the double-quoted string starting at i; EOF when unclosed. */
function quoteEnd(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === '"') return j + 1;
  }
  return text.length;
}

/** End (exclusive) of a heredoc starting at i, or -1 when `<<` does not open one. */
function heredocEnd(text: string, i: number): number {
  const m = HEREDOC_START.exec(text.slice(i, i + 256));
  if (!m) return -1;
  const bodyStart = i + m[0].length;
  const found = text.indexOf(m[1]!, bodyStart);
  return found < 0 ? text.length : found + m[1]!.length;
}

/** Cuts normalized text into items. */
function scan(text: string): Item[] {
  const items: Item[] = [];
  let nl = 0;
  let sp = false;
  let gluedOpens = 0; // glued `{` not yet matched: a glued `}` then closes them, not a block
  let word = '';
  // True where a new token may start: after whitespace, and after a structural
  // brace (the layout puts a line break there, so the next pass sees a token start too).
  let boundary = true;
  const push = (kind: ItemKind, t: string): void => {
    items.push({ kind, text: t, nl, sp });
    nl = 0;
    sp = false;
    boundary = kind === 'open' || kind === 'close' || kind === 'cont';
  };
  const flush = (): void => {
    if (word !== '') push('word', word);
    word = '';
  };
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    const tokenStart = word === '' && boundary;
    if (isSpace(ch)) {
      flush();
      if (ch === '\n') nl++;
      else sp = true;
      boundary = true;
      i++;
    } else if (ch === '\\' && (text[i + 1] === '\n' || (tokenStart && /^\\[^\S\n]*\n/.test(text.slice(i, i + 64))))) {
      flush();
      push('cont', '\\');
      i = text.indexOf('\n', i) + 1;
    } else if (ch === '\\') {
      word += text.slice(i, i + 2); // an escape pair, verbatim (also `\ `, so a word never ends in a lone `\`)
      boundary = false;
      i += 2;
    } else if (tokenStart && ch === '#') {
      const end = text.indexOf('\n', i);
      push('comment', text.slice(i, end < 0 ? text.length : end));
      i = end < 0 ? text.length : end;
    } else if (tokenStart && (ch === '"' || ch === '`')) {
      const end = ch === '"' ? quoteEnd(text, i) : text.indexOf('`', i + 1) + 1 || text.length;
      word += text.slice(i, end);
      boundary = false;
      i = end;
    } else if (tokenStart && ch === '<' && heredocEnd(text, i) > 0) {
      const end = heredocEnd(text, i);
      word += text.slice(i, end);
      boundary = false;
      i = end;
    } else if (ch === '{' && isSpace(text[i + 1])) {
      flush();
      push('open', '{');
      gluedOpens = 0;
      i++;
    } else if (ch === '}' && (tokenStart || gluedOpens === 0)) {
      flush();
      push('close', '}');
      gluedOpens = 0;
      i++;
    } else {
      if (ch === '{') gluedOpens++;
      else if (ch === '}') gluedOpens--;
      word += ch;
      boundary = false;
      i++;
    }
  }
  flush();
  return items;
}

/** Lays items out: indentation from braces, one space between tokens, at most one blank line. */
function layout(items: Item[]): string {
  let out = '';
  let nesting = 0;
  let prev: Item | undefined;
  let atLineStart = true;
  let hang = false; // the line continues a `\` line: indent one more level
  let lineFirst: Item | undefined;
  let guardSpace = false; // a bare `<<MARKER` word must not end its line, or it would open a heredoc
  const newline = (n: number): void => {
    if (guardSpace) out += ' ';
    guardSpace = false;
    out += '\n'.repeat(n);
    atLineStart = true;
  };
  const write = (it: Item, text: string): void => {
    if (atLineStart) {
      out += '\t'.repeat(Math.min(nesting, MAX_INDENT) + (hang ? 1 : 0));
      lineFirst = it;
    }
    out += text;
    atLineStart = false;
    guardSpace = it.kind === 'word' && HEREDOC_WORD.test(it.text);
  };
  /** Positions the cursor for a word, comment or continuation. */
  const place = (it: Item): void => {
    if (!prev) return;
    if (prev.kind === 'cont') {
      hang = it.nl === 0;
      if (it.nl > 0) newline(1);
      return;
    }
    hang = false;
    if (prev.kind === 'open') newline(1);
    else if (prev.kind === 'close' && it.nl === 0) newline(nesting === 0 ? 2 : 1);
    else if (it.nl > 0) newline(Math.min(it.nl, 2));
    else if (it.sp) out += ' ';
  };
  for (const it of items) {
    if (it.kind === 'open') {
      hang = false;
      if (!prev) {
        // first item: stays at the start of the file
      } else if (prev.kind === 'cont') {
        if (it.nl > 0) newline(1);
      } else if (prev.kind === 'comment' || prev.kind === 'open') {
        newline(1);
      } else if (prev.kind === 'close') {
        newline(nesting === 0 ? 2 : 1);
      } else if (nesting === 0 && it.nl > 0 && lineFirst?.kind === 'word' && lineFirst.text === 'import') {
        newline(Math.min(it.nl, 2)); // a global options block after a top-level import line
      } else if (!(prev.kind === 'word' && prev.text.endsWith('{'))) {
        out += ' '; // (a word ending in a glued `{` keeps the brace glued, or that `{` would turn structural)
      }
      write(it, '{');
      nesting++;
    } else if (it.kind === 'close') {
      hang = false;
      if (prev && !atLineStart) newline(1);
      nesting = Math.max(0, nesting - 1);
      write(it, '}');
    } else {
      place(it);
      write(it, it.kind === 'cont' ? '\\' : it.text);
      if (it.kind === 'cont') newline(1);
    }
    prev = it;
  }
  return out;
}

/**
 * Formats a Caddyfile like `caddy fmt`. Never throws; idempotent:
 * formatCaddyfile(formatCaddyfile(x)) === formatCaddyfile(x).
 */
export function formatCaddyfile(text: string): string {
  const normalized = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).replace(/\r\n/g, '\n').trim();
  return layout(scan(normalized)).trimEnd() + '\n';
}

/**
 * The 1-based line of the first character where `text` differs from its
 * formatted form (CRLF compared as LF), or undefined when it is formatted.
 * Used for the adapter's "input is not formatted" warning.
 */
export function firstUnformattedLine(text: string): number | undefined {
  const input = text.replace(/\r\n/g, '\n');
  const formatted = formatCaddyfile(input);
  if (formatted === input) return undefined;
  let line = 1;
  for (let i = 0; i < input.length && i < formatted.length && input[i] === formatted[i]; i++) {
    if (input[i] === '\n') line++;
  }
  return line;
}
