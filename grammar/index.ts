/**
 * The public face of grammar/: parse a Caddyfile into the tree of ast.ts with
 * every syntax error at once, and format one the way `caddy fmt` does.
 *
 * Pipeline (caddy.md §1.1): drop BOM → `{$VAR}` substitution → Chevrotain lexer
 * (one shared instance, tokens.ts) → recursive-descent parser that expands
 * snippets and imports at the token level (parser.ts, expand.ts).
 */
import type { Caddyfile } from './ast.ts';
import type { ConfigError } from '../src/host/errors.ts';
import type { Env } from './env.ts';
import { diskAccess } from './imports.ts';
import { tokenize } from './lexer.ts';
import { Parser, type ParseWarning } from './parser.ts';

export { formatCaddyfile, firstUnformattedLine } from './format.ts';
export { substituteEnv } from './env.ts';
export type { Env } from './env.ts';
export type { ParseWarning } from './parser.ts';

export interface ParseOptions {
  /** Name used in spans and as the base directory of relative imports. */
  file: string;
  /** Variables for `{$VAR}`; defaults to process.env. */
  env?: Env;
  /** Reads an imported file. Throw an error with code 'ENOENT' or 'EISDIR' as fs does. Defaults to fs. */
  readFile?: (path: string) => string;
  /** Lists the paths matching an import glob (one `*`, one `?` at most), sorted. Defaults to the file system. */
  glob?: (pattern: string) => string[];
}

export interface ParseResult {
  file: Caddyfile;
  /** Every error found, in file order; the tree is partial when this is not empty. */
  errors: ConfigError[];
  /** Non-fatal findings Caddy only logs (empty import, glob without matches, bad `{args[N]}`). */
  warnings: ParseWarning[];
}

/** Where an error surfaces in the top file: the first import of its chain, or its own position. */
function topPosition(e: ConfigError, file: string): [number, number] {
  const s = e.span;
  if (!s) return [Infinity, 0];
  const via = s.imports?.[0] ? /:(\d+) \(import /.exec(s.imports[0]) : null;
  if (via) return [Number(via[1]), Infinity];
  return s.file === file ? [s.line, s.column] : [Infinity, 0];
}

/**
 * Parses a Caddyfile. Never throws on bad input: errors come back as
 * ConfigErrors rendered `file:line:col: what was wrong; expected …`.
 */
export function parseCaddyfile(text: string, opts: ParseOptions): ParseResult {
  const env = opts.env ?? process.env;
  const lexed = tokenize(text, { file: opts.file, env });
  const parser = new Parser(lexed.tokens, {
    readFile: opts.readFile ?? diskAccess.readFile,
    glob: opts.glob ?? diskAccess.glob,
  }, env);
  const file = parser.parse();
  const errors = [...lexed.errors, ...parser.errors]
    .map((e, i) => ({ e, i, at: topPosition(e, opts.file) }))
    .sort((a, b) => a.at[0] - b.at[0] || a.at[1] - b.at[1] || a.i - b.i)
    .map((x) => x.e);
  return { file, errors, warnings: parser.warnings };
}
