/**
 * The PostgreSQL transport of the `mercure` directive, as the commercial
 * High Availability hub spells it, plus this hub's retention and presence knobs:
 *
 *     transport postgres {
 *         url                <postgres://user:password@host:port/db?libpq_param=value…>  # required
 *         retention_max_rows <n>          # keep the newest n updates; 0 (default) keeps all
 *         retention_max_age  <duration>   # delete updates older than this; 0 (default) keeps all
 *         retention_interval <duration>   # how often retention runs; default 1m
 *         presence_heartbeat <duration>   # node heartbeat period; default 5s
 *         presence_ttl       <duration>   # silent nodes leave the subscriber list after this; default 15s
 *     }
 *
 * libpq connection parameters go in the URL's query (sslmode, application_name,
 * connect_timeout, options, …; see url.ts for the list).
 * An unknown one is an error at the URL's position.
 *
 * The deprecated form `transport_url postgres://…` (or `postgresql://…`) is
 * parsed by parsePostgresUrl; it also takes the options above as query parameters.
 */
import { checkPostgresConfig, postgresConfigFromUrl, type PostgresTransportConfig } from './module.ts';
import { validatePostgresUrl } from './url.ts';
import type { Dispenser } from '../../caddyfile/dispenser.ts';
import { parseBlock, type SubTable } from '../../caddyfile/table.ts';

const TABLE: SubTable = {
  url: {
    parse: (d) => {
      const t = d.args(1)[0]!;
      validatePostgresUrl(t.text, t.span);
      return t.text;
    },
  },
  retention_max_rows: { kind: 'uint' },
  retention_max_age: { kind: 'duration' },
  retention_interval: { kind: 'duration' },
  presence_heartbeat: { kind: 'duration' },
  presence_ttl: { kind: 'duration' },
};

/**
 * Parses a `transport postgres { … }` block. `d` is the `transport` line,
 * positioned after the module name; the config's `@span` is the line.
 */
export function parsePostgresTransport(d: Dispenser): PostgresTransportConfig {
  d.done();
  if (!d.hasBlock()) throw d.err('transport postgres needs a block', d.span, { expected: 'transport postgres { url postgres://… }' });
  const raw = parseBlock(d, TABLE, 'transport postgres');
  if (typeof raw.url !== 'string') throw d.err('transport postgres needs a url', d.span, { expected: `'url postgres://user:password@host:port/database'` });
  const config: PostgresTransportConfig = { '@span': d.where, ...raw, url: raw.url };
  checkPostgresConfig(config); // cross-field rules (presence_ttl > presence_heartbeat), reported at the line
  return config;
}

/** Parses the deprecated `transport_url postgres://…` form (see postgresConfigFromUrl). */
export const parsePostgresUrl = postgresConfigFromUrl;
