/**
 * Header operations (Caddy's HeaderOps), shared by the `headers` handler and
 * reverse_proxy's header_up/header_down. Order, as in Caddy: delete `*`,
 * add, set, delete (with `*` prefix/suffix/substring wildcards), replace.
 * Values use ReplaceAll placeholders.
 */
import type { ServerResponse } from 'node:http';
import type { HttpContext } from './handler.ts';
import { goRegExp, goReplacement } from './regexp.ts';

/** JSON shape of header operations. */
export interface HeaderOpsConfig {
  add?: Record<string, string[]>;
  set?: Record<string, string[]>;
  delete?: string[];
  replace?: Record<string, { search?: string; search_regexp?: string; replace?: string }[]>;
}

/** Where operations apply: response headers, request headers, proxy headers. */
export interface HeaderTarget {
  get(name: string): string[] | undefined;
  set(name: string, values: string[]): void;
  remove(name: string): void;
  names(): string[];
}

/** A target over a plain lower-cased headers object (IncomingMessage.headers, proxy requests). */
export function objectTarget(h: Record<string, string | string[] | undefined>): HeaderTarget {
  return {
    get: (n) => { const v = h[n.toLowerCase()]; return v === undefined ? undefined : Array.isArray(v) ? v : [v]; },
    set: (n, v) => { h[n.toLowerCase()] = v.length === 1 ? v[0] : v; },
    remove: (n) => { delete h[n.toLowerCase()]; },
    names: () => Object.keys(h),
  };
}

/** A target over a response's headers. */
export function responseTarget(res: ServerResponse): HeaderTarget {
  return {
    get: (n) => { const v = res.getHeader(n); return v === undefined ? undefined : Array.isArray(v) ? v.map(String) : [String(v)]; },
    set: (n, v) => { res.setHeader(n, v.length === 1 ? v[0]! : v); },
    remove: (n) => res.removeHeader(n),
    names: () => res.getHeaderNames(),
  };
}

interface Replacement { field: string; re: RegExp | undefined; search: string; replace: string }

export class HeaderOps {
  readonly config: HeaderOpsConfig;
  #add: [string, string[]][];
  #set: [string, string[]][];
  #delete: string[];
  #replace: Replacement[];
  readonly empty: boolean;

  constructor(config: HeaderOpsConfig) {
    this.config = config;
    this.#add = Object.entries(config.add ?? {});
    this.#set = Object.entries(config.set ?? {});
    this.#delete = config.delete ?? [];
    this.#replace = Object.entries(config.replace ?? {}).flatMap(([field, list]) => list.map((r) => ({
      field,
      re: r.search_regexp !== undefined ? goRegExp(r.search_regexp, 'g') : undefined,
      search: r.search ?? '',
      replace: r.search_regexp !== undefined ? goReplacement(r.replace ?? '') : r.replace ?? '',
    })));
    this.empty = !this.#add.length && !this.#set.length && !this.#delete.length && !this.#replace.length;
  }

  /** Applies the operations to t, with placeholders from c. */
  apply(t: HeaderTarget, c: HttpContext | undefined): void {
    const r = (s: string) => (c ? c.replace(s, true) : s);
    if (this.#delete.includes('*')) for (const n of t.names()) t.remove(n);
    for (const [name, vals] of this.#add) {
      const n = r(name);
      t.set(n, [...(t.get(n) ?? []), ...vals.map(r)]);
    }
    for (const [name, vals] of this.#set) t.set(r(name), vals.map(r));
    for (const raw of this.#delete) {
      const d = r(raw).toLowerCase();
      if (d === '*') continue;
      const starts = d.startsWith('*');
      const ends = d.endsWith('*') && d.length > 1;
      if (!starts && !ends) { t.remove(d); continue; }
      const core = d.slice(starts ? 1 : 0, ends ? -1 : undefined);
      for (const n of t.names()) {
        const ln = n.toLowerCase();
        if (starts && ends ? ln.includes(core) : starts ? ln.endsWith(core) : ln.startsWith(core)) t.remove(n);
      }
    }
    for (const rep of this.#replace) {
      const fields = rep.field === '*' ? t.names() : [r(rep.field)];
      const with_ = rep.re ? rep.replace : r(rep.replace);
      for (const f of fields) {
        const vals = t.get(f);
        if (!vals) continue;
        t.set(f, vals.map((v) => (rep.re ? v.replace(rep.re, with_) : v.replaceAll(r(rep.search), with_))));
      }
    }
  }
}
