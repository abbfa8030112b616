/**
 * The `local` and `bolt` transports as host modules
 * (`mercure.transports.local`, `mercure.transports.bolt`), and the legacy
 * `transport_url` forms that resolve to them (§5.3).
 *
 * Transports live in ctx.pool under the module ID plus the stable key of the
 * normalised config, so hubs with identical transport configs share one
 * transport (subscribers, history) and a reload that keeps the config keeps it.
 */
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../../host/errors.ts';
import type { ModuleConfig, ModuleInfo } from '../../host/module.ts';
import { BoltBackend } from './backend.ts';
import { PooledTransport, type TransportModule } from '../core/pooled.ts';
import { LocalBackend } from '../local/backend.ts';

/** `mercure.transports.local` takes no options. */
export type LocalTransportConfig = ModuleConfig;

/** `mercure.transports.bolt` config, as the Caddyfile adapter writes it. */
export interface BoltTransportConfig extends ModuleConfig {
  /** Default `<dataDir>/mercure.db`; relative paths resolve against the working directory. */
  path?: string;
  bucket_name?: string;
  /** Updates to keep; 0 = all. */
  size?: number;
  /** Fraction of publishes followed by a trim, 0…1 (see bolt.ts). */
  cleanup_frequency?: number;
}

export type { TransportModule } from '../core/pooled.ts';

function spanOf(cfg: ModuleConfig): { file: string; line: number; column: number } | undefined {
  const m = typeof cfg['@span'] === 'string' ? /^(.*):(\d+):(\d+)$/.exec(cfg['@span']) : null;
  return m ? { file: m[1]!, line: Number(m[2]), column: Number(m[3]) } : undefined;
}

/** `mercure.transports.local`: in memory, no history. Config `{}`. */
export const localTransportModule: ModuleInfo<LocalTransportConfig, TransportModule> = {
  id: 'mercure.transports.local',
  // Each local config is its own in-memory stream; the empty config shares one.
  create: () => new PooledTransport('mercure.transports.local', () => ({ key: {}, backend: () => new LocalBackend() })),
};

/** A bolt config after checking, defaults applied (the path is resolved at provision). */
export interface CheckedBoltConfig { path?: string; bucket_name: string; size: number; cleanup_frequency: number }

/** Checks a bolt config's types and ranges (pure) and applies the defaults, except the path's. */
export function checkBoltConfig(cfg: BoltTransportConfig): CheckedBoltConfig {
  const span = spanOf(cfg);
  const bad = (key: string, expected: string): ConfigError =>
    new ConfigError('ERR_CFG_VALUE', span, `transport bolt: invalid ${key} ${JSON.stringify(cfg[key])}`, { expected });
  if (cfg.path !== undefined && (typeof cfg.path !== 'string' || cfg.path === '')) throw bad('path', 'a file path');
  if (cfg.bucket_name !== undefined && (typeof cfg.bucket_name !== 'string' || cfg.bucket_name === '')) throw bad('bucket_name', 'a non-empty name');
  if (cfg.size !== undefined && !(Number.isSafeInteger(cfg.size) && cfg.size >= 0)) throw bad('size', 'an integer ≥ 0');
  const f = cfg.cleanup_frequency;
  if (f !== undefined && !(typeof f === 'number' && f >= 0 && f <= 1)) throw bad('cleanup_frequency', 'a number between 0 and 1');
  const out: CheckedBoltConfig = { bucket_name: cfg.bucket_name ?? 'updates', size: cfg.size ?? 0, cleanup_frequency: f ?? 0 };
  if (cfg.path !== undefined) out.path = cfg.path;
  return out;
}

/** `mercure.transports.bolt`: embedded, persistent history (node:sqlite). */
export const boltTransportModule: ModuleInfo<BoltTransportConfig, TransportModule> = {
  id: 'mercure.transports.bolt',
  create(config) {
    const checked = checkBoltConfig(config);
    return new PooledTransport('mercure.transports.bolt', (ctx) => {
      const path = checked.path === undefined ? join(ctx.dataDir, 'mercure.db')
        : isAbsolute(checked.path) ? checked.path : resolve(checked.path);
      const normalised = { ...checked, path };
      return {
        key: normalised,
        backend: () => new BoltBackend({ path, bucketName: checked.bucket_name, size: checked.size, cleanupFrequency: checked.cleanup_frequency }),
      };
    });
  },
};

