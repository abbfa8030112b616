/**
 * Access logs: one pino JSON line per request ("handled request"), in Caddy's
 * shape (`request{remote_ip,remote_port,client_ip,proto,method,host,uri,headers,tls}`,
 * `bytes_read, duration, size, status, resp_headers`). Credentials in headers
 * are REDACTED. A `filter` encoder rewrites chosen fields before writing,
 * e.g. `request>uri` → `query { replace authorization REDACTED }` (Mercure's
 * image does this, since subscribers may pass JWTs in the query string).
 * Writers are shared across reloads through the usage pool.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type Logger } from 'pino';
import { ConfigError } from '../host/errors.ts';
import type { UsagePool } from '../host/usage-pool.ts';
import { stableKey } from '../host/usage-pool.ts';
import { parseRange } from './ip.ts';
import { consoleDestination, defaultFormat, type LogFormat } from '../host/log.ts';

/** `writer` of a log: where lines go. */
export interface LogWriterConfig { output?: 'stdout' | 'stderr' | 'discard' | 'file'; filename?: string; [k: string]: unknown }
/** One field filter of a `filter` encoder (Caddy's JSON: `{ filter: "query", actions: [...] }`). */
export interface FieldFilterConfig {
  filter: 'delete' | 'replace' | 'query' | 'regexp' | 'hash' | 'ip_mask' | 'cookie';
  value?: string;
  regexp?: string;
  ipv4_cidr?: number;
  ipv6_cidr?: number;
  actions?: { type: 'replace' | 'hash' | 'delete'; parameter?: string; name?: string; value?: string }[];
}
/** `encoder`: json, console, or filter wrapping another; none = console on a terminal, else json. */
export interface LogEncoderConfig { format?: 'json' | 'console' | 'filter'; wrap?: LogEncoderConfig; fields?: Record<string, FieldFilterConfig> }
/** What the `log` directive yields; the adapter adds `hosts` (server.logs is a list of these). */
export interface AccessLogConfig {
  name?: string;
  hosts?: string[];
  writer?: LogWriterConfig;
  encoder?: LogEncoderConfig;
  level?: string;
  /** Log credentials (Authorization, Cookie, Set-Cookie) instead of REDACTED. */
  log_credentials?: boolean;
}

type Filter = (v: unknown) => unknown;

function hash(s: string): string { return createHash('sha256').update(s).digest('hex').slice(0, 8); }

function compileFilter(path: string, f: FieldFilterConfig): Filter {
  switch (f.filter) {
    case 'delete': return () => undefined;
    case 'replace': return () => f.value ?? '';
    case 'hash': return (v) => (Array.isArray(v) ? v.map((x) => hash(String(x))) : hash(String(v)));
    case 'regexp': {
      const re = new RegExp(f.regexp ?? '', 'g');
      return (v) => (typeof v === 'string' ? v.replace(re, (f.value ?? '').replace(/\$\{(\w+)\}/g, '$<$1>')) : v);
    }
    case 'ip_mask': {
      const v4 = f.ipv4_cidr ?? 32;
      const v6 = f.ipv6_cidr ?? 128;
      return (v) => {
        if (typeof v !== 'string') return v;
        try {
          const isV6 = v.includes(':');
          const r = parseRange(`${v}/${isV6 ? v6 : v4}`);
          if (!isV6) return [24n, 16n, 8n, 0n].map((s) => Number((r.base >> s) & 255n)).join('.');
          const groups: string[] = [];
          for (let i = 7; i >= 0; i--) groups.push(Number((r.base >> BigInt(i * 16)) & 0xffffn).toString(16));
          return groups.join(':');
        } catch { return v; }
      };
    }
    case 'query': {
      const actions = f.actions ?? [];
      return (v) => {
        if (typeof v !== 'string') return v;
        const q = v.indexOf('?');
        if (q < 0) return v;
        const params = new URLSearchParams(v.slice(q + 1));
        for (const a of actions) {
          const name = a.parameter ?? '';
          if (!params.has(name)) continue;
          if (a.type === 'delete') params.delete(name);
          else {
            const vals = params.getAll(name);
            params.delete(name);
            for (const x of vals) params.append(name, a.type === 'hash' ? hash(x) : a.value ?? '');
          }
        }
        const qs = params.toString();
        return v.slice(0, q) + (qs ? '?' + qs : '');
      };
    }
    case 'cookie': {
      const actions = f.actions ?? [];
      return (v) => {
        const one = (s: string) => s.split(';').map((part) => {
          const eq = part.indexOf('=');
          const name = (eq < 0 ? part : part.slice(0, eq)).trim();
          const a = actions.find((x) => (x.name ?? x.parameter) === name);
          if (!a) return part.trim();
          if (a.type === 'delete') return undefined;
          return `${name}=${a.type === 'hash' ? hash(part.slice(eq + 1).trim()) : a.value ?? ''}`;
        }).filter((x) => x !== undefined).join('; ');
        return Array.isArray(v) ? v.map((x) => one(String(x))) : typeof v === 'string' ? one(v) : v;
      };
    }
    default:
      throw new ConfigError('ERR_CFG_UNKNOWN', undefined, `unknown log field filter '${(f as { filter: string }).filter}' for field '${path}'`);
  }
}

