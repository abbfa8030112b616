/**
 * `mercure.transports.postgres`: the PostgreSQL transport as a host module.
 * The transport (Fanout over PostgresBackend) lives in ctx.pool under the
 * module ID plus the stable key of the normalised config, so hubs with the same
 * config share one set of connections and a reload that keeps the config keeps
 * them (and this node's presence rows).
 */
import { spanOf, withSpan, type Span } from '../../host/span.ts';
import { ConfigError, unknownName } from '../../host/errors.ts';
import { toMs } from '../../host/duration.ts';
import type { ModuleConfig, ModuleContext, ModuleInfo } from '../../host/module.ts';
import { newNodeId, PooledTransport } from '../core/pooled.ts';
import { PostgresBackend, type PostgresOptions } from './backend.ts';
import { queryParams, redact, validatePostgresUrl } from './url.ts';

/** The JSON config (what caddyfile.ts and the legacy URL produce). Durations: Go-style strings or nanoseconds. */
export interface PostgresTransportConfig extends ModuleConfig {
  /** `postgres://user:password@host:port/db?libpq_param=value`, required. */
  url: string;
  /** Keep at most this many newest updates; 0 or absent = keep all. */
  retention_max_rows?: number;
  /** Delete updates older than this; 0 or absent = keep all. */
  retention_max_age?: string | number;
  /** How often the retention limits are applied. Default 1m. */
  retention_interval?: string | number;
  /** How often this node refreshes its presence heartbeat. Default 5s. */
  presence_heartbeat?: string | number;
  /** A node silent this long drops out of the subscriber list. Default 15s; must exceed presence_heartbeat. */
  presence_ttl?: string | number;
}

/** Config keys besides `url`, which the legacy URL also accepts as query parameters. */
const OPTION_KEYS = ['retention_max_rows', 'retention_max_age', 'retention_interval', 'presence_heartbeat', 'presence_ttl'] as const;
const DURATIONS = ['retention_max_age', 'retention_interval', 'presence_heartbeat', 'presence_ttl'] as const;


/** Type, range and URL checks (pure); returns the programmatic options without log and node ID. */
export function checkPostgresConfig(cfg: PostgresTransportConfig): PostgresOptions {
  const span = spanOf(cfg);
  const bad = (key: string, expected: string) =>
    new ConfigError('ERR_CFG_VALUE', span, `transport postgres: invalid ${key} ${JSON.stringify(cfg[key])}`, { expected });
  for (const k of Object.keys(cfg)) {
    if (k !== '@span' && k !== 'url' && !(OPTION_KEYS as readonly string[]).includes(k)) throw unknownName('key in transport postgres', k, span, ['url', ...OPTION_KEYS]);
  }
  if (typeof cfg.url !== 'string' || cfg.url === '') throw bad('url', 'postgres://user:password@host:port/database');
  validatePostgresUrl(cfg.url, span);
  const rows = cfg.retention_max_rows;
  if (rows !== undefined && !(Number.isSafeInteger(rows) && rows >= 0)) throw bad('retention_max_rows', 'an integer >= 0');
  const ms: Partial<Record<(typeof DURATIONS)[number], number>> = {};
  for (const k of DURATIONS) {
    if (cfg[k] === undefined) continue;
    try { ms[k] = toMs(cfg[k], 0); } catch { throw bad(k, 'a duration such as 30s or 24h'); }
    if (!(ms[k]! >= 0)) throw bad(k, 'a duration >= 0');
  }
  const heartbeat = ms.presence_heartbeat || 5_000;
  const ttl = ms.presence_ttl || 15_000;
  if (ttl <= heartbeat) throw bad(cfg.presence_ttl !== undefined ? 'presence_ttl' : 'presence_heartbeat', `presence_ttl > presence_heartbeat (now ${ttl} ms <= ${heartbeat} ms)`);
  return {
    url: cfg.url,
    retentionMaxRows: rows ?? 0,
    retentionMaxAgeMs: ms.retention_max_age ?? 0,
    retentionIntervalMs: ms.retention_interval || 60_000,
    heartbeatMs: heartbeat,
    presenceTtlMs: ttl,
  };
}

/**
 * The deprecated `transport_url postgres://…` (or `postgresql://`) form. libpq
 * parameters stay in the URL; this transport's own options may also be given
 * as query parameters (`retention_max_rows=1000&retention_max_age=24h`);
 * `write_timeout` and `subscriptions`, which the Go hub appends to the legacy
 * URL, are dropped. Throws ConfigError on anything else unknown.
 */
export function postgresConfigFromUrl(url: string, span?: Span): PostgresTransportConfig {
  let u: URL | undefined;
  try { u = new URL(url); } catch { /* validatePostgresUrl reports it */ }
  if (!u || u.search.length <= 1) {
    validatePostgresUrl(url, span);
    return withSpan({ url }, span);
  }
  const config: Record<string, unknown> = {};
  const kept: string[] = [];
  let params: [string, string][];
  try { params = queryParams(u); } catch (err) {
    throw new ConfigError('ERR_CFG_VALUE', span, `invalid percent-encoding in PostgreSQL URL "${redact(url)}"`, { cause: err });
  }
  const raw = u.search.slice(1).split('&').filter((p) => p !== '');
  params.forEach(([name, value], i) => {
    if (name === 'write_timeout' || name === 'subscriptions') return;
    if (name === 'retention_max_rows') {
      if (!/^\d+$/.test(value)) throw new ConfigError('ERR_CFG_VALUE', span, `invalid retention_max_rows=${value} in the PostgreSQL URL`, { expected: 'an integer >= 0' });
      config[name] = Number(value);
    } else if ((DURATIONS as readonly string[]).includes(name)) {
      config[name] = value;
    } else {
      kept.push(raw[i]!);
    }
  });
  u.search = kept.length ? '?' + kept.join('&') : '';
  const out = withSpan({ ...config, url: u.href }, span);
  checkPostgresConfig(out);
  return out;
}


/** One provisioned use of a pooled PostgreSQL transport (connects and migrates at most once per distinct config). */
export class PostgresTransport extends PooledTransport {
  readonly config: PostgresTransportConfig;

  constructor(config: PostgresTransportConfig) {
    const options = checkPostgresConfig(config);
    super('mercure.transports.postgres', (ctx) => {
      // A readable node ID, for people querying mercure_nodes.
      const nodeId = newNodeId();
      return {
        key: options,
        backend: () => new PostgresBackend({ ...options, nodeId, log: ctx.log }),
        started: { url: redact(options.url), node: nodeId },
      };
    });
    this.config = config;
  }
}

/** The module info (the descriptor in index.ts carries it). */
export const postgresTransportModule: ModuleInfo<PostgresTransportConfig, PostgresTransport> = {
  id: 'mercure.transports.postgres',
  create: (config) => new PostgresTransport(config),
};

/** The legacy URL schemes this transport answers. */
export const POSTGRES_URL_SCHEMES = ['postgres', 'postgresql'] as const;
