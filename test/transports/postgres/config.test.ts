/**
 * Configuration of the PostgreSQL transport: the `transport postgres { … }`
 * block (through the real Caddyfile grammar and the mercure directive), the
 * legacy `postgres://` URL, libpq options and their mapping onto node-postgres,
 * and the module's own checks. No server needed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCaddyfile } from '../../../grammar/index.ts';
import { Dispenser } from '../../../src/caddyfile/dispenser.ts';
import { parseMercure } from '../../../directives/mercure.ts';
import { registerStandardModules } from '../../../src/runtime/standard.ts';
import { resolveTransportUrl } from '../../../src/mercure/transport-loader.ts';
import { postgresTransport } from '../../../src/transports/postgres/index.ts';
import { parsePostgresTransport, parsePostgresUrl } from '../../../src/transports/postgres/caddyfile.ts';
import { checkPostgresConfig, postgresTransportModule } from '../../../src/transports/postgres/module.ts';
import { LIBPQ_PARAMS, pgConfigFromUrl, redact, validatePostgresUrl } from '../../../src/transports/postgres/url.ts';

/** The `transport postgres` line of a Caddyfile whose mercure block holds `lines`. */
function transportLine(lines: string[]): Dispenser {
  const text = `:80 {\n\tmercure {\n\t\ttransport postgres {\n${lines.map((l) => `\t\t\t${l}\n`).join('')}\t\t}\n\t}\n}\n`;
  const { file, errors } = parseCaddyfile(text, { file: 'Caddyfile', env: {} });
  assert.deepEqual(errors, []);
  const d = new Dispenser(file.blocks[0]!.body[0]!.block![0]!);
  d.nextArg(); // the mercure directive consumed the module name
  return d;
}

const URL = 'postgres://hub:s3cret@db.internal:5433/mercure?sslmode=require&application_name=hub1';

test('transport postgres: url and every option', () => {
  const cfg = parsePostgresTransport(transportLine([
    `url "${URL}"`, 'retention_max_rows 10000', 'retention_max_age 24h', 'retention_interval 5m', 'presence_heartbeat 2s', 'presence_ttl 10s',
  ]));
  assert.deepEqual(cfg, {
    '@span': 'Caddyfile:3:3', url: URL, retention_max_rows: 10000, retention_max_age: '24h',
    retention_interval: '5m', presence_heartbeat: '2s', presence_ttl: '10s',
  });
  assert.deepEqual(parsePostgresTransport(transportLine(['url postgres://localhost/db'])), { '@span': 'Caddyfile:3:3', url: 'postgres://localhost/db' });
});

test('transport postgres through the mercure directive', () => {
  registerStandardModules();
  const { file } = parseCaddyfile(':80 {\n\tmercure {\n\t\ttransport postgres {\n\t\t\turl postgres://h/db\n\t\t}\n\t}\n}\n', { file: 'Caddyfile', env: {} });
  const d = new Dispenser(file.blocks[0]!.body[0]!);
  const cfg = parseMercure(d);
  assert.deepEqual(cfg.transport, { name: 'postgres', '@span': 'Caddyfile:3:3', url: 'postgres://h/db' });
});

const BAD: [string, string[], RegExp][] = [
  ['no url', ['retention_max_rows 5'], /Caddyfile:3:3: transport postgres needs a url/],
  ['unknown subdirective, did you mean', ['url postgres://h/db', 'retention_max_row 5'], /Caddyfile:5:4: unknown subdirective in transport postgres "retention_max_row".*did you mean "retention_max_rows"/],
  ['unknown URL option, naming the known ones', ['url postgres://h/db?sslmod=disable'], /Caddyfile:4:8: unknown PostgreSQL URL option "sslmod"; expected one of application_name, .*sslmode.*did you mean "sslmode"/],
  ['bad sslmode', ['url postgres://h/db?sslmode=maybe'], /invalid value "maybe" for PostgreSQL URL option "sslmode"; expected disable, allow/],
  ['bad connect_timeout', ['url postgres://h/db?connect_timeout=soon'], /connect_timeout/],
  ['wrong scheme', ['url mysql://h/db'], /invalid PostgreSQL URL scheme "mysql:"/],
  ['not a URL', ['url nothing'], /invalid PostgreSQL URL "nothing"/],
  ['bad duration', ['url postgres://h/db', 'retention_max_age forever'], /invalid duration 'forever'/],
  ['negative rows', ['url postgres://h/db', 'retention_max_rows -1'], /out of range/],
  ['ttl not above heartbeat', ['url postgres://h/db', 'presence_heartbeat 10s', 'presence_ttl 5s'], /Caddyfile:3:3: transport postgres: invalid presence_ttl "5s"; expected presence_ttl > presence_heartbeat/],
  ['url twice', ['url postgres://h/a', 'url postgres://h/b'], /set twice/],
];
for (const [what, lines, re] of BAD) {
  test(`transport postgres rejects: ${what}`, () => {
    assert.throws(() => parsePostgresTransport(transportLine(lines)), (err: Error & { code?: string }) => {
      assert.match(err.message, re);
      assert.match(err.code!, /^ERR_CFG_/);
      return true;
    });
  });
}

