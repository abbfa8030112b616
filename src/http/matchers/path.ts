/**
 * `http.matchers.path` and `http.matchers.path_regexp` (caddy.md §3.4).
 * Path patterns match the cleaned, unescaped path case-insensitively: exact
 * unless `*` is used: `/foo*` is a prefix, `*.php` a suffix, a pattern with `*` at
 * both ends (only) a substring, anything else a glob (Go's path.Match: `*` stays within a segment).
 * Patterns containing `%` compare against the escaped path instead.
 * Patterns are compiled once; those with placeholders are compiled per request.
 */
import type { HttpContext, RequestMatcher } from '../handler.ts';
import { requestPath } from '../context.ts';
import { setPlaceholder } from '../replacer.ts';
import { goRegExp } from '../regexp.ts';
import { ConfigError } from '../../host/errors.ts';

/** Go path.Clean, keeping a trailing slash; merges `//` unless merge is false. */
export function cleanPath(p: string, merge = true): string {
  if (!merge) {
    const marked = p.replace(/\/\//g, '/\u0000/').replace(/\/\//g, '/\u0000/');
    return cleanPath(marked, true).replaceAll('\u0000', '');
  }
  const trailing = p.endsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop(); else out.push(seg);
  }
  const cleaned = '/' + out.join('/');
  return trailing && cleaned !== '/' ? cleaned + '/' : cleaned;
}

/** Go path.Match glob → anchored RegExp. */
export function globToRegExp(glob: string, flags = ''): RegExp {
  let re = '^';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '\\' && i + 1 < glob.length) re += '\\' + glob[++i];
    else if (ch === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) { re += '\\['; continue; }
      let cls = glob.slice(i + 1, end);
      if (cls.startsWith('^')) cls = '^' + cls.slice(1).replace(/\\?\]/g, '\\]');
      re += '[' + cls.replace(/\//g, '') + ']';
      i = end;
    } else re += ch.replace(/[.+^${}()|\]\\]/g, '\\$&');
  }
  return new RegExp(re + '$', flags);
}

type Test = (path: string, escaped: string) => boolean;

function compilePattern(pattern: string): { test: Test; merge: boolean } | 'all' {
  if (pattern === '*') return 'all';
  const merge = !pattern.includes('//');
  if (pattern.includes('%')) {
    const re = globToRegExp(pattern, 'i');
    return { merge, test: (_p, escaped) => re.test(escaped) };
  }
  const stars = pattern.split('*').length - 1;
  if (stars === 2 && pattern.startsWith('*') && pattern.endsWith('*') && pattern.length >= 2) {
    const core = pattern.slice(1, -1);
    return { merge, test: (p) => p.includes(core) };
  }
  if (stars === 1 && pattern.startsWith('*')) { const s = pattern.slice(1); return { merge, test: (p) => p.endsWith(s) }; }
  if (stars === 1 && pattern.endsWith('*')) { const s = pattern.slice(0, -1); return { merge, test: (p) => p.startsWith(s) }; }
  if (!/[*?[\\]/.test(pattern)) return { merge, test: (p) => p === pattern };
  const re = globToRegExp(pattern);
  return { merge, test: (p) => re.test(p) };
}

export class PathMatcher implements RequestMatcher {
  /** Lifecycle: nothing to open, check, release. */
  provision(): void {}
  validate(): void {}
  cleanup(): void {}
  readonly patterns: string[];
  #static: ({ test: Test; merge: boolean } | 'all')[] = [];
  #dynamic: string[] = [];

  constructor(config: unknown) {
    if (!Array.isArray(config) || config.some((p) => typeof p !== 'string')) {
      throw new ConfigError('ERR_CFG_JSON', undefined, 'path matcher: expected a list of path patterns');
    }
    this.patterns = config as string[];
    for (const p of this.patterns) {
      if (p.includes('{')) this.#dynamic.push(p);
      else this.#static.push(compilePattern(p.toLowerCase()));
    }
  }

  match(c: HttpContext): boolean {
    const lower = requestPath(c).toLowerCase();
    let merged: string | undefined;
    let raw: string | undefined;
    const check = (t: { test: Test; merge: boolean } | 'all'): boolean => {
      if (t === 'all') return true;
      const p = t.merge ? (merged ??= cleanPath(lower)) : (raw ??= cleanPath(lower, false));
      return t.test(p, cleanPath(c.url.pathname.toLowerCase(), t.merge));
    };
    for (const t of this.#static) if (check(t)) return true;
    for (const d of this.#dynamic) if (check(compilePattern(c.replace(d, true).toLowerCase()))) return true;
    return false;
  }
}

/** Sets `http.regexp.<name>.<group>` (and `http.regexp.<group>`) placeholders from a match. */
export function setCaptures(c: HttpContext, name: string, m: RegExpExecArray): void {
  for (let i = 0; i < m.length; i++) {
    if (name) setPlaceholder(c, `http.regexp.${name}.${i}`, m[i] ?? '');
    setPlaceholder(c, `http.regexp.${i}`, m[i] ?? '');
  }
  for (const [g, v] of Object.entries(m.groups ?? {})) {
    if (name) setPlaceholder(c, `http.regexp.${name}.${g}`, v ?? '');
    setPlaceholder(c, `http.regexp.${g}`, v ?? '');
  }
}

/** JSON config of `path_regexp`. */
export interface RegexpConfig { name?: string; pattern: string }

export class PathRegexpMatcher implements RequestMatcher {
  /** Lifecycle: nothing to open, check, release. */
  provision(): void {}
  validate(): void {}
  cleanup(): void {}
  readonly config: RegexpConfig;
  #re: RegExp;

  constructor(config: RegexpConfig) {
    this.config = config;
    this.#re = goRegExp(config.pattern);
  }

  match(c: HttpContext): boolean {
    const m = this.#re.exec(cleanPath(requestPath(c)));
    if (!m) return false;
    setCaptures(c, this.config.name ?? '', m);
    return true;
  }
}
