/**
 * Legacy settings → the Caddy-shaped JSON config the host runs: one server on
 * `addr` (the hub, `/healthz`, and Go's 404 for anything else, as the legacy
 * server answered), plus a metrics server on `metrics_addr` when enabled.
 */
import type { Warning } from '../../../directives/adapter.ts';
import { ConfigError, ConfigErrors } from '../../host/errors.ts';
import { valueError, type LegacySettings, type Setting, type Source } from './read.ts';
import type { LegacyKeyName } from './keys.ts';

export const DEFAULT_METRICS_ADDR = '127.0.0.1:9764';
const GO_PORT_NAMES: Record<string, string> = { http: '80', https: '443' };

/** A Go listen address (`:3000`, `host:3000`, `[::1]:3000`, `:http`) → the listen form (`:3000`). */
export function listenAddress(name: string, source: Source, addr: string): string {
  const m = /^(\[[^\]]*\]|[^:[\]]*):([A-Za-z0-9]+)$/.exec(addr.trim());
  const port = m ? (GO_PORT_NAMES[m[2]!] ?? m[2]!) : undefined;
  if (!m || !/^\d+$/.test(port!) || Number(port) > 65535) {
    throw valueError(name, source, `${JSON.stringify(addr)} is not a listen address`, 'host:port or :port, e.g. :3000 or 127.0.0.1:3000');
  }
  return `${m[1]}:${port}`;
}

export interface Built { config: Record<string, unknown>; warnings: Warning[] }

