/**
 * The `bolt` transport as a host module (`mercure.transports.bolt`).
 *
 * Transports live in ctx.pool under the module ID plus the stable key of the
 * normalised config, so hubs with identical transport configs share one
 * transport (subscribers, history) and a reload that keeps the config keeps it.
 */
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../../host/errors.ts';
import { spanOf } from '../../host/span.ts';
import type { ModuleConfig, ModuleInfo } from '../../host/module.ts';
import { BoltBackend } from './backend.ts';
import { PooledTransport, type TransportModule } from '../core/pooled.ts';

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
