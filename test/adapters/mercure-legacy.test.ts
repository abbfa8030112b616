/**
 * The legacy adapter's pieces, in process: value conversion per kind,
 * listen addresses (Go's service names), key precedence (specific key over
 * jwt_key, environment over file), and the checks the legacy server made.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adaptMercureLegacy } from '../../src/adapters/mercure-legacy/index.ts';
import { convert } from '../../src/adapters/mercure-legacy/read.ts';
import { listenAddress } from '../../src/adapters/mercure-legacy/build.ts';

type Hub = Record<string, unknown>;
type Srv = { listen: string[]; routes: { handle: Hub[] }[] };
const servers = (c: Record<string, unknown>) => (c.apps as { http: { servers: Record<string, Srv> } }).http.servers;
const hubOf = (c: Record<string, unknown>): Hub => servers(c).srv0!.routes.flatMap((r) => r.handle).find((h) => h.handler === 'mercure')!;

test('values convert by kind, as the legacy server read them', () => {
  const env = { env: 'X' };
  assert.equal(convert('allow_anonymous', 'T', env), true);
  assert.equal(convert('allow_anonymous', '0', env), false);
  assert.equal(convert('allow_anonymous', 1, env), true);
  assert.equal(convert('heartbeat_interval', '1m30s', env), '1m30s');
  assert.equal(convert('heartbeat_interval', 0, env), '0s');
  assert.equal(convert('heartbeat_interval', '0', env), '0s');
  assert.deepEqual(convert('cors_allowed_origins', 'https://a.example, https://b.example https://c.example', env), ['https://a.example', 'https://b.example', 'https://c.example']);
  assert.deepEqual(convert('cors_allowed_origins', ['*'], env), ['*']);
  assert.equal(convert('tcsz', '250', env), 250);
  assert.equal(convert('jwt_key', 12345, env), '12345');
  assert.throws(() => convert('tcsz', -1, env), /environment variable X: -1 is not an integer ≥ 0/);
  assert.throws(() => convert('heartbeat_interval', '-5s', env), /is not a duration/);
  assert.throws(() => convert('jwt_key', true, env), /true is not a string/);
  assert.throws(() => convert('cors_allowed_origins', [1], env), /is not a list of strings/);
});

test('listen addresses: Go service names, IPv6, and what is refused', () => {
  const src = { env: 'ADDR' };
  assert.equal(listenAddress('addr', src, ':http'), ':80');
  assert.equal(listenAddress('addr', src, ':https'), ':443');
  assert.equal(listenAddress('addr', src, 'localhost:3000'), 'localhost:3000');
  assert.equal(listenAddress('addr', src, '[::1]:3000'), '[::1]:3000');
  for (const bad of ['3000', 'localhost', ':99999', ':ftp', 'a:b:3000']) {
    assert.throws(() => listenAddress('addr', src, bad), /environment variable ADDR: .* is not a listen address; expected host:port or :port/, bad);
  }
});

test('a specific key beats jwt_key, and each side falls back to jwt_algorithm', () => {
  const { config } = adaptMercureLegacy('jwt_key: shared\njwt_algorithm: HS384\nsubscriber_jwt_key: sub\nsubscriber_jwt_algorithm: HS512\n', 'mercure.yaml', {});
  const hub = hubOf(config);
  assert.deepEqual(hub.publisher_jwt, { key: 'shared', alg: 'HS384' });
  assert.deepEqual(hub.subscriber_jwt, { key: 'sub', alg: 'HS512' });
  assert.deepEqual(servers(config).srv0!.listen, [':80']);
});

test('the environment wins over the file; empty variables are unset; keys are case-insensitive in files', () => {
  const r = adaptMercureLegacy('JWT_KEY: file\nAllow_Anonymous: true\nheartbeat_interval: 10s\n', 'mercure.yaml', { JWT_KEY: 'env', HEARTBEAT_INTERVAL: '', ADDR: ':3000' });
  const hub = hubOf(r.config);
  assert.deepEqual(hub.publisher_jwt, { key: 'env', alg: 'HS256' });
  assert.equal(hub.anonymous, true);
  assert.equal(hub.heartbeat, '10s');
  assert.deepEqual(servers(r.config).srv0!.listen, [':3000']);
  assert.deepEqual(r.warnings.map((w) => `${w.file}:${w.line}:${w.column}: ${w.message}`), ['mercure.yaml:1:10: jwt_key: overridden by the environment variable JWT_KEY']);
});

test('the legacy server\'s checks: TLS files in pairs, metrics_addr differs from addr, no ACME; ignored keys warn', () => {
  assert.throws(() => adaptMercureLegacy('jwt_key: k\nallow_anonymous: true\ncert_file: c.pem\n', 'm.yaml', {}), /m\.yaml:3:12: "cert_file": needs "key_file" too/);
  assert.throws(() => adaptMercureLegacy('jwt_key: k\nallow_anonymous: true\naddr: 127.0.0.1:9764\nmetrics_enabled: true\n', 'm.yaml', {}),
    /"metrics_addr" \(127\.0\.0\.1:9764\) must not be the same as "addr"/);
  assert.throws(() => adaptMercureLegacy('jwt_key: k\nacme_hosts: [example.com]\n', 'm.yaml', {}), /m\.yaml:2:13: "acme_hosts": automatic certificates/);
  const r = adaptMercureLegacy('jwt_key: k\nacme_cert_dir: /certs\nread_timeout: 5s\nmetrics_addr: :9000\n', 'm.yaml', {});
  assert.deepEqual(r.warnings.map((w) => w.message), [
    'acme_cert_dir: has no effect (no ACME in the legacy adapter)',
    'read_timeout: accepted, but the server does not apply it yet',
    'metrics_addr: has no effect without metrics_enabled',
  ]);
  assert.equal(servers(r.config).metrics, undefined);
});

test('an empty file is the environment alone; a key without a value is unset', () => {
  const r = adaptMercureLegacy('# nothing yet\ndemo:\n', 'mercure.yaml', { JWT_KEY: 'k' });
  const hub = hubOf(r.config);
  assert.equal(hub.demo, undefined);
  assert.deepEqual(hub.subscriber_jwt, { key: 'k', alg: 'HS256' });
});
