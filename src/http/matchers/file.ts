/**
 * `http.matchers.file` (try_files): matches when one of `try_files` exists
 * under `root` (default `{http.vars.root}`, else the working directory).
 * A candidate ending in `/` must be a directory, any other must be a file;
 * `=404` ends matching with that error. `split_path` cuts a candidate after
 * the first split string (`.php`), the rest being the path info. Policies:
 * first_exist (default), first_exist_fallback (the last entry is assumed to
 * exist, unchecked), smallest_size, largest_size, most_recently_modified.
 * Sets {http.matchers.file.relative|absolute|type|remainder}. Stats are
 * synchronous, as in Caddy (matchers are synchronous).
 */
import { type Stats, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { ConfigError, HttpError } from '../../host/errors.ts';
import type { HttpContext, RequestMatcher } from '../handler.ts';
import { setPlaceholder } from '../replacer.ts';
import { cleanPath } from './path.ts';

/** JSON config of the file matcher. */
export interface FileMatcherConfig {
  root?: string;
  try_files?: string[];
  try_policy?: 'first_exist' | 'first_exist_fallback' | 'smallest_size' | 'largest_size' | 'most_recently_modified';
  split_path?: string[];
}

const POLICIES = ['first_exist', 'first_exist_fallback', 'smallest_size', 'largest_size', 'most_recently_modified'];

interface Candidate { relative: string; absolute: string; remainder: string; stat: Stats | undefined; dir: boolean }

export class FileMatcher implements RequestMatcher {
  /** Lifecycle: nothing to open, check, release. */
  provision(): void {}
  validate(): void {}
  cleanup(): void {}
  readonly config: FileMatcherConfig;

  constructor(config: FileMatcherConfig) {
    this.config = config ?? {};
    if (this.config.try_policy && !POLICIES.includes(this.config.try_policy)) {
      throw new ConfigError('ERR_CFG_VALUE', undefined, `file matcher: unknown try_policy '${this.config.try_policy}'`, { expected: POLICIES.join(', ') });
    }
  }

  #split(p: string): [string, string] {
    for (const s of this.config.split_path ?? []) {
      const i = p.toLowerCase().indexOf(s.toLowerCase());
      if (i >= 0) return [p.slice(0, i + s.length), p.slice(i + s.length)];
    }
    return [p, ''];
  }

  #candidate(c: HttpContext, root: string, pattern: string, check: boolean): Candidate | undefined {
    const [path, remainder] = this.#split(c.replace(pattern, true));
    // As in Caddy, the written pattern decides: `{path}/` must be a directory, `{path}` a file (even for `/x/`, or the root).
    const wantDir = pattern.endsWith('/');
    let rel = cleanPath('/' + path.replace(/^\/+/, ''));
    if (!wantDir && rel.length > 1 && rel.endsWith('/')) rel = rel.slice(0, -1);
    else if (wantDir && !rel.endsWith('/')) rel += '/';
    const absolute = join(root, rel);
    if (absolute !== root && !absolute.startsWith(root.endsWith(sep) ? root : root + sep)) return undefined;
    let stat: Stats | undefined;
    if (check) {
      try { stat = statSync(absolute); } catch { return undefined; }
      if (wantDir !== stat.isDirectory()) return undefined;
    }
    return { relative: rel, absolute, remainder, stat, dir: wantDir };
  }

  match(c: HttpContext): boolean {
    const root = resolve(c.replace(this.config.root ?? '{http.vars.root}', true) || '.');
    const files = this.config.try_files?.length ? this.config.try_files : ['{http.request.uri.path}'];
    const policy = this.config.try_policy ?? 'first_exist';
    let chosen: Candidate | undefined;
    if (policy === 'first_exist' || policy === 'first_exist_fallback') {
      for (let i = 0; i < files.length && !chosen; i++) {
        const f = files[i]!;
        if (f.startsWith('=')) {
          const status = Number(c.replace(f.slice(1), true));
          throw new HttpError(Number.isInteger(status) && status >= 400 ? status : 404);
        }
        const last = policy === 'first_exist_fallback' && i === files.length - 1;
        chosen = this.#candidate(c, root, f, !last);
      }
    } else {
      const all = files.filter((f) => !f.startsWith('=')).map((f) => this.#candidate(c, root, f, true)).filter((x): x is Candidate => !!x && !x.dir);
      const key = (x: Candidate) => (policy === 'most_recently_modified' ? x.stat!.mtimeMs : x.stat!.size);
      for (const x of all) {
        if (!chosen) { chosen = x; continue; }
        if (policy === 'smallest_size' ? key(x) < key(chosen) : key(x) > key(chosen)) chosen = x;
      }
    }
    if (!chosen) return false;
    setPlaceholder(c, 'http.matchers.file.relative', chosen.relative);
    setPlaceholder(c, 'http.matchers.file.absolute', chosen.absolute);
    setPlaceholder(c, 'http.matchers.file.remainder', chosen.remainder);
    setPlaceholder(c, 'http.matchers.file.type', chosen.dir ? 'directory' : 'file');
    return true;
  }
}
