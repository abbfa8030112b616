/**
 * Recursive descent over the lexer's token vector, building the tree of ast.ts
 * (caddy.md §2). It knows no directive names: only keys, blocks, lines, braces,
 * snippets, named routes and `import`. Caddy stops at the first error; this
 * parser records the error, recovers the way the author most likely meant
 * (a misplaced brace still opens or closes its block) and carries on, so one
 * run reports every error in the file.
 */
import type { Caddyfile, Directive, ServerBlock, Span, Token } from './ast.ts';
import { formatSpan } from './ast.ts';
import { ConfigError } from '../src/host/errors.ts';
import type { Env } from './env.ts';
import { expandImport, type ImportHost, type Snippet } from './expand.ts';
import { type FileAccess, ImportGraph, type PTok, trimEols } from './imports.ts';
import { TokenStream } from './stream.ts';

/** A non-fatal finding (empty import, glob without matches, bad `{args[N]}`). */
export interface ParseWarning {
  span: Span;
  message: string;
}

const NEW_LINE_BRACE = "Unexpected '{' on a new line; did you mean to place the '{' on the previous line?";
const STRAY_CLOSE = "Unexpected '}' because no matching opening brace";
const GLOBAL_NOT_FIRST = 'server block without any key is global configuration, and if used, it must be first';
const GLOBAL_AFTER_IMPORT =
  'global options block must appear before import directives; move the global options block to the top of the Caddyfile';

/** How the key line of a block ended. 'glued' = a key like `site{` stood for key + brace. */
type KeyStop = 'open' | 'glued' | 'eol' | 'eof';

const isParenKey = (text: string): boolean => /^\(.*\)$/s.test(text);

/** The AST keeps plain tokens, without the parser's bookkeeping fields. */
function plain(t: PTok): Token {
  return { text: t.text, quote: t.quote, span: t.span };
}

/** One parse of one Caddyfile (plus whatever it imports). */
/** Deepest block nesting accepted (real configs nest a handful of levels). */
export const MAX_NESTING = 64;

export class Parser implements ImportHost {
  readonly stream: TokenStream;
  readonly snippets = new Map<string, Snippet>();
  readonly graph = new ImportGraph();
  readonly errors: ConfigError[] = [];
  readonly warnings: ParseWarning[] = [];
  readonly access: FileAccess;
  readonly env: Env;
  #namedRoutes: Record<string, ServerBlock> = {};
  #eofReported = false;
  /** Tokens added by imports (ImportHost). */
  expanded = 0;
  /** Blocks open around the cursor; bounded by MAX_NESTING. */
  #depth = 0;

  constructor(tokens: PTok[], access: FileAccess, env: Env) {
    this.stream = new TokenStream(tokens);
    this.access = access;
    this.env = env;
  }

  /** Records an error: ERR_CFG_IMPORT, or ERR_CFG_SYNTAX with `syntax`. */
  fail(span: Span, detail: string, opts: { syntax?: boolean; expected?: string } = {}): void {
    this.errors.push(new ConfigError(opts.syntax ? 'ERR_CFG_SYNTAX' : 'ERR_CFG_IMPORT', span, detail, { expected: opts.expected }));
  }

  /** Records errors found while lexing an imported file. */
  addErrors(errors: ConfigError[]): void {
    this.errors.push(...errors);
  }

  /** Records a warning (Caddy only logs these). */
  warn(span: Span, message: string): void {
    this.warnings.push({ span, message });
  }

