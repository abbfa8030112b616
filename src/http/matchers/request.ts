/**
 * Request matchers by host, method, header, header_regexp, query, protocol,
 * remote_ip, client_ip and vars (caddy.md §3.4). Configs are Caddy's JSON:
 * `host: [..]`, `method: [..]`, `header: {Field: [values]}`,
 * `header_regexp: {Field: {name, pattern}}`, `query: {key: [values]}`,
 * `protocol: "https"`, `remote_ip: {ranges: [..]}`, `client_ip: {ranges: [..]}`,
 * `vars: {name: [values]}`. Values with placeholders are resolved per request.
 */
import { ConfigError } from '../../host/errors.ts';
import type { HttpContext, RequestMatcher } from '../handler.ts';
import { type IpRange, inRanges, parseRanges } from '../ip.ts';
import { hostPort, splitHostPort, toText } from '../replacer.ts';
import { goRegExp } from '../regexp.ts';
import { setCaptures } from './path.ts';

function list(config: unknown, what: string): string[] {
  if (!Array.isArray(config) || config.some((x) => typeof x !== 'string')) {
    throw new ConfigError('ERR_CFG_JSON', undefined, `${what} matcher: expected a list of strings`);
  }
  return config as string[];
}

/** The request host without port or brackets, lower-cased. */
export function requestHost(c: HttpContext): string {
  return splitHostPort(hostPort(c))[0].toLowerCase();
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  if (!pattern.includes('*')) return false;
  const a = pattern.split('.');
  const b = host.split('.');
  if (a.length !== b.length) return false;
  return a.every((label, i) => label === '*' || label === b[i]);
}

export class HostMatcher implements RequestMatcher {
  /** Lifecycle: nothing to open, check, release. */
  provision(): void {}
  validate(): void {}
  cleanup(): void {}
  #static: string[];
  #dynamic: string[];
  #set: Set<string>;

  constructor(config: unknown) {
    const hosts = list(config, 'host').map((h) => h.toLowerCase().replace(/^\[(.*)\]$/, '$1'));
    this.#static = hosts.filter((h) => !h.includes('{'));
    this.#dynamic = hosts.filter((h) => h.includes('{'));
    this.#set = new Set(this.#static.filter((h) => !h.includes('*')));
  }

