/**
 * The deprecated `transport_url` form of the Kafka transport, as the
 * commercial hub documented it:
 *   kafka://<anything>/?addr=host1:9092&addr=host2:9092&topic=<topic>&consumer_group=<group>&user=<u>&password=<p>&tls=1
 * The URL's host is ignored (the brokers are the `addr` parameters, repeated
 * for several). Besides the documented parameters this hub accepts the
 * options of the `transport kafka` block under the same names
 * (sasl_mechanism, tls_ca_file, …). Any other parameter is an error.
 */
import type { Span } from '../../../grammar/ast.ts';
import { ConfigError, unknownName } from '../../host/errors.ts';
import { checkKafkaConfig, parseBrokerAddress, SASL_MECHANISMS, type KafkaTransportConfig, type SaslMechanism } from './config.ts';

/** The URL schemes that select the Kafka transport. */
export const schemes = ['kafka'];

const STRINGS = ['topic', 'consumer_group', 'user', 'password', 'tls_ca_file', 'tls_cert_file', 'tls_key_file'] as const;
const BOOLS = ['tls', 'tls_insecure_skip_verify'] as const;
const PARAMS = ['addr', ...STRINGS, ...BOOLS, 'sasl_mechanism', 'index_size'];

export function parseUrl(url: string, span?: Span): KafkaTransportConfig {
  const expected = 'kafka://kafka/?addr=host:9092&topic=<topic>[&consumer_group=…&user=…&password=…&tls=1]';
  let u: URL;
  try { u = new URL(url); } catch {
    throw new ConfigError('ERR_CFG_VALUE', span, `invalid Kafka URL "${redact(url)}"`, { expected });
  }
  if (u.protocol !== 'kafka:') throw new ConfigError('ERR_CFG_VALUE', span, `not a Kafka URL: "${redact(url)}"`, { expected });
  const config: KafkaTransportConfig = { addresses: [], topic: '' };
  if (span) config['@span'] = `${span.file}:${span.line}:${span.column}`;
  const seen = new Set<string>();
  for (const [name, value] of u.searchParams) {
    if (!PARAMS.includes(name)) throw unknownName('query parameter in the Kafka URL', name, span, PARAMS);
    if (name !== 'addr' && seen.has(name)) throw new ConfigError('ERR_CFG_VALUE', span, `${name} appears twice in the Kafka URL`, { expected: `one ${name} parameter` });
    seen.add(name);
    const bad = (what: string) => new ConfigError('ERR_CFG_VALUE', span, `invalid ${name}=${name === 'password' ? '***' : value} in the Kafka URL`, { expected: what });
    if (name === 'addr') {
      try { parseBrokerAddress(value); } catch { throw bad('host:port'); }
      config.addresses.push(value);
    } else if ((BOOLS as readonly string[]).includes(name)) {
      if (!['0', '1', 'true', 'false'].includes(value)) throw bad('0 or 1');
      (config as Record<string, unknown>)[name] = value === '1' || value === 'true';
    } else if (name === 'sasl_mechanism') {
      if (!(SASL_MECHANISMS as readonly string[]).includes(value.toLowerCase())) throw bad(SASL_MECHANISMS.join(', '));
      config.sasl_mechanism = value.toLowerCase() as SaslMechanism;
    } else if (name === 'index_size') {
      if (!/^\d+$/.test(value)) throw bad('an integer >= 0');
      config.index_size = Number(value);
    } else {
      (config as Record<string, unknown>)[name] = value;
    }
  }
  if (config.addresses.length === 0) throw new ConfigError('ERR_CFG_VALUE', span, `the Kafka URL needs at least one addr parameter`, { expected });
  if (!config.topic) throw new ConfigError('ERR_CFG_VALUE', span, `the Kafka URL needs a topic parameter`, { expected });
  checkKafkaConfig(config);
  return config;
}

/** The URL with its password parameter masked, for error messages. */
function redact(url: string): string {
  return url.replace(/([?&]password=)[^&]*/g, '$1***').replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
