/**
 * `transport kafka { … }` of the `mercure` directive, as the commercial High
 * Availability hub spells it, plus SASL mechanism and TLS files:
 *
 *     transport kafka {
 *         address   <host:port>                  # or:
 *         addresses <host:port> <host:port>…     # bootstrap brokers (required)
 *         topic     <name>                       # required; the same on every node
 *         consumer_group <name>                  # different on every node; generated when absent
 *         user      <sasl user>
 *         password  <sasl password>
 *         sasl_mechanism plain|scram-sha-256|scram-sha-512   # default plain
 *         tls                                    # or: tls true|false
 *         tls_ca_file   <pem file>               # CA of the brokers' certificates (implies tls)
 *         tls_cert_file <pem file>               # client certificate … (implies tls)
 *         tls_key_file  <pem file>               # … and its key
 *         tls_insecure_skip_verify               # accept any broker certificate (tests only)
 *         index_size <n>                         # IDs in the ID → offset index; default 100000
 *     }
 */
import type { Dispenser } from '../../caddyfile/dispenser.ts';
import { parseBlock as parseTable, type SubTable } from '../../caddyfile/table.ts';
import { checkKafkaConfig, parseBrokerAddress, SASL_MECHANISMS, type KafkaTransportConfig } from './config.ts';

/** Checks `host:port` at parse time, so a typo is reported at its own position. */
function addresses(d: Dispenser, max: number): string[] {
  return d.args(1, max).map((t) => {
    try { parseBrokerAddress(t.text); } catch (err) { throw d.err((err as Error).message, t, { code: 'ERR_CFG_ARGS', expected: 'host:port' }); }
    return t.text;
  });
}

const TABLE: SubTable = {
  address: { key: 'addresses', parse: (d) => addresses(d, 1) },
  addresses: { parse: (d) => addresses(d, Infinity) },
  topic: { kind: 'string' },
  consumer_group: { kind: 'string' },
  user: { kind: 'string' },
  password: { kind: 'string' },
  sasl_mechanism: {
    parse: (d) => {
      const t = d.args(1)[0]!;
      const v = t.text.toLowerCase();
      if (!(SASL_MECHANISMS as readonly string[]).includes(v)) throw d.err(`unknown sasl_mechanism "${t.text}"`, t, { expected: SASL_MECHANISMS.join(', ') });
      return v;
    },
  },
  tls: { kind: 'bool' },
  tls_ca_file: { kind: 'string' },
  tls_cert_file: { kind: 'string' },
  tls_key_file: { kind: 'string' },
  tls_insecure_skip_verify: { kind: 'bool' },
  index_size: { kind: 'uint' },
};

/** Parses a `transport kafka { … }` block; `d` is the `transport` line, after the module name. */
export function parseBlock(d: Dispenser): KafkaTransportConfig {
  d.done();
  if (!d.hasBlock()) throw d.err('transport kafka needs a block', d.span, { expected: 'transport kafka { address host:9092; topic <name> }' });
  const raw = parseTable(d, TABLE, 'transport kafka');
  if (!Array.isArray(raw.addresses)) throw d.err('transport kafka needs an address', d.span, { expected: `'address host:port' or 'addresses host:port …'` });
  if (typeof raw.topic !== 'string') throw d.err('transport kafka needs a topic', d.span, { expected: `'topic <name>', the same on every node` });
  const config: KafkaTransportConfig = { '@span': d.where, ...raw, addresses: raw.addresses as string[], topic: raw.topic };
  checkKafkaConfig(config); // cross-field rules (user with password, cert with key), reported at the line
  return config;
}