  match(c: HttpContext): boolean {
    const host = requestHost(c);
    if (this.#set.has(host)) return true;
    for (const p of this.#static) if (hostMatches(p, host)) return true;
    for (const p of this.#dynamic) if (hostMatches(c.replace(p, true).toLowerCase(), host)) return true;
    return false;
  }
}

export class MethodMatcher implements RequestMatcher {
  /** Lifecycle: nothing to open, check, release. */
  provision(): void {}
  validate(): void {}
  cleanup(): void {}
  #methods: Set<string>;
  constructor(config: unknown) { this.#methods = new Set(list(config, 'method').map((m) => m.toUpperCase())); }
  match(c: HttpContext): boolean { return this.#methods.has(c.req.method ?? ''); }
}

function headerValues(c: HttpContext, field: string): string[] | undefined {
  const f = field.toLowerCase();
  if (f === 'host') { const h = hostPort(c); return h ? [h] : undefined; }
  const v = c.req.headers[f];
  return v === undefined ? undefined : Array.isArray(v) ? v : [v];
}

function valueMatches(allowed: string, actual: string): boolean {
  if (allowed === '*') return true;
  const s = allowed.startsWith('*');
  const e = allowed.endsWith('*');
  if (s && e) return actual.includes(allowed.slice(1, -1));
  if (s) return actual.endsWith(allowed.slice(1));
  if (e) return actual.startsWith(allowed.slice(0, -1));
  return actual === allowed;
}

export class HeaderMatcher implements RequestMatcher {
  /** Lifecycle: nothing to open, check, release. */
  provision(): void {}
  validate(): void {}
  cleanup(): void {}
  #fields: [string, string[] | null][];
  constructor(config: unknown) {
    if (!config || typeof config !== 'object' || Array.isArray(config)) throw new ConfigError('ERR_CFG_JSON', undefined, 'header matcher: expected {Field: [values]}');
    this.#fields = Object.entries(config as Record<string, string[] | null>);
  }
  match(c: HttpContext): boolean {
    for (const [field, allowed] of this.#fields) {
      const actual = headerValues(c, field);
      if (allowed === null) { if (actual === undefined) continue; return false; }
      if (allowed.length === 0) { if (actual !== undefined) continue; return false; }
      if (!actual) return false;
      if (!actual.some((v) => allowed.some((a) => valueMatches(c.replace(a, true), v)))) return false;
    }
    return true;
  }
}

export class HeaderRegexpMatcher implements RequestMatcher {
  /** Lifecycle: nothing to open, check, release. */
  provision(): void {}
  validate(): void {}
  cleanup(): void {}
  #fields: [string, RegExp, string][];
  constructor(config: unknown) {
    this.#fields = Object.entries(config as Record<string, { name?: string; pattern: string }>)
      .map(([f, r]) => [f, goRegExp(r.pattern), r.name ?? '']);
  }
  match(c: HttpContext): boolean {
    for (const [field, re, name] of this.#fields) {
      const vals = headerValues(c, field);
      const m = vals ? re.exec(vals.join(',')) : null;
      if (!m) return false;
      setCaptures(c, name, m);
    }
    return true;
  }
}

export class QueryMatcher implements RequestMatcher {
  /** Lifecycle: nothing to open, check, release. */
  provision(): void {}
  validate(): void {}
  cleanup(): void {}
  #keys: [string, string[]][];
  constructor(config: unknown) {
    this.#keys = Object.entries((config ?? {}) as Record<string, string[]>);
  }
  match(c: HttpContext): boolean {
    if (this.#keys.length === 0) return c.url.search.length <= 1;
    const params = c.url.searchParams;
    for (const [rawKey, allowed] of this.#keys) {
      const key = c.replace(rawKey, true);
      const actual = params.getAll(key);
      if (!params.has(key)) return false;
      if (!allowed.some((a) => a === '*' || actual.includes(c.replace(a, true)))) return false;
    }
    return true;
  }
}

export class ProtocolMatcher implements RequestMatcher {
  /** Lifecycle: nothing to open, check, release. */
  provision(): void {}
  validate(): void {}
  cleanup(): void {}
  #proto: string;
  constructor(config: unknown) {
    if (typeof config !== 'string') throw new ConfigError('ERR_CFG_JSON', undefined, 'protocol matcher: expected a string');
    this.#proto = config.toLowerCase();
  }
  match(c: HttpContext): boolean {
    const v = c.req.httpVersion;
    switch (this.#proto) {
      case 'http': return !c.secure;
      case 'https': return c.secure;
      case 'grpc': return String(c.req.headers['content-type'] ?? '').startsWith('application/grpc');
      case 'http/1.0': return v === '1.0';
      case 'http/1.0+': return true;
      case 'http/1.1': return v === '1.1';
      case 'http/1.1+': return v !== '1.0';
      case 'http/2': case 'http/2+': return v === '2.0';
      default: return false;
    }
  }
}

/** JSON config of remote_ip / client_ip. */
export interface IpMatcherConfig { ranges: string[] }

export class RemoteIpMatcher implements RequestMatcher {
  /** Lifecycle: nothing to open, check, release. */
  provision(): void {}
  validate(): void {}
  cleanup(): void {}
  #ranges: IpRange[];
  #client: boolean;
  constructor(config: IpMatcherConfig, client = false) {
    this.#ranges = parseRanges(config?.ranges ?? []);
    this.#client = client;
  }
  match(c: HttpContext): boolean {
    const ip = this.#client ? String(c.vars.get('client_ip') ?? c.remoteAddr) : c.remoteAddr;
    return inRanges(ip, this.#ranges);
  }
}

export class VarsMatcher implements RequestMatcher {
  /** Lifecycle: nothing to open, check, release. */
  provision(): void {}
  validate(): void {}
  cleanup(): void {}
  #vars: [string, string[]][];
  constructor(config: unknown) { this.#vars = Object.entries(config as Record<string, string[]>); }
  match(c: HttpContext): boolean {
    for (const [rawKey, allowed] of this.#vars) {
      const key = rawKey.startsWith('{') ? rawKey : rawKey;
      const v = key.startsWith('{') ? c.replace(key, true) : toText(c.vars.get(key));
      if (!allowed.some((a) => c.replace(a, true) === v)) return false;
    }
    return true;
  }
}