test('unknown URL options are ERR_CFG_VALUE and list every known libpq parameter', () => {
  assert.throws(() => validatePostgresUrl('postgres://h/db?gssencmode=disable'), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ERR_CFG_VALUE');
    for (const name of Object.keys(LIBPQ_PARAMS)) assert.ok(err.message.includes(name), name);
    return true;
  });
});

test('legacy transport_url: libpq options stay in the URL, ours move to the config, Go-appended ones are dropped', () => {
  registerStandardModules();
  assert.deepEqual(resolveTransportUrl('postgres://user:password@127.0.0.1/mercure-ha'),
    { name: 'postgres', config: { url: 'postgres://user:password@127.0.0.1/mercure-ha' } });
  assert.deepEqual(parsePostgresUrl('postgresql://h/db?sslmode=disable&retention_max_rows=100&retention_max_age=1h&write_timeout=10s&subscriptions=1&options=-c%20search_path%3Dx'), {
    url: 'postgresql://h/db?sslmode=disable&options=-c%20search_path%3Dx', retention_max_rows: 100, retention_max_age: '1h',
  });
  assert.throws(() => parsePostgresUrl('postgres://h/db?max_len_approx=5', { file: 'Caddyfile', line: 2, column: 3 }),
    /Caddyfile:2:3: unknown PostgreSQL URL option "max_len_approx"/);
  assert.throws(() => parsePostgresUrl('postgres://h/db?retention_max_rows=lots'), /invalid retention_max_rows=lots/);
});

test('libpq parameters map onto node-postgres with libpq meanings', () => {
  const c = pgConfigFromUrl('postgres://u%40x:p%2Fw@[::1]:6000/my%20db?application_name=hub&connect_timeout=1&keepalives=0&options=-c%20search_path%3Dq&client_encoding=UTF8');
  assert.equal(c.host, '::1');
  assert.equal(c.port, 6000);
  assert.equal(c.user, 'u@x');
  assert.equal(c.password, 'p/w');
  assert.equal(c.database, 'my db');
  assert.equal(c.application_name, 'hub');
  assert.equal(c.connectionTimeoutMillis, 2000, 'libpq rounds connect_timeout 1 up to 2 s');
  assert.equal(c.keepAlive, false);
  assert.equal(c.options, '-c search_path=q');
  assert.equal(c.ssl, false, 'prefer (the default) means no TLS: node-postgres cannot fall back');
  assert.equal(pgConfigFromUrl('postgres:///db?host=/var/run/postgresql&dbname=other&user=me').host, '/var/run/postgresql');
  assert.equal(pgConfigFromUrl('postgres:///db?dbname=other').database, 'other');
  assert.equal(pgConfigFromUrl('postgres://h/db?password=a+b').password, 'a+b', 'a + is not a space in libpq URIs');
  assert.equal(pgConfigFromUrl('postgres://h/db?connect_timeout=0').connectionTimeoutMillis, 0);
  assert.equal(pgConfigFromUrl('postgres://h/db').connectionTimeoutMillis, 10_000);
  assert.deepEqual(pgConfigFromUrl('postgres://h/db?sslmode=require').ssl, { rejectUnauthorized: false });
  assert.deepEqual(pgConfigFromUrl('postgres://h/db?sslmode=verify-full').ssl, {});
  assert.equal(typeof (pgConfigFromUrl('postgres://h/db?sslmode=verify-ca').ssl as { checkServerIdentity?: unknown }).checkServerIdentity, 'function');
  assert.throws(() => pgConfigFromUrl('postgres://h/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem'), /ENOENT/);
});

test('redact masks passwords in the user info and the query', () => {
  assert.equal(redact('postgres://u:secret@h/db?password=x&sslmode=disable'), 'postgres://u:***@h/db?password=***&sslmode=disable');
});

test('module config checks (JSON configs do not go through the directive)', () => {
  const opts = checkPostgresConfig({ url: 'postgres://h/db', retention_max_age: 3_600_000_000_000, presence_ttl: '30s' });
  assert.deepEqual(opts, { url: 'postgres://h/db', retentionMaxRows: 0, retentionMaxAgeMs: 3_600_000, retentionIntervalMs: 60_000, heartbeatMs: 5_000, presenceTtlMs: 30_000 });
  assert.throws(() => postgresTransportModule.create({ url: 'postgres://h/db', stream: 'x' }), { code: 'ERR_CFG_UNKNOWN' });
  assert.throws(() => postgresTransportModule.create({} as never), /invalid url/);
  assert.throws(() => postgresTransportModule.create({ url: 'postgres://h/db', retention_max_rows: 1.5 }), /retention_max_rows/);
  assert.throws(() => postgresTransportModule.create({ url: 'postgres://h/db', presence_ttl: 'x', '@span': 'Caddyfile:7:9' }), { message: /^Caddyfile:7:9: transport postgres: invalid presence_ttl "x"/ });
  const m = postgresTransportModule.create({ url: 'postgres://h/db' });
  assert.throws(() => m.transport, /not provisioned/);
});

test('the postgres descriptor carries the module and both legacy schemes', () => {
  assert.equal(postgresTransport.module, postgresTransportModule);
  assert.deepEqual(postgresTransport.schemes, ['postgres', 'postgresql']);
});