function applyFilter(entry: Record<string, unknown>, path: string[], filter: Filter): void {
  let obj: Record<string, unknown> = entry;
  for (let i = 0; i < path.length - 1; i++) {
    const next = obj[path[i]!];
    if (!next || typeof next !== 'object') return;
    obj = next as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  if (!(last in obj)) return;
  const v = filter(obj[last]);
  if (v === undefined) delete obj[last]; else obj[last] = v;
}

interface Writer { logger: Logger; destruct(): void }

function openWriter(w: LogWriterConfig | undefined, format: LogFormat): Writer {
  const output = w?.output ?? 'stderr';
  if (output === 'discard') {
    const logger = pino({ enabled: false });
    return { logger, destruct() {} };
  }
  let dest: ReturnType<typeof pino.destination>;
  if (output === 'file') {
    if (!w?.filename) throw new ConfigError('ERR_CFG_VALUE', undefined, 'log output file needs a filename');
    mkdirSync(dirname(w.filename), { recursive: true });
    dest = pino.destination({ dest: w.filename, append: true, sync: false, minLength: 0 });
  } else if (output === 'stdout' || output === 'stderr') {
    if (format === 'console') {
      const logger = pino({ base: null, timestamp: false, messageKey: 'msg', level: 'debug', formatters: { level: (label) => ({ level: label }) } }, consoleDestination(output === 'stdout' ? 1 : 2));
      return { logger, destruct() {} };
    }
    dest = pino.destination({ dest: output === 'stdout' ? 1 : 2, sync: false, minLength: 0 });
  } else {
    throw new ConfigError('ERR_CFG_UNKNOWN', undefined, `unknown log output '${String(output)}'`, { expected: 'stdout, stderr, discard or file' });
  }
  const logger = pino({
    base: null, timestamp: false, messageKey: 'msg', level: 'debug',
    formatters: { level: (label) => ({ level: label }) },
  }, dest);
  return { logger, destruct() { try { dest.flushSync(); } catch { /* not open yet */ } dest.end(); } };
}

const LEVELS: Record<string, number> = { debug: 20, info: 30, warn: 40, error: 50 };

/** One configured access log. */
export class AccessLog {
  readonly config: AccessLogConfig;
  readonly loggerName: string;
  readonly logCredentials: boolean;
  #hosts: Set<string> | undefined;
  #filters: [string[], Filter][] = [];
  #minLevel: number;
  #writer: Writer | undefined;
  #pool: UsagePool | undefined;
  #key = '';

  constructor(config: AccessLogConfig, serverName: string) {
    this.config = config;
    this.loggerName = config.name === '' ? 'http.log.access' : `http.log.access.${config.name ?? serverName}`;
    this.logCredentials = config.log_credentials === true;
    this.#hosts = config.hosts?.length ? new Set(config.hosts.map((h) => h.toLowerCase())) : undefined;
    const level = (config.level ?? 'INFO').toLowerCase();
    if (!(level in LEVELS)) throw new ConfigError('ERR_CFG_VALUE', undefined, `unknown log level '${config.level}'`);
    this.#minLevel = LEVELS[level]!;
    let enc = config.encoder;
    while (enc?.format === 'filter') {
      for (const [path, f] of Object.entries(enc.fields ?? {})) this.#filters.push([path.split('>'), compileFilter(path, f)]);
      enc = enc.wrap;
    }
  }

  /** Opens (or shares) the writer. */
  async open(pool: UsagePool): Promise<void> {
    this.#pool = pool;
    const format = this.format();
    this.#key = `http.access_log.writer:${format}:` + stableKey(this.config.writer ?? {});
    this.#writer = await pool.loadOrNew(this.#key, () => openWriter(this.config.writer, format));
  }

  /**
   * `console` or `json`: the innermost encoder's format; without one, Caddy's
   * default (console when the output is a terminal, host/log.ts).
   */
  format(): LogFormat {
    let enc = this.config.encoder;
    while (enc?.format === 'filter') enc = enc.wrap;
    if (enc?.format === 'console' || enc?.format === 'json') return enc.format;
    const out = this.config.writer?.output ?? 'stderr';
    if (out !== 'stderr' && out !== 'stdout') return 'json';
    return defaultFormat((out === 'stderr' ? process.stderr : process.stdout).isTTY);
  }

  async close(): Promise<void> {
    if (this.#writer && this.#pool) { this.#writer = undefined; await this.#pool.release(this.#key); }
  }

  /** Whether this log covers the host (no hosts = all; `*.x` wildcards allowed). */
  covers(host: string): boolean {
    if (!this.#hosts) return true;
    if (this.#hosts.has(host)) return true;
    const dot = host.indexOf('.');
    return dot > 0 && this.#hosts.has('*' + host.slice(dot));
  }

  /** Writes one entry (a fresh object the caller does not reuse). */
  write(entry: Record<string, unknown>, status: number): void {
    const w = this.#writer;
    if (!w) return;
    const level = status >= 500 ? 50 : 30;
    if (level < this.#minLevel) return;
    const e = this.#filters.length ? structuredClone(entry) : entry;
    for (const [path, f] of this.#filters) applyFilter(e, path, f);
    e.logger = this.loggerName;
    if (level === 50) w.logger.error(e, 'handled request'); else w.logger.info(e, 'handled request');
  }
}

const CREDENTIALS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/** Caddy-style header map: canonical names → value lists; credentials REDACTED unless asked. */
export function headerMap(headers: Record<string, string | string[] | number | undefined>, redact: boolean): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || k.startsWith(':')) continue;
    const name = k.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
    out[name] = redact && CREDENTIALS.has(k.toLowerCase()) ? ['REDACTED'] : Array.isArray(v) ? v.map(String) : [String(v)];
  }
  return out;
}