/** Every module this folder provides, for src/standard.ts. */
export const pubsubModules: ModuleInfo<any, any>[] = [localTransportModule, boltTransportModule];

/** Registers the local and bolt transports (the lead calls this from src/standard.ts). */
export function registerPubsubModules(register: (info: ModuleInfo<any, any>) => void): void {
  for (const info of pubsubModules) register(info);
}

/** A transport module name and its config, from a legacy URL. */
export interface TransportUrl { name: 'local' | 'bolt'; config: ModuleConfig }

/** Go's `%q` for the strings we quote (ASCII-safe JSON quoting is the same for them). */
const goQuote = (s: string): string => JSON.stringify(s);

/** Go's `url.URL.Redacted()`: the password becomes `xxxxx`. */
function redacted(raw: string, u: URL | undefined): string {
  if (!u?.password) return raw;
  const copy = new URL(u.href);
  copy.password = 'xxxxx';
  return copy.href;
}

/**
 * Parses the deprecated `transport_url` / `MERCURE_TRANSPORT_URL` forms:
 * `local://local`, `bolt:///abs/path.db`, `bolt://relative.db?bucket_name=…&size=…&cleanup_frequency=…`
 * (cleanup_frequency defaults to 0.3 here, as in the Go hub). Errors carry the Go hub's text.
 */
export function parseTransportUrl(raw: string, span?: ConfigError['span']): TransportUrl {
  let u: URL | undefined;
  try { u = new URL(raw); } catch { /* reported below */ }
  const dsn = redacted(raw, u);
  const fail = (detail: string): ConfigError => new ConfigError('ERR_CFG_VALUE', span, detail);
  if (!u) throw fail(`${goQuote(dsn)}: invalid transport: parse ${goQuote(raw)}: invalid URL`);
  const scheme = u.protocol.slice(0, -1);
  if (scheme === 'local') return { name: 'local', config: {} };
  if (scheme !== 'bolt') throw fail(`${goQuote(dsn)}: invalid transport: no such transport available`);
  const q = u.searchParams;
  const config: BoltTransportConfig = { bucket_name: q.get('bucket_name') || 'updates', size: 0, cleanup_frequency: 0.3 };
  const size = q.get('size');
  if (size) {
    if (!/^\d+$/.test(size)) throw fail(`${goQuote(dsn)}: invalid "size" parameter ${goQuote(size)}: invalid transport: strconv.ParseUint: parsing ${goQuote(size)}: invalid syntax`);
    if (BigInt(size) > 0xffffffffffffffffn) throw fail(`${goQuote(dsn)}: invalid "size" parameter ${goQuote(size)}: invalid transport: strconv.ParseUint: parsing ${goQuote(size)}: value out of range`);
    config.size = Number(size);
  }
  const freq = q.get('cleanup_frequency');
  if (freq) {
    const f = parseGoFloat(freq);
    if (f === undefined) throw fail(`${goQuote(dsn)}: invalid "cleanup_frequency" parameter ${goQuote(freq)}: invalid transport: strconv.ParseFloat: parsing ${goQuote(freq)}: invalid syntax`);
    config.cleanup_frequency = Math.min(1, Math.max(0, f));
  }
  // Go: u.Path for bolt:///abs.db, else u.Host for bolt://rel.db.
  const path = u.pathname ? decodeURIComponent(u.pathname) : u.host;
  if (!path) throw fail(`${goQuote(dsn)}: invalid transport: missing path`);
  config.path = path;
  return { name: 'bolt', config };
}

/** strconv.ParseFloat's accepted syntax (decimal, inf, nan); undefined when Go would reject it. */
function parseGoFloat(s: string): number | undefined {
  if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(s)) return 0;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return undefined;
  return Number(s);
}
