/**
 * Caddy's JSON both ways (issue 18, point 2).
 * - What `quicksilver adapt` prints uses only fields Caddy's structs define
 *   (test/helpers/caddy-schema.ts) and no `@span`, for every adapt fixture.
 * - test/fixtures/caddy-json/*.json hold what `caddy adapt` prints for the
 *   reference Mercure image's Caddyfile and the FrankenPHP image's: quicksilver
 *   prints the first exactly, and loads both into the same config its own
 *   Caddyfile adapter gives.
 * - `validate` and `run` load a Caddy-shaped config (`servers.*.logs` as an object): run serves
 *   the image's config with its filtered access log `http.log.access.log0`.
 * - `adapt --spans` keeps source positions, so a late error still cites file:line:col.
 */
import { test } from 'node:test';
import { cli as runCli } from '../helpers/hub-process.ts';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adaptCaddyfile } from '../../src/runtime/load-config.ts';
import { fromCaddyJSON, stripSpans, toCaddyJSON } from '../../src/runtime/caddy-json.ts';
import { caddyProblems } from '../helpers/caddy-schema.ts';
import { freePort, startHub } from '../helpers/hub-process.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

function adaptFixture(name: string): Record<string, unknown> {
  const { input, env } = readGolden(join(FIXTURES, 'adapt', name));
  return adaptCaddyfile(input, { file: 'Caddyfile', env }).config;
}
/** A golden adapt file: input, a line of dashes, expected; `# env NAME=value` lines (see adapt-golden.test.ts). */
function readGolden(path: string): { input: string; expected: string; env: Record<string, string> } {
  const text = readFileSync(path, 'utf8');
  const sep = /^-{10,}$/m.exec(text)!;
  const env: Record<string, string> = {};
  for (const m of text.slice(0, sep.index).matchAll(/^# env ([A-Z_][A-Z0-9_]*)=(.*)$/gm)) env[m[1]!] = m[2]!.replace(/\\n/g, '\n').replace(/\\t/g, '\t');
  return { input: text.slice(0, sep.index), expected: text.slice(sep.index + sep[0].length).trim(), env };
}
const caddyGolden = (name: string) => JSON.parse(readFileSync(join(FIXTURES, 'caddy-json', name), 'utf8')) as Record<string, unknown>;

const cli = (args: string[], cwd: string, env: Record<string, string> = {}) => runCli(args, cwd, { ...process.env, ...env });

test('every adapt fixture prints JSON that Caddy\'s decoder accepts, without @span', () => {
  const dir = join(FIXTURES, 'adapt');
  let checked = 0;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.caddyfiletest'))) {
    if (readGolden(join(dir, f)).expected.startsWith('error:')) continue;
    const printed = toCaddyJSON(adaptFixture(f));
    assert.deepEqual(caddyProblems(printed), [], f);
    assert.ok(!JSON.stringify(printed).includes('"@span"'), `${f}: a @span was printed`);
    checked++;
  }
  assert.ok(checked > 30, `only ${checked} fixtures checked`);
});

test('the schema check does catch what Caddy refuses', () => {
  const internal = adaptFixture('mercure-image.caddyfiletest');
  const problems = caddyProblems(internal);
  assert.ok(problems.some((p) => p.endsWith('.@span: unknown field')), problems.join('\n'));
  assert.ok(problems.includes('apps.http.servers.srv0.logs: expected an object'), problems.join('\n'));
});

test('reference Mercure image: quicksilver prints what caddy adapt prints, and loads it back', () => {
  const internal = adaptFixture('mercure-image.caddyfiletest');
  const golden = caddyGolden('mercure-image.json');
  assert.deepEqual(caddyProblems(golden), []);
  assert.deepEqual(toCaddyJSON(internal), golden);
  const loaded = fromCaddyJSON(golden);
  assert.deepEqual(loaded.warnings, []);
  assert.deepEqual(loaded.config, stripSpans(structuredClone(internal)));
  // the access log keeps Caddy's logger name and the filter
  const logs = (loaded.config as any).apps.http.servers.srv0.logs;
  assert.equal(logs[0].name, 'log0');
  assert.deepEqual(logs[0].hosts, []);
});

test('FrankenPHP image: caddy adapt\'s JSON loads; the printed JSON differs only where this server has no module', () => {
  const internal = adaptFixture('frankenphp-image-without-php-server.caddyfiletest');
  const golden = caddyGolden('frankenphp-image.json');
  assert.deepEqual(caddyProblems(golden), []);
  const printed = toCaddyJSON(internal) as any;
  assert.deepEqual(caddyProblems(printed), []);
  // Caddy's adapt adds the frankenphp app and `skip_install_trust` as a pki app; it leaves TLS
  // to automatic HTTPS at run time, where quicksilver writes the internal-issuer policy it will use.
  const expected = structuredClone(golden) as any;
  delete expected.apps.frankenphp;
  delete expected.apps.pki;
  expected.apps.http.servers.srv0.tls_connection_policies = [{}];
  expected.apps.tls = { automation: { policies: [{ subjects: ['localhost'], issuers: [{ module: 'internal' }] }] } };
  assert.deepEqual(printed, expected);

  const loaded = fromCaddyJSON(golden);
  assert.deepEqual(loaded.warnings, ['apps.frankenphp: this server has no PHP; the frankenphp app is ignored']);
  const want = stripSpans(structuredClone(internal)) as any;
  delete want.apps.tls; // automatic HTTPS issues the same internal certificate without it
  assert.deepEqual(loaded.config, want);
});

test('automatic HTTPS inference leaves HTTP servers, skipped hosts and auto_https off alone', () => {
  const base = (srv: Record<string, unknown>) => ({ apps: { http: { servers: { srv0: { routes: [], ...srv } } } } });
  const tlsOf = (c: Record<string, unknown>) => (fromCaddyJSON(c).config as any).apps.http.servers.srv0.tls_connection_policies;
  assert.equal(tlsOf(base({ listen: [':80'], routes: [{ match: [{ host: ['a.example'] }] }] })), undefined);
  assert.equal(tlsOf(base({ listen: [':8080'] })), undefined);
  assert.deepEqual(tlsOf(base({ listen: [':443'] })), [{}]);
  assert.deepEqual(tlsOf(base({ listen: [':8443'], routes: [{ match: [{ host: ['a.example'] }] }] })), [{}]);
  assert.equal(tlsOf(base({ listen: [':8443'], automatic_https: { skip: ['a.example'] }, routes: [{ match: [{ host: ['a.example'] }] }] })), undefined);
  assert.equal(tlsOf(base({ listen: [':443'], automatic_https: { disable: true } })), undefined);
});

test('a config in the internal form round-trips through Caddy\'s form', () => {
  for (const f of ['mercure-image.caddyfiletest', 'mercure-image-dev.caddyfiletest', 'log-skip.caddyfiletest', 'log-filter.caddyfiletest', 'bind.caddyfiletest']) {
    const internal = adaptFixture(f);
    assert.deepEqual(fromCaddyJSON(toCaddyJSON(internal)).config, stripSpans(structuredClone(internal)), f);
    assert.deepEqual(fromCaddyJSON(toCaddyJSON(internal, { spans: true })).config, internal, `${f} with spans`);
  }
});

test('CLI: adapt prints Caddy\'s JSON, validate loads caddy adapt\'s JSON, --spans keeps positions for late errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qs-caddy-json-'));
  const data = mkdtempSync(join(tmpdir(), 'qs-caddy-json-data-'));
  writeFileSync(join(dir, 'mercure.json'), JSON.stringify(caddyGolden('mercure-image.json')));
  const v = await cli(['validate', '--config', 'mercure.json'], dir, { XDG_DATA_HOME: data, MERCURE_PUBLISHER_JWT_KEY: 'k'.repeat(32) });
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /Valid configuration/);

  writeFileSync(join(dir, 'Caddyfile'), ':8080 {\n\tmercure {\n\t\tanonymous\n\t}\n}\n');
  const plain = await cli(['adapt'], dir);
  assert.equal(plain.code, 0, plain.stderr);
  assert.ok(!plain.stdout.includes('@span'), plain.stdout);
  const spans = await cli(['adapt', '--spans'], dir);
  assert.match(spans.stdout, /"@span":"Caddyfile:2:2"/);
  writeFileSync(join(dir, 'spans.json'), spans.stdout);
  const late = await cli(['validate', '--config', 'spans.json'], dir, { XDG_DATA_HOME: data });
  assert.notEqual(late.code, 0);
  assert.match(late.stderr, /Caddyfile:2:2: .*publishers must be provided/);
});

