/**
 * Client options for @platformatic/kafka from the transport's config: brokers,
 * SASL, TLS, and timeouts short enough that an outage shows as a 503 within
 * seconds, not minutes. Also the error mapping every Kafka call shares.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { QsError } from '../../host/errors.ts';
import { usesTls, type KafkaTransportConfig } from './config.ts';

/** Connection settings of one client, in @platformatic/kafka's BaseOptions shape. */
export interface ClientOptions {
  clientId: string;
  bootstrapBrokers: string[];
  connectTimeout: number;
  timeout: number;
  requestTimeout: number;
  retries: number;
  retryDelay: number;
  tls?: TlsOptions;
  sasl?: { mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; username: string; password: string };
}

/** Per-request bound: a dead broker fails a publish (→ 503) within this. */
export const REQUEST_TIMEOUT_MS = 5_000;

/**
 * Options for one client. Files (CA, client certificate) are read here, at
 * provision, so a missing file fails the start with its name.
 */
export function clientOptions(cfg: KafkaTransportConfig, clientId: string): ClientOptions {
  const o: ClientOptions = {
    clientId,
    bootstrapBrokers: cfg.addresses,
    connectTimeout: 3_000,
    timeout: REQUEST_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    // The transport retries itself (reader loop, reconnects); a publish fails fast instead of hanging.
    retries: 1,
    retryDelay: 250,
  };
  if (usesTls(cfg)) {
    const tls: TlsOptions = { rejectUnauthorized: cfg.tls_insecure_skip_verify !== true };
    const read = (what: string, file: string) => {
      try { return readFileSync(file); } catch (err) {
        throw new QsError('ERR_TRANSPORT_UNAVAILABLE', `kafka transport: cannot read ${what} ${file}: ${(err as Error).message}`, { cause: err });
      }
    };
    if (cfg.tls_ca_file) tls.ca = read('tls_ca_file', cfg.tls_ca_file);
    if (cfg.tls_cert_file && cfg.tls_key_file) {
      tls.cert = read('tls_cert_file', cfg.tls_cert_file);
      tls.key = read('tls_key_file', cfg.tls_key_file);
    }
    o.tls = tls;
  }
  if (cfg.user !== undefined && cfg.password !== undefined) {
    const mechanism = (cfg.sasl_mechanism ?? 'plain').toUpperCase() as NonNullable<ClientOptions['sasl']>['mechanism'];
    o.sasl = { mechanism, username: cfg.user, password: cfg.password };
  }
  return o;
}

/** The most telling message of a client error (its AggregateError parts included). */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const inner = (err as Error & { errors?: unknown[] }).errors;
  if (Array.isArray(inner) && inner.length) {
    const parts = [...new Set(inner.map(describeError))];
    return `${err.message}: ${parts.join('; ')}`;
  }
  const cause = (err as Error & { cause?: unknown }).cause;
  return cause instanceof Error && !err.message.includes(cause.message) ? `${err.message}: ${cause.message}` : err.message;
}

/** A client error as the transport's 503. */
export function unavailable(err: unknown, what = 'the Kafka broker is unavailable'): QsError {
  if (err instanceof QsError) return err;
  return new QsError('ERR_TRANSPORT_UNAVAILABLE', `kafka transport: ${what}: ${describeError(err)}`, { cause: err });
}
