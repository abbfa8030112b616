/**
 * `import` expansion at the token level, as Caddy's doImport does: the import
 * statement (its line, plus a passed `{ … }` block) is spliced out of the token
 * stream and replaced by the snippet's or files' tokens, with `{args[…]}`,
 * `{block}` and `{blocks.NAME}` substituted. The parser then simply continues at
 * the cursor, so nested imports expand when the parser reaches them.
 */
import type { Span } from './ast.ts';
import type { ConfigError } from '../src/host/errors.ts';
import type { Env } from './env.ts';
import { tokenize } from './lexer.ts';
import {
  blockMapping, type FileAccess, type ImportGraph, type PTok, readImport, resolveFiles, substituteArgs, trimEols,
} from './imports.ts';
import type { TokenStream } from './stream.ts';

/** A snippet definition: where it was written and its tokens (without the braces). */
export interface Snippet {
  file: string;
  tokens: PTok[];
}

/** What expandImport needs from the parser. */
export interface ImportHost {
  stream: TokenStream;
  snippets: Map<string, Snippet>;
  graph: ImportGraph;
  access: FileAccess;
  env: Env;
  /** Records an ERR_CFG_IMPORT / ERR_CFG_SYNTAX error. */
  fail(span: Span, detail: string, opts?: { syntax?: boolean; expected?: string }): void;
  /** Records lexer errors of an imported file. */
  addErrors(errors: ConfigError[]): void;
  /** Tokens imports have added so far in this parse (bounded by MAX_EXPANDED_TOKENS). */
  expanded: number;
  /** Reports the input ending inside the block opened at `open` (once per parse). */
  unexpectedEof(open: Span): void;
  warn(span: Span, message: string): void;
}

/** Guards against runaway expansion that the cycle graph would not catch. */
const MAX_IMPORT_DEPTH = 64;
/**
 * Most tokens all imports and snippets of one parse may add. Without a cycle,
 * a snippet that imports another twice, nested n deep, still expands to 2^n
 * copies; real configs stay far below this.
 */
export const MAX_EXPANDED_TOKENS = 200_000;

function eolAt(t: PTok): PTok {
  return { ...t, kind: 'eol', text: '', quote: '' };
}

function isBlockPlaceholder(t: PTok): boolean {
  return t.kind === 'word' && (t.text === '{block}' || (t.text.startsWith('{blocks.') && t.text.endsWith('}')));
}

/** Offset (from the cursor) of the `}` matching the `{` at offset `open`, or -1. */
function matchingCloseAhead(s: TokenStream, open: number): number {
  let depth = 0;
  for (let k = open; ; k++) {
    const t = s.peek(k);
    if (!t) return -1;
    if (t.kind === 'open') depth++;
    else if (t.kind === 'close' && --depth === 0) return k;
  }
}

/**
 * Expands the import statement whose `import` token is under the cursor.
 * `nesting` is 0 for an import in key position (where imported snippet
 * definitions keep their placeholders, Caddy's heuristic) and 1 inside blocks.
 * On error the statement is removed and the error recorded, so parsing
 * continues either way; the cursor stays on the first expanded token.
 */