  #syntax(span: Span, detail: string, expected?: string): void {
    this.fail(span, detail, { syntax: true, expected });
  }

  get #cur(): PTok | undefined {
    return this.stream.peek();
  }

  #skipEols(): void {
    while (this.#cur?.kind === 'eol') this.stream.next();
  }

  /** `import` is only special as the first token of a line. */
  #atImport(): boolean {
    const t = this.#cur;
    return t !== undefined && t.kind === 'word' && t.text === 'import' && this.stream.atLineStart;
  }

  /** Reported once, at the last token of the input (Caddy's EOFErr), naming the innermost open block. */
  unexpectedEof(open: Span): void {
    if (this.#eofReported) return;
    this.#eofReported = true;
    const last = this.stream.lastReal();
    this.#syntax(last?.span ?? open, 'unexpected EOF', `'}' to close the block opened at ${formatSpan(open)}`);
  }

  /** Parses the whole token vector. */
  parse(): Caddyfile {
    const blocks: ServerBlock[] = [];
    for (;;) {
      this.#skipEols();
      if (!this.#cur) break;
      const block = this.#serverBlock();
      // Caddy keeps a block only if it has keys or directives (an empty `{ }` vanishes)
      if (!block || (block.keys.length === 0 && block.body.length === 0)) continue;
      if (block.keys.length === 0 && blocks.length > 0) this.#syntax(block.span, GLOBAL_NOT_FIRST);
      blocks.push(block);
    }
    return { blocks, namedRoutes: this.#namedRoutes };
  }

  /** A server block, global options block, snippet or named route (the last two return null). */
  #serverBlock(): ServerBlock | null {
    const errorsBefore = this.errors.length;
    const { keys, stop, glued } = this.#keys();
    // every key was rejected: not a global options block, just skip its body quietly
    const keysFailed = keys.length === 0 && this.errors.length > errorsBefore;
    const only = keys.length === 1 ? keys[0]!.text : '';
    const snippet = isParenKey(only) ? only.slice(1, -1) : undefined;
    const route = only.startsWith('&') && isParenKey(only.slice(1)) ? only.slice(2, -1) : undefined;
    if (stop === 'eol') this.#skipEols();
    const next = this.#cur;
    if (stop !== 'open' && stop !== 'glued' && next?.kind !== 'open') {
      if (keys.length && keys.every((k) => isParenKey(k.text)) && next?.kind === 'word' && next.text === 'import') {
        this.#syntax(next.span, GLOBAL_AFTER_IMPORT);
        return null;
      }
      if (snippet !== undefined || route !== undefined) {
        const found = next ? `token '${next.text}'` : 'EOF';
        this.#syntax(next?.span ?? keys[0]!.span, `syntax error: unexpected ${found}, expecting '{'`);
        return null;
      }
      if (keys.length === 0) return null;
      const body = stop === 'eof' ? [] : this.#body(null, false).body;
      return { keys: keys.map(plain), body, span: keys[0]!.span, braceless: true };
    }
    let openSpan = glued;
    if (!openSpan) {
      openSpan = next!.span;
      this.stream.next();
    }
    if (snippet !== undefined) {
      this.#snippet(snippet, keys[0]!, openSpan);
      return null;
    }
    const { body } = this.#body(openSpan, false);
    if (keysFailed) return null;
    if (route !== undefined) {
      if (route in this.#namedRoutes) this.#syntax(keys[0]!.span, `cannot have duplicate named_routes: ${route}`);
      else this.#namedRoutes[route] = { keys: [{ ...plain(keys[0]!), text: route }], body, span: keys[0]!.span };
      return null;
    }
    return { keys: keys.map(plain), body, span: keys[0]?.span ?? openSpan };
  }

  /** The keys of a block (caddy.md §2.1): space/comma separated, a trailing comma continues the line. */
  #keys(): { keys: PTok[]; stop: KeyStop; glued?: Span } {
    const keys: PTok[] = [];
    let expecting = false;
    for (;;) {
      const t = this.#cur;
      if (!t) {
        const last = keys[keys.length - 1] ?? this.stream.lastReal();
        if (expecting && last) this.#syntax(last.span, 'unexpected EOF', 'another site address after the trailing comma');
        return { keys, stop: 'eof' };
      }
      if (t.kind === 'eol') {
        if (!expecting) return { keys, stop: 'eol' };
        this.stream.next();
        continue;
      }
      if (this.#atImport()) {
        expandImport(this, 0);
        continue;
      }
      if (t.kind === 'open') {
        if (expecting) this.#syntax(t.span, "Expected another address but had '{' - check for extra comma");
        return { keys, stop: 'open' };
      }
      this.stream.next();
      if (t.kind === 'close') {
        this.#syntax(t.span, STRAY_CLOSE);
      } else if (t.text.startsWith('@')) {
        this.#syntax(t.span, `request matchers may not be defined globally, they must be in a site block; found ${t.text}`);
      } else if (t.text.endsWith('{')) {
        this.#syntax(t.span, `Site addresses cannot end with a curly brace: '${t.text}' - put a space between the token and the brace`);
        if (t.text.length > 1) keys.push({ ...t, text: t.text.slice(0, -1) });
        return { keys, stop: 'glued', glued: t.span };
      } else if (t.text !== '') {
        expecting = t.text.endsWith(',');
        const text = expecting ? t.text.slice(0, -1) : t.text;
        if (text.includes(',')) {
          this.#syntax(t.span, `Site addresses cannot contain a comma ',': '${text}' - put a space after the comma to separate site addresses`);
        }
        for (const part of text.split(',')) if (part !== '') keys.push({ ...t, text: part });
      }
    }
  }

  /**
   * The lines of a block up to its `}` (or to EOF for a braceless site, open = null).
   * `inline` = the `{` had tokens after it on its line; a `}` on that same line then
   * closes the block without a second error.
   */
  #body(open: Span | null, inline: boolean): { body: Directive[]; end?: Span } {
    if (open && this.#depth >= MAX_NESTING) return this.#tooDeep(open);
    this.#depth++;
    try {
      return this.#lines(open, inline);
    } finally {
      this.#depth--;
    }
  }

  /**
   * A block nested deeper than MAX_NESTING: one error at its `{`, then its
   * tokens are skipped without recursion (a hostile file cannot exhaust the stack).
   */
  #tooDeep(open: Span): { body: Directive[]; end?: Span } {
    this.#syntax(open, `blocks are nested more than ${MAX_NESTING} levels deep`, `at most ${MAX_NESTING} nested blocks`);
    let depth = 1;
    for (let t = this.stream.next(); t; t = this.stream.next()) {
      if (t.kind === 'open') depth++;
      else if (t.kind === 'close' && --depth === 0) return { body: [], end: t.span };
    }
    this.unexpectedEof(open);
    return { body: [] };
  }

  #lines(open: Span | null, inline: boolean): { body: Directive[]; end?: Span } {
    const body: Directive[] = [];
    let first = true;
    for (;;) {
      this.#skipEols();
      const t = this.#cur;
      if (!t) {
        if (open) this.unexpectedEof(open);
        return { body };
      }
      if (t.kind === 'close') {
        this.stream.next();
        if (open) return { body, end: t.span };
        this.#syntax(t.span, STRAY_CLOSE);
        continue;
      }
      if (this.#atImport()) {
        expandImport(this, 1);
        continue;
      }
      if (t.kind === 'open') {
        // an anonymous block: report it, parse it to stay in step, drop it
        this.#syntax(t.span, NEW_LINE_BRACE);
        this.stream.next();
        this.#body(t.span, false);
        continue;
      }
      body.push(this.#directive(open !== null, inline && first));
      first = false;
    }
  }

  /** One directive line: name, args, and an optional block opened by a trailing `{`. */
  #directive(inBlock: boolean, closeOk: boolean): Directive {
    const name = this.stream.next()!;
    const args: PTok[] = [];
    for (;;) {
      const t = this.#cur;
      if (!t || t.kind === 'eol') {
        let j = 0;
        while (this.stream.peek(j)?.kind === 'eol') j++;
        const brace = this.stream.peek(j);
        if (brace?.kind !== 'open') return { name: plain(name), args: args.map(plain), block: null };
        // `dir` ⏎ `{`: almost certainly meant as this directive's block
        this.#syntax(brace.span, NEW_LINE_BRACE);
        for (; j >= 0; j--) this.stream.next();
        return this.#withBlock(name, args, brace, inBlock, false);
      }
      if (t.kind === 'open') {
        this.stream.next();
        const after = this.#cur;
        const inline = after !== undefined && after.kind !== 'eol';
        if (inline) this.#syntax(t.span, "Unexpected next token after '{' on same line");
        return this.#withBlock(name, args, t, inBlock, inline);
      }
      if (t.kind === 'close') {
        if (!closeOk) this.#syntax(t.span, STRAY_CLOSE);
        if (inBlock) return { name: plain(name), args: args.map(plain), block: null }; // let it close the block
        this.stream.next();
        continue;
      }
      const next = this.stream.peek(1);
      if (t.text === '{}' && t.quote === '' && (!next || next.kind === 'eol')) {
        this.#syntax(t.span, "Unexpected '{}' at end of line", `"{}" in quotes for a literal {}`);
      }
      args.push(t);
      this.stream.next();
    }
  }

  #withBlock(name: PTok, args: PTok[], open: PTok, inBlock: boolean, inline: boolean): Directive {
    const { body, end } = this.#body(open.span, inline);
    const node: Directive = { name: plain(name), args: args.map(plain), block: body };
    if (end) node.end = end;
    const t = this.#cur;
    if (end && t && t.kind !== 'eol') {
      if (t.kind === 'close') {
        this.#syntax(t.span, STRAY_CLOSE);
        if (!inBlock) this.stream.next();
      } else {
        this.#syntax(t.span, "Unexpected next token after '}' on same line");
        while (this.#cur?.kind === 'word') this.stream.next();
      }
    }
    return node;
  }

  /** Stores a snippet's raw tokens; imports inside it expand only when it is imported. */
  #snippet(name: string, key: PTok, open: Span): void {
    const tokens: PTok[] = [];
    let depth = 1;
    for (let t = this.#cur; t; t = this.#cur) {
      if (t.kind === 'open') depth++;
      else if (t.kind === 'close' && --depth === 0) break;
      tokens.push(this.stream.next()!);
    }
    if (this.#cur) this.stream.next();
    else this.unexpectedEof(open);
    if (this.snippets.has(name)) {
      this.#syntax(key.span, `redeclaration of previously declared snippet ${name}`);
      return;
    }
    this.snippets.set(name, { file: key.span.file, tokens: trimEols(tokens).map((t) => ({ ...t, snippet: name })) });
  }
}