test('run serves the reference image\'s config as caddy adapt printed it (access log log0, the hub)', async (t) => {
  const port = await freePort();
  const config = caddyGolden('mercure-image.json') as any;
  config.apps.http.servers.srv0.listen = [`:${port}`];
  const hub = await startHub(JSON.stringify(config), { file: 'caddy.json', env: { MERCURE_PUBLISHER_JWT_KEY: 'k'.repeat(32), MERCURE_SUBSCRIBER_JWT_KEY: 'k'.repeat(32) } });
  t.after(() => hub.kill());
  const res = await fetch(`http://127.0.0.1:${port}/robots.txt?authorization=secret`);
  assert.equal(await res.text(), 'User-agent: *\nDisallow: /');
  // The hub reads `authorization` as a JWT (not a valid one here): 401, and the log must not show it.
  const hubRes = await fetch(`http://127.0.0.1:${port}/.well-known/mercure?topic=t&authorization=secret`);
  assert.equal(hubRes.status, 401);
  await hubRes.arrayBuffer();
  while (!/authorization=REDACTED/.test(hub.stderr())) await once(hub.child.stderr!, 'data');
  while (!/"logger":"http\.log\.access\.log0"/.test(hub.stderr())) await once(hub.child.stderr!, 'data');
  const access = hub.stderr().split('\n').filter((l) => l.includes('"http.log.access.log0"')).map((l) => JSON.parse(l));
  assert.ok(access.every((e) => !String(e.request.uri).includes('secret')), 'the filter redacts authorization');
  assert.ok(access.some((e) => e.request.uri === '/.well-known/mercure?topic=t&authorization=REDACTED'), JSON.stringify(access));
  assert.equal(await hub.stop(), 0);
});