/** Builds the config. `where` names the source in warnings (the file, or "environment"). */
export function buildConfig(settings: LegacySettings, where: string): Built {
  const get = <T>(k: LegacyKeyName): T | undefined => settings.get(k)?.value as T | undefined;
  const setting = (k: LegacyKeyName): Setting | undefined => settings.get(k);
  const warnings: Warning[] = [];
  const warn = (k: LegacyKeyName, message: string) => {
    const s = setting(k)!.source;
    warnings.push(s.span ? { file: s.span.file, line: s.span.line, column: s.span.column, message: `${k}: ${message}` }
      : { file: where, line: 0, message: `environment variable ${s.env}: ${message}` });
  };
  const errors: ConfigError[] = [];
  const fail = (k: LegacyKeyName | undefined, detail: string) => {
    const s = k ? setting(k) : undefined;
    errors.push(s ? valueError(k!, s.source, detail) : new ConfigError('ERR_CFG_VALUE', undefined, detail));
  };

  // --- keys: a specific key wins over jwt_key, as in the legacy server ---
  const pubKey = get<string>('publisher_jwt_key') || get<string>('jwt_key');
  const subKey = get<string>('subscriber_jwt_key') || get<string>('jwt_key');
  const alg = (k: 'publisher_jwt_algorithm' | 'subscriber_jwt_algorithm') => get<string>(k) || get<string>('jwt_algorithm') || 'HS256';
  const anonymous = get<boolean>('allow_anonymous') === true;
  if (!pubKey) fail(undefined, 'one of "jwt_key" or "publisher_jwt_key" must be set (environment variables JWT_KEY, PUBLISHER_JWT_KEY)');
  if (!subKey && !anonymous) fail(undefined, 'one of "jwt_key" or "subscriber_jwt_key" must be set, or "allow_anonymous" enabled (environment variables JWT_KEY, SUBSCRIBER_JWT_KEY, ALLOW_ANONYMOUS)');

  const hub: Record<string, unknown> = { handler: 'mercure' };
  if (pubKey) hub.publisher_jwt = { key: pubKey, alg: alg('publisher_jwt_algorithm') };
  if (subKey) hub.subscriber_jwt = { key: subKey, alg: alg('subscriber_jwt_algorithm') };
  if (anonymous) hub.anonymous = true;
  if (get<boolean>('subscriptions')) hub.subscriptions = true;
  if (get<boolean>('demo')) hub.demo = true;
  const durations: [LegacyKeyName, string][] = [['heartbeat_interval', 'heartbeat'], ['write_timeout', 'write_timeout'], ['dispatch_timeout', 'dispatch_timeout']];
  for (const [k, out] of durations) if (setting(k)) hub[out] = get<string>(k);
  const cors = get<string[]>('cors_allowed_origins');
  if (cors?.length) hub.cors_origins = cors;
  const publishOrigins = get<string[]>('publish_allowed_origins');
  if (publishOrigins?.length) hub.publish_origins = publishOrigins;
  const tcsz = get<number>('tcsz');
  if (tcsz) hub.cache = { size: tcsz };
  if (get<string>('transport_url')) hub.transport_url = get<string>('transport_url');
  // `license` is accepted and left out of the JSON, as the Caddyfile's `license` subdirective is.

  // --- the server ---
  const cert = get<string>('cert_file');
  const key = get<string>('key_file');
  if (cert && !key) fail('cert_file', 'needs "key_file" too');
  if (key && !cert) fail('key_file', 'needs "cert_file" too');
  const tls = Boolean(cert && key);
  let listen = tls ? ':443' : ':80';
  try {
    const addr = setting('addr');
    if (addr) listen = listenAddress('addr', addr.source, addr.value as string);
  } catch (e) { if (e instanceof ConfigError) errors.push(e); else throw e; }

  if (get<string[]>('acme_hosts')?.length) {
    fail('acme_hosts', 'automatic certificates from Let\'s Encrypt are not supported by this adapter; set "cert_file" and "key_file", or write a Caddyfile whose site addresses name the hosts');
  }
  for (const k of ['acme_cert_dir', 'acme_http01_addr'] as const) if (setting(k)) warn(k, 'has no effect (no ACME in the legacy adapter)');
  for (const k of ['read_timeout', 'read_header_timeout'] as const) if (setting(k)) warn(k, 'accepted, but the server does not apply it yet');

  const routes: Record<string, unknown>[] = [];
  if (get<boolean>('compress')) routes.push({ handle: [{ handler: 'encode', encodings: { gzip: {} }, prefer: ['gzip'] }] });
  routes.push({ handle: [hub] });
  routes.push({ match: [{ path: ['/healthz'] }], handle: [{ handler: 'static_response', status_code: 200 }], terminal: true });
  routes.push({ handle: [{ handler: 'static_response', status_code: 404, headers: { 'Content-Type': ['text/plain; charset=utf-8'] }, body: '404 page not found\n' }] });
  const server: Record<string, unknown> = { listen: [listen], routes };
  if (tls) server.tls_connection_policies = [{}];
  if (get<boolean>('use_forwarded_headers')) server.trusted_proxies = { source: 'static', ranges: ['0.0.0.0/0', '::/0'] };
  const servers: Record<string, unknown> = { srv0: server };

  if (get<boolean>('metrics_enabled')) {
    let metricsListen = DEFAULT_METRICS_ADDR;
    try {
      const m = setting('metrics_addr');
      if (m) metricsListen = listenAddress('metrics_addr', m.source, m.value as string);
    } catch (e) { if (e instanceof ConfigError) errors.push(e); else throw e; }
    if (metricsListen === listen) fail(setting('metrics_addr') ? 'metrics_addr' : undefined, `"metrics_addr" (${metricsListen}) must not be the same as "addr"`);
    servers.metrics = { listen: [metricsListen], routes: [{ match: [{ path: ['/metrics'] }], handle: [{ handler: 'metrics' }] }] };
  } else if (setting('metrics_addr')) {
    warn('metrics_addr', 'has no effect without metrics_enabled');
  }

  if (errors.length) throw new ConfigErrors(errors);
  const config: Record<string, unknown> = {};
  if (get<boolean>('debug')) config.logging = { level: 'DEBUG' };
  const apps: Record<string, unknown> = { http: { servers } };
  if (tls) apps.tls = { certificates: { load_files: [{ certificate: cert, key }] } };
  config.apps = apps;
  return { config, warnings };
}
