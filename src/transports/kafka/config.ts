/**
 * The Kafka transport's JSON config (what `transport kafka { … }` and the
 * legacy `transport_url kafka://…` both produce), and its checks.
 */
import { ConfigError } from '../../host/errors.ts';
import type { ModuleConfig } from '../../host/module.ts';

/** SASL mechanisms the transport offers (`sasl_mechanism`). */
export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export interface KafkaTransportConfig extends ModuleConfig {
  /** Bootstrap brokers, `host:port`. */
  addresses: string[];
  /** The one topic every node shares (one partition). */
  topic: string;
  /** This node's consumer group; generated (and logged) when absent. Must differ per node. */
  consumer_group?: string;
  /** SASL credentials (both or neither). */
  user?: string;
  password?: string;
  /** Default plain. */
  sasl_mechanism?: SaslMechanism;
  tls?: boolean;
  /** PEM file of the CA(s) that signed the brokers' certificates (default: the system's). */
  tls_ca_file?: string;
  /** PEM client certificate and key files, for brokers that require one (both or neither). */
  tls_cert_file?: string;
  tls_key_file?: string;
  /** Accept any broker certificate (tests only). */
  tls_insecure_skip_verify?: boolean;
  /** IDs kept in the in-memory ID → offset index (default 100 000; see backend.ts). */
  index_size?: number;
}

/** Default size of the ID → offset index. */
export const DEFAULT_INDEX_SIZE = 100_000;

/** `host:port` of a broker; the port is required (Kafka has no single default worth guessing). */
export function parseBrokerAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:/\s]+)):(\d+)$/.exec(address.trim());
  if (!m) throw new Error(`invalid Kafka broker address "${address}" (expected host:port)`);
  const port = Number(m[3]);
  if (!(port > 0 && port < 65536)) throw new Error(`invalid port in Kafka broker address "${address}"`);
  return { host: m[1] ?? m[2]!, port };
}

/** Kafka's own rule for topic names. */
export const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

export function spanOf(cfg: ModuleConfig): { file: string; line: number; column: number } | undefined {
  const m = typeof cfg['@span'] === 'string' ? /^(.*):(\d+):(\d+)$/.exec(cfg['@span']) : null;
  return m ? { file: m[1]!, line: Number(m[2]), column: Number(m[3]) } : undefined;
}

/** Type and range checks (pure); throws ConfigError at the config's span. */
export function checkKafkaConfig(cfg: KafkaTransportConfig): void {
  const bad = (key: string, expected: string, why = `invalid ${key} ${JSON.stringify(cfg[key])}`) =>
    new ConfigError('ERR_CFG_VALUE', spanOf(cfg), `transport kafka: ${why}`, { expected });
  if (!Array.isArray(cfg.addresses) || cfg.addresses.length === 0) throw bad('addresses', 'at least one host:port');
  for (const a of cfg.addresses) {
    try { parseBrokerAddress(String(a)); } catch (err) { throw bad('addresses', 'host:port', (err as Error).message); }
  }
  if (typeof cfg.topic !== 'string' || !TOPIC_NAME.test(cfg.topic)) throw bad('topic', 'a Kafka topic name: 1 to 249 of a-z A-Z 0-9 . _ -');
  if (cfg.consumer_group !== undefined && (typeof cfg.consumer_group !== 'string' || cfg.consumer_group === '')) throw bad('consumer_group', 'a non-empty string');
  for (const k of ['user', 'password', 'tls_ca_file', 'tls_cert_file', 'tls_key_file'] as const) {
    if (cfg[k] !== undefined && typeof cfg[k] !== 'string') throw bad(k, 'a string');
  }
  if ((cfg.user === undefined) !== (cfg.password === undefined)) throw bad(cfg.user === undefined ? 'password' : 'user', 'user and password together', 'user and password go together');
  if (cfg.sasl_mechanism !== undefined && !SASL_MECHANISMS.includes(cfg.sasl_mechanism)) throw bad('sasl_mechanism', SASL_MECHANISMS.join(', '));
  if (cfg.sasl_mechanism !== undefined && cfg.user === undefined) throw bad('sasl_mechanism', 'user and password with sasl_mechanism', 'sasl_mechanism needs user and password');
  for (const k of ['tls', 'tls_insecure_skip_verify'] as const) if (cfg[k] !== undefined && typeof cfg[k] !== 'boolean') throw bad(k, 'true or false');
  if ((cfg.tls_cert_file === undefined) !== (cfg.tls_key_file === undefined)) throw bad(cfg.tls_cert_file === undefined ? 'tls_key_file' : 'tls_cert_file', 'tls_cert_file and tls_key_file together', 'tls_cert_file and tls_key_file go together');
  if (cfg.index_size !== undefined && !(Number.isSafeInteger(cfg.index_size) && cfg.index_size >= 0)) throw bad('index_size', 'an integer ≥ 0');
}

/** Whether the config asks for TLS (any tls_* option implies it). */
export function usesTls(cfg: KafkaTransportConfig): boolean {
  return cfg.tls === true || cfg.tls_ca_file !== undefined || cfg.tls_cert_file !== undefined || cfg.tls_insecure_skip_verify === true;
}
