/**
 * The pieces of `import` (caddy.md §2.5) that do not touch the parser's cursor:
 * the cycle graph, globbing, reading files, `{args[…]}` substitution and the
 * `{blocks.NAME}` mapping of a passed block.
 */
import { closeSync, constants, existsSync, fstatSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import type { LexToken } from './lexer.ts';

/** A parser token; `snippet` names the snippet it was defined in, for cycle detection. */
export interface PTok extends LexToken {
  snippet?: string;
}

/** How imports reach files. Both functions are injectable so tests can use a temp dir or memory. */
export interface FileAccess {
  /**
   * Returns the file's text. Throw an error with code 'ENOENT' (missing),
   * 'EISDIR' (a directory), 'ENOTREG' (a device, FIFO or socket) or 'EFBIG' (over MAX_IMPORT_BYTES).
   */
  readFile: (path: string) => string;
  /** Paths matching a pattern with at most one `*` and one `?`, sorted. */
  glob: (pattern: string) => string[];
}

/**
 * Caddy's import graph: an edge per import, and an import that would close a
 * loop is refused with `a cycle of imports exists between FROM and TO`.
 */
export class ImportGraph {
  #edges = new Map<string, Set<string>>();

  /** Adds from→to, or returns the cycle message. */
  addEdge(from: string, to: string): string | undefined {
    if (this.#reaches(to, from)) return `a cycle of imports exists between ${from} and ${to}`;
    let set = this.#edges.get(from);
    if (!set) this.#edges.set(from, (set = new Set()));
    set.add(to);
    return undefined;
  }

  /** Whether `target` is reachable from the successors of `start` (Caddy's willCycle). */
  #reaches(start: string, target: string): boolean {
    const seen = new Set<string>();
    const stack = [...(this.#edges.get(start) ?? [])];
    while (stack.length) {
      const node = stack.pop()!;
      if (node === target) return true;
      if (seen.has(node)) continue;
      seen.add(node);
      stack.push(...(this.#edges.get(node) ?? []));
    }
    return false;
  }
}

function wildcardRegExp(segment: string): RegExp {
  const body = segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

/** Go-style filepath.Glob for `*` and `?` (they never cross `/`; dotfiles match). */
export function globFiles(pattern: string): string[] {
  const absolute = pattern.startsWith('/');
  const segments = pattern.split('/').filter((s) => s !== '');
  let paths = [absolute ? '/' : ''];
  for (const seg of segments) {
    const next: string[] = [];
    for (const base of paths) {
      const child = (name: string): string => (base === '' ? name : base.endsWith('/') ? base + name : `${base}/${name}`);
      if (!/[*?]/.test(seg)) { next.push(child(seg)); continue; }
      let names: string[];
      try { names = readdirSync(base === '' ? '.' : base).sort(); } catch { continue; }
      const re = wildcardRegExp(seg);
      for (const name of names) if (re.test(name)) next.push(child(name));
    }
    paths = next;
  }
  return paths.filter((p) => existsSync(p)).sort();
}

/** Largest file `import` reads. */
export const MAX_IMPORT_BYTES = 16 << 20;

function fileError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * Reads an imported file, refusing what is not a regular file: opened
 * non-blocking (a FIFO must not hang the parse), then checked on the open
 * descriptor (no swap between check and read), and bounded in size (a
 * device like /dev/zero, or a huge file, must not exhaust memory).
 */
export function readRegularFile(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw fileError('EISDIR', 'is a directory');
    if (!st.isFile()) throw fileError('ENOTREG', 'not a regular file (a device, FIFO or socket)');
    if (st.size > MAX_IMPORT_BYTES) throw fileError('EFBIG', `larger than ${MAX_IMPORT_BYTES} bytes`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** The default file access: the real file system. */
export const diskAccess: FileAccess = {
  readFile: readRegularFile,
  glob: globFiles,
};

/** Where a file import points, resolved against the importing file's directory. */
export function importPattern(pattern: string, fromFile: string): string {
  return isAbsolute(pattern) ? pattern : join(dirname(fromFile), pattern);
}

/** The outcome of resolving a file pattern: paths to read, or an error, plus warnings. */
export interface Resolved {
  paths: string[];
  /** True when the pattern has no wildcard (a missing file is then an error, not a warning). */
  literal: boolean;
  error?: string;
  warning?: string;
}

/** Expands a file pattern as Caddy does (bounded glob, dotfile skipping, not-found rules). */
export function resolveFiles(pattern: string, fromFile: string, access: FileAccess): Resolved {
  const full = importPattern(pattern, fromFile);
  const count = (c: string): number => full.split(c).length - 1;
  if (count('*') > 1 || count('?') > 1 || (full.includes('[') && full.includes(']'))) {
    return { paths: [], literal: false, error: `Glob pattern may only contain one wildcard (*), but has others: ${full}` };
  }
  if (!/[*?[]/.test(full)) return { paths: [full], literal: true };
  let paths = access.glob(full);
  if (paths.length === 0) return { paths, literal: false, warning: `No files matching import glob pattern: ${pattern}` };
  // a last segment starting with `*` skips dotfiles (caddy#5295)
  if (basename(full).startsWith('*')) paths = paths.filter((p) => !basename(p).startsWith('.'));
  return { paths, literal: false };
}

/** Reads one import; errors use Caddy's wording. `literal` means no wildcard was involved. */
export function readImport(path: string, pattern: string, literal: boolean, access: FileAccess): { text?: string; error?: string } {
  try {
    return { text: access.readFile(path) };
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' && literal) return { error: `File to import not found: ${pattern}` };
    if (code === 'EISDIR') return { error: `Could not import ${path}: is a directory` };
    if (code === 'ENOTREG' || code === 'EFBIG') return { error: `Could not import ${path}: ${(e as Error).message}` };
    return { error: `Could not import ${path}: ${(e as Error).message}` };
  }
}

/** Parses `{args[i:j]}` (a whole token); undefined when the token is not a usable variadic. */
function variadicRange(text: string, argCount: number, warn: (m: string) => void): [number, number] | undefined {
  if (!text.startsWith('{args[') || !text.endsWith(']}')) return undefined;
  const range = text.slice(6, -2);
  const colon = range.indexOf(':');
  if (colon < 0) return undefined;
  const start = range.slice(0, colon);
  const end = range.slice(colon + 1);
  if (start.includes('}') || end.includes('{')) return undefined;
  const from = start === '' ? 0 : Number(start);
  const to = end === '' ? argCount : Number(end);
  if (!Number.isInteger(from) || !Number.isInteger(to)) {
    warn(`Variadic placeholder ${text} has an invalid ${Number.isInteger(from) ? 'end' : 'start'} index`);
    return undefined;
  }
  if (from < 0 || from > to || to > argCount) {
    warn(`Variadic placeholder ${text} indices are out of bounds, only ${argCount} argument(s) exist`);
    return undefined;
  }
  return [from, to];
}

/** Replaces `{args[N]}` / `{args.N}` inside one token's text; other placeholders stay. */
function replaceArgs(text: string, args: string[], warn: (m: string) => void): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('{', i);
    if (open < 0) break;
    if (open > 0 && text[open - 1] === '\\') { out += text.slice(i, open + 1); i = open + 1; continue; }
    const close = text.indexOf('}', open);
    if (close < 0) break;
    const key = text.slice(open + 1, close);
    const m = /^args\[(.+)\]$/.exec(key) ?? /^args\.(.+)$/.exec(key);
    let value: string | undefined;
    if (m) {
      const deprecated = key.startsWith('args.');
      const shown = deprecated ? `{args.${m[1]}}` : `{args[${m[1]}]}`;
      const n = Number(m[1]);
      if (!deprecated && m[1]!.includes(':')) warn(`Variadic placeholder ${shown} must be a token on its own`);
      else if (!/^\d+$/.test(m[1]!)) warn(`Placeholder ${shown} has an invalid index`);
      else if (n >= args.length) warn(`Placeholder ${shown} index is out of bounds, only ${args.length} argument(s) exist`);
      else {
        value = args[n];
        if (deprecated) warn(`Placeholder ${shown} deprecated, use {args[${m[1]}]} instead`);
      }
    }
    out += text.slice(i, open) + (value ?? text.slice(open, close + 1));
    i = close + 1;
  }
  return out + text.slice(i);
}

/** Substitutes import arguments into one token; a variadic placeholder becomes several tokens. */
export function substituteArgs(tok: PTok, args: PTok[], warn: (m: string) => void): PTok[] {
  if (tok.kind !== 'word') return [tok];
  const range = variadicRange(tok.text, args.length, warn);
  if (range) return args.slice(range[0], range[1]).map((a) => ({ ...tok, text: a.text, quote: a.quote }));
  const text = replaceArgs(tok.text, args.map((a) => a.text), warn);
  return text === tok.text ? [tok] : [{ ...tok, text }];
}

/** Drops `eol` tokens at both ends. */
export function trimEols(toks: PTok[]): PTok[] {
  let a = 0;
  let b = toks.length;
  while (a < b && toks[a]!.kind === 'eol') a++;
  while (b > a && toks[b - 1]!.kind === 'eol') b--;
  return toks.slice(a, b);
}

/** Index of the close brace matching the open brace at `open`, or -1. */
export function matchingClose(toks: PTok[], open: number): number {
  let depth = 0;
  for (let i = open; i < toks.length; i++) {
    const k = toks[i]!.kind;
    if (k === 'open') depth++;
    else if (k === 'close' && --depth === 0) return i;
  }
  return -1;
}

/**
 * The `{blocks.NAME}` table of a passed block: each line `NAME args… [{ … }]`
 * maps NAME to its args plus the contents of its sub-block. An entry that starts
 * with `{` is an anonymous block, which Caddy refuses.
 */
export function blockMapping(block: PTok[]): { map: Map<string, PTok[]>; anonymous?: PTok } {
  const map = new Map<string, PTok[]>();
  let i = 0;
  while (i < block.length) {
    const key = block[i]!;
    if (key.kind === 'eol') { i++; continue; }
    if (key.kind === 'open') return { map, anonymous: key };
    const value: PTok[] = [];
    i++;
    while (i < block.length && block[i]!.kind !== 'eol' && block[i]!.kind !== 'open') value.push(block[i++]!);
    if (block[i]?.kind === 'open') {
      const close = matchingClose(block, i);
      const end = close < 0 ? block.length : close;
      const inner = trimEols(block.slice(i + 1, end));
      if (inner.length) value.push({ ...block[i]!, kind: 'eol', text: '', quote: '' }, ...inner);
      i = end + 1;
    }
    map.set(key.text, value);
  }
  return { map };
}
