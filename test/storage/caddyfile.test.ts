/**
 * `storage redis` in the Caddyfile → the JSON config, and its parse errors
 * (the plugin's messages, positioned on the Caddyfile line).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adaptCaddyfile } from '../../src/runtime/load-config.ts';
import { ConfigErrors } from '../../src/host/errors.ts';

function storageOf(global: string, env: Record<string, string> = {}): Record<string, unknown> {
  const { config } = adaptCaddyfile(`{\n${global}\n}\n:8080 {\n\trespond ok\n}\n`, { file: 'Caddyfile', env });
  const s = { ...(config.storage as Record<string, unknown>) };
  delete s['@span'];
  return s;
}

function errorOf(global: string): string {
  try { storageOf(global); } catch (e) {
    assert.ok(e instanceof ConfigErrors, String(e));
    return e.errors.map((x) => x.message).join('\n');
  }
  assert.fail('expected a config error');
}

test('`storage redis` alone gives the defaults (module only)', () => {
  assert.deepEqual(storageOf('\tstorage redis'), { module: 'redis' });
});

test('every option, single values and lists, as the plugin spells them', () => {
  const s = storageOf(`\tstorage redis cluster {
		address {
			10.0.0.1:6379
			10.0.0.2:6379
		}
		host 127.0.0.1
		port {
			6379
			6380
		}
		db 2
		timeout 5
		username caddy
		password {env.REDIS_PASSWORD}
		key_prefix /caddy/prod/
		aes_key 0123456789abcdef0123456789abcdef
		compression zlib
		tls_enabled true
		tls_insecure false
		tls_server_certs_path /etc/redis/ca.pem
		route_by_latency false
		route_randomly true
	}`);
  assert.deepEqual(s, {
    module: 'redis', client_type: 'cluster', address: ['10.0.0.1:6379', '10.0.0.2:6379'], host: ['127.0.0.1'], port: ['6379', '6380'],
    db: 2, timeout: '5', username: 'caddy', password: '{env.REDIS_PASSWORD}', key_prefix: '/caddy/prod/',
    encryption_key: '0123456789abcdef0123456789abcdef', compression: 'zlib', tls_enabled: true, tls_insecure: false,
    tls_server_certs_path: '/etc/redis/ca.pem', route_by_latency: false, route_randomly: true,
  });
});

test('failover with sentinel options; a heredoc PEM; parse-time {$VAR}', () => {
  const s = storageOf(`\tstorage redis failover {
		address 10.0.0.9:26379
		master_name mymaster
		sentinel_password {$SENTINEL_PASS}
		db {env.REDIS_DB}
		tls_enabled 1
		tls_server_certs_pem <<PEM
			-----BEGIN CERTIFICATE-----
			MIIB
			-----END CERTIFICATE-----
			PEM
	}`, { SENTINEL_PASS: 'sp' });
  assert.deepEqual(s, {
    module: 'redis', client_type: 'failover', address: ['10.0.0.9:26379'], master_name: 'mymaster', sentinel_password: 'sp',
    db: '{env.REDIS_DB}', tls_enabled: true, tls_server_certs_pem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
  });
});

test('errors: the plugin messages, at the offending line', () => {
  const cases: [string, RegExp][] = [
    ['\tstorage redis sentinel', /wrong argument count/],
    ['\tstorage redis {\n\t\tvalue_prefix x\n\t}', /Caddyfile:3:3: unknown configuration key: value_prefix/],
    ['\tstorage redis {\n\t\tkey_prefx x\n\t}', /did you mean "key_prefix"/],
    ['\tstorage redis {\n\t\taddress {\n\t\t}\n\t}', /no value supplied for configuraton key 'address'/],
    ['\tstorage redis {\n\t\tdb two\n\t}', /invalid db value: two/],
    ['\tstorage redis {\n\t\ttimeout 1.5\n\t}', /invalid timeout value: 1.5/],
    ['\tstorage redis {\n\t\tport http\n\t}', /invalid port value: http/],
    ['\tstorage redis {\n\t\ttls_enabled yes\n\t}', /invalid boolean value for 'tls_enabled': yes/],
    ['\tstorage redis {\n\t\tcompression gzip\n\t}', /invalid value for 'compression': gzip \(expected 'true', 'flate', 'zlib', or 'false'\)/],
    ['\tstorage redis {\n\t\tencryption_key short\n\t}', /invalid length for 'encryption_key', must contain at least 32 bytes/],
    ['\tstorage redis {\n\t\tkey_prefix a//b\n\t}', /invalid key_prefix segment: ""/],
    ['\tstorage redis {\n\t\thost a b\n\t}', /wrong argument count/],
  ];
  for (const [input, re] of cases) assert.match(errorOf(input), re, input);
});
