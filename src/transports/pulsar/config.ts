/**
 * Configuration of the Pulsar transport, as the commercial High
 * Availability hub spells it, plus token/TLS and the index size:
 *
 *     transport pulsar {
 *         url               pulsar://host:6650      # required; pulsar+ssl://host:6651 = TLS
 *         topic             <name>                  # required; the same on every node
 *         subscription_name <name>                  # different on every node; generated (and logged) when absent
 *         token             <jwt>                   # Pulsar token authentication
 *         tls                                       # TLS even on a pulsar:// URL
 *         tls_ca            <pem file>              # CA bundle to verify the broker
 *         tls_insecure_skip_verify                  # do not verify the broker's certificate (tests only)
 *         index_size        <n>                     # update IDs kept for history (default 100000)
 *     }
 *
 * Deprecated: `transport_url pulsar://host:6650?topic=…&subscription_name=…`
 * (also `token`, `tls=1`, `tls_ca`, `index_size`; `pulsar+ssl://` = TLS).
 */
import type { Span } from '../../../grammar/ast.ts';
import type { Dispenser } from '../../caddyfile/dispenser.ts';
import { parseBlock as parseTable, type SubTable } from '../../caddyfile/table.ts';
import { ConfigError, unknownName } from '../../host/errors.ts';
import type { ModuleConfig } from '../../host/module.ts';
import { parseServiceUrl } from './client/index.ts';

export interface PulsarTransportConfig extends ModuleConfig {
  url: string;
  topic: string;
  subscription_name?: string;
  token?: string;
  tls?: boolean;
  tls_ca?: string;
  tls_insecure_skip_verify?: boolean;
  index_size?: number;
}

/** Legacy transport_url schemes. */
export const schemes = ['pulsar', 'pulsar+ssl'];

const URL_PARAMS = ['topic', 'subscription_name', 'token', 'tls', 'tls_ca', 'tls_insecure_skip_verify', 'index_size'];

export function spanOf(cfg: ModuleConfig): Span | undefined {
  const m = typeof cfg['@span'] === 'string' ? /^(.*):(\d+):(\d+)$/.exec(cfg['@span']) : null;
  return m ? { file: m[1]!, line: Number(m[2]), column: Number(m[3]) } as Span : undefined;
}

/** Type and range checks (pure); throws ConfigError at the config's span. */
export function checkConfig(cfg: PulsarTransportConfig): void {
  const bad = (key: string, expected: string) =>
    new ConfigError('ERR_CFG_VALUE', spanOf(cfg), `transport pulsar: invalid ${key} ${key === 'token' ? '(hidden)' : JSON.stringify(cfg[key])}`, { expected });
  if (typeof cfg.url !== 'string') throw bad('url', 'pulsar://host:6650 or pulsar+ssl://host:6651');
  try { parseServiceUrl(cfg.url); } catch { throw bad('url', 'pulsar://host:6650 or pulsar+ssl://host:6651'); }
  if (typeof cfg.topic !== 'string' || cfg.topic === '' || /\s/.test(cfg.topic)) throw bad('topic', 'a topic name (name, tenant/namespace/name or persistent://…)');
  if (cfg.subscription_name !== undefined && (typeof cfg.subscription_name !== 'string' || cfg.subscription_name === '')) throw bad('subscription_name', 'a non-empty name, different on every node');
  for (const k of ['token', 'tls_ca'] as const) if (cfg[k] !== undefined && typeof cfg[k] !== 'string') throw bad(k, 'a string');
  for (const k of ['tls', 'tls_insecure_skip_verify'] as const) if (cfg[k] !== undefined && typeof cfg[k] !== 'boolean') throw bad(k, 'true or false');
  if (cfg.index_size !== undefined && !(Number.isSafeInteger(cfg.index_size) && cfg.index_size >= 1)) throw bad('index_size', 'an integer ≥ 1');
}

/** Parses `transport_url pulsar://host:6650?topic=…&subscription_name=…`. */
export function parseUrl(url: string, span?: Span): PulsarTransportConfig {
  const expected = 'pulsar://host:6650?topic=<name>&subscription_name=<name>';
  const q = url.indexOf('?');
  const base = q < 0 ? url : url.slice(0, q);
  const m = /^(pulsar|pulsar\+ssl):\/\/[^/?#]+\/?$/.exec(base);
  if (!m) throw new ConfigError('ERR_CFG_VALUE', span, `not a Pulsar URL: "${redact(url)}"`, { expected });
  const config: PulsarTransportConfig = { url: base.replace(/\/$/, ''), topic: '' };
  if (span) config['@span'] = `${span.file}:${span.line}:${span.column}`;
  if (m[1] === 'pulsar+ssl') config.tls = true;
  for (const [name, value] of new URLSearchParams(q < 0 ? '' : url.slice(q + 1))) {
    if (!URL_PARAMS.includes(name)) throw unknownName('query parameter in the Pulsar URL', name, span, URL_PARAMS);
    switch (name) {
      case 'tls': case 'tls_insecure_skip_verify':
        if (!['0', '1', 'true', 'false'].includes(value)) throw new ConfigError('ERR_CFG_VALUE', span, `invalid ${name}=${value} in the Pulsar URL`, { expected: '0 or 1' });
        if (value === '1' || value === 'true') config[name] = true;
        break;
      case 'index_size':
        if (!/^\d+$/.test(value) || Number(value) < 1) throw new ConfigError('ERR_CFG_VALUE', span, `invalid index_size=${value} in the Pulsar URL`, { expected: 'an integer ≥ 1' });
        config.index_size = Number(value);
        break;
      default: config[name] = value;
    }
  }
  if (!config.topic) throw new ConfigError('ERR_CFG_VALUE', span, `Pulsar URL "${redact(url)}" needs a topic`, { expected });
  checkConfig(config);
  return config;
}

const TABLE: SubTable = {
  url: {
    parse: (d) => {
      const t = d.args(1)[0]!;
      try { parseServiceUrl(t.text); } catch { throw d.err(`invalid Pulsar URL "${t.text}"`, t, { expected: 'pulsar://host:6650 or pulsar+ssl://host:6651' }); }
      return t.text;
    },
  },
  topic: { kind: 'string' },
  subscription_name: { kind: 'string' },
  token: { kind: 'string' },
  tls: { kind: 'bool' },
  tls_ca: { kind: 'string' },
  tls_insecure_skip_verify: { kind: 'bool' },
  index_size: { kind: 'uint' },
};

/** Parses a `transport pulsar { … }` block (`d` positioned after the module name). */
export function parseBlock(d: Dispenser): PulsarTransportConfig {
  d.done();
  if (!d.hasBlock()) throw d.err('transport pulsar needs a block', d.span, { expected: 'transport pulsar { url pulsar://host:6650  topic <name> }' });
  const raw = parseTable(d, TABLE, 'transport pulsar');
  if (typeof raw.url !== 'string') throw d.err('transport pulsar needs a url', d.span, { expected: `'url pulsar://host:6650'` });
  if (typeof raw.topic !== 'string') throw d.err('transport pulsar needs a topic', d.span, { expected: `'topic <name>', the same on every node` });
  if (raw.index_size === 0) throw d.err('index_size must be at least 1', d.span, { expected: 'an integer ≥ 1' });
  const config: PulsarTransportConfig = { '@span': d.where, ...raw, url: raw.url, topic: raw.topic };
  if (config.url.startsWith('pulsar+ssl:')) config.tls ??= true;
  checkConfig(config);
  return config;
}

function redact(url: string): string {
  return url.replace(/([?&]token=)[^&]*/, '$1***');
}