export function expandImport(h: ImportHost, nesting: number): void {
  const s = h.stream;
  const imp = s.peek()!;
  let i = 1;
  const args: PTok[] = [];
  while (s.peek(i)?.kind === 'word') args.push(s.peek(i++)!);
  let end = i;
  let block: PTok[] = [];
  if (s.peek(i)?.kind === 'open') {
    const close = matchingCloseAhead(s, i);
    if (close < 0) {
      h.unexpectedEof(s.peek(i)!.span);
      s.replace(Infinity, []);
      return;
    }
    for (let k = i + 1; k < close; k++) block.push(s.peek(k)!);
    block = trimEols(block);
    end = close + 1;
  }
  const replace = (tokens: PTok[]): void => s.replace(end, tokens);
  const abort = (span: Span, detail: string): void => {
    h.fail(span, detail);
    replace([]);
  };
  // Past the expansion bound (reported once), remaining imports are dropped quietly.
  if (h.expanded > MAX_EXPANDED_TOKENS) return replace([]);
  const pattern = args[0];
  if (!pattern) return abort(imp.span, "wrong argument count or unexpected line ending after 'import'");
  if (pattern.text === '') return abort(pattern.span, 'Import requires a non-empty filepath');
  if ((imp.span.imports?.length ?? 0) >= MAX_IMPORT_DEPTH) {
    return abort(imp.span, `imports are nested more than ${MAX_IMPORT_DEPTH} levels deep`);
  }
  const { map, anonymous } = blockMapping(block);
  if (anonymous) return abort(anonymous.span, 'anonymous blocks are not supported');

  const chain = [...(imp.span.imports ?? []), `${imp.span.file}:${imp.span.line} (import ${pattern.text})`];
  let imported: PTok[] = [];
  const nodes: string[] = [];
  const snippet = h.snippets.get(pattern.text);
  if (snippet) {
    imported = snippet.tokens;
    if (imported.length) nodes.push(`${snippet.file}:${pattern.text}`);
  } else {
    const found = resolveFiles(pattern.text, imp.span.file, h.access);
    if (found.error) return abort(pattern.span, found.error);
    if (found.warning) h.warn(pattern.span, found.warning);
    for (const path of found.paths) {
      const read = readImport(path, pattern.text, found.literal, h.access);
      if (read.error !== undefined) return abort(pattern.span, read.error);
      nodes.push(path);
      if (read.text!.trim() === '') { h.warn(pattern.span, `Import file is empty: ${path}`); continue; }
      const lexed = tokenize(read.text!, { file: path, env: h.env, imports: chain });
      h.addErrors(lexed.errors);
      if (imported.length) imported.push(eolAt(imp));
      imported.push(...lexed.tokens);
    }
  }

  const from = imp.snippet ? `${imp.span.file}:${imp.snippet}` : imp.span.file;
  for (const to of nodes) {
    const cycle = h.graph.addEdge(from, to);
    if (cycle) return abort(imp.span, cycle);
  }
  const out = substituteAll(h, imported, { chain, args: args.slice(1), block, map, nesting });
  if (h.expanded + out.length > MAX_EXPANDED_TOKENS) {
    h.expanded = MAX_EXPANDED_TOKENS + 1;
    return abort(imp.span, `imports and snippets expand to more than ${MAX_EXPANDED_TOKENS} tokens (import ${pattern.text})`);
  }
  h.expanded += out.length;
  replace(out);
}

interface Substitution {
  chain: string[];
  args: PTok[];
  block: PTok[];
  map: Map<string, PTok[]>;
  nesting: number;
}

/**
 * Stamps the import chain on every imported token and substitutes args and
 * blocks, except inside a snippet definition `(name) {` met at top level: its
 * placeholders belong to that snippet's own future imports.
 */
function substituteAll(h: ImportHost, imported: PTok[], s: Substitution): PTok[] {
  const out: PTok[] = [];
  let depth = s.nesting;
  let inDefinition = false;
  let maybeName = false;
  let index = 0;
  let lineStart = true;
  for (const t of imported) {
    if (t.kind === 'eol') { out.push(t); lineStart = true; continue; }
    const tok: PTok = { ...t, span: { ...t.span, imports: s.chain } };
    if (!inDefinition && depth === 0) {
      index = lineStart ? 0 : index + 1;
      if (lineStart) maybeName = tok.text.length >= 3 && tok.text.startsWith('(') && tok.text.endsWith(')');
    }
    lineStart = false;
    if (tok.kind === 'open') {
      depth++;
      if (index === 1 && maybeName && depth === 1) { inDefinition = true; maybeName = false; }
    } else if (tok.kind === 'close') {
      depth--;
      if (depth === 0) inDefinition = false;
    }
    if (inDefinition) { out.push(tok); continue; }
    if (isBlockPlaceholder(tok)) {
      const add = tok.text === '{block}' ? s.block : (s.map.get(tok.text.slice('{blocks.'.length, -1)) ?? []);
      if (add.length) out.push(eolAt(tok), ...add, eolAt(tok));
      continue;
    }
    out.push(...substituteArgs(tok, s.args, (m) => h.warn(tok.span, m)));
  }
  return out;
}
