/**
 * Configuration: the `mercure` directive and its transports, origin
 * validation, defaults, health and metrics (checklist 116–120).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCaddyfile } from '../../grammar/index.ts';
import { Dispenser } from '../../src/caddyfile/dispenser.ts';
import { parseMercure } from '../../directives/mercure.ts';
import { adaptCaddyfile } from '../../src/runtime/load-config.ts';
import { isValidOrigin } from '../../src/mercure/origins.ts';
import { mercureHealthRoute } from '../../src/mercure/health.ts';
import { DEFAULTS } from '../../src/mercure/config.ts';
import { transportChoice } from '../../src/mercure/transport-loader.ts';
import { HUB, baseConfig, http, publish, pubToken, startHub, subscribe, topics, waitSubscribers } from './harness.ts';

function mercure(block: string): Record<string, unknown> {
  const { file, errors } = parseCaddyfile(`example.com {\n\tmercure {\n${block}\n\t}\n}\n`, { file: 'Caddyfile' });
  if (errors.length) throw errors[0];
  const line = file.blocks[0]!.body.find((d) => d.name.text === 'mercure')!;
  return parseMercure(new Dispenser(line));
}

test('directive: every v0.24 subdirective adapts to the reference JSON keys', () => {
  const cfg = mercure(`
		publisher_jwt {env.MERCURE_PUBLISHER_JWT_KEY} {env.MERCURE_PUBLISHER_JWT_ALG}
		subscriber_jwt !ChangeMe!
		publisher_jwks_url https://example.com/jwks.json
		subscriber_jwks_url file:///etc/jwks.json
		anonymous
		subscriptions
		heartbeat 15s
		write_timeout 0
		dispatch_timeout 1m30s
		publish_origins https://a.example https://*.b.example
		publish_origins capacitor://
		cors_origins *
		cookie_name auth
		protocol_version_compatibility 7
		topic_selector_cache 1000
		subscriber_list_cache_size 50
		name hub1
		ui
		demo
		transport bolt {
			path test.db
			bucket_name foo
			size 20
			cleanup_frequency 0.2
		}
		transport_url local://local
		license some-commercial-key`);
  const { '@span': _span, transport, ...rest } = cfg as Record<string, unknown> & { transport: Record<string, unknown> };
  assert.deepEqual(rest, {
    handler: 'mercure',
    publisher_jwt: { key: '{env.MERCURE_PUBLISHER_JWT_KEY}', alg: '{env.MERCURE_PUBLISHER_JWT_ALG}' },
    subscriber_jwt: { key: '!ChangeMe!' },
    publisher_jwks_url: 'https://example.com/jwks.json',
    subscriber_jwks_url: 'file:///etc/jwks.json',
    anonymous: true,
    subscriptions: true,
    heartbeat: '15s',
    write_timeout: '0s',
    dispatch_timeout: '1m30s',
    publish_origins: ['https://a.example', 'https://*.b.example', 'capacitor://'],
    cors_origins: ['*'],
    cookie_name: 'auth',
    protocol_version_compatibility: 7,
    cache: { size: 1000 },
    subscriber_list_cache_size: 50,
    name: 'hub1',
    ui: true,
    demo: true,
    transport_url: 'local://local',
  });
  const { '@span': tspan, ...t } = transport;
  assert.match(String(tspan), /^Caddyfile:\d+:\d+$/);
  assert.deepEqual(t, { name: 'bolt', path: 'test.db', bucket_name: 'foo', size: 20, cleanup_frequency: 0.2 });
  assert.equal(JSON.stringify(cfg).includes('some-commercial-key'), false, 'license stays out of the JSON');
  assert.deepEqual(mercure('transport local').transport, { name: 'local' });
});

test('directive errors: unknown names (did-you-mean), arity, values (117)', () => {
  const rows: [string, RegExp][] = [
    ['tranport local', /unknown subdirective in mercure "tranport".*did you mean "transport"/],
    ['anonymus', /did you mean "anonymous"/],
    ['transport nats', /unknown Mercure transport "nats"/],
    ['transport bolt {\n\t\t\tpaht x\n\t\t}', /unknown subdirective in transport bolt "paht".*did you mean "path"/],
    ['transport local {\n\t\t\tsize 1\n\t\t}', /unknown subdirective in transport local "size"/],
    ['transport bolt {\n\t\t\tcleanup_frequency 2\n\t\t}', /out of range/],
    ['protocol_version_compatibility 8', /protocol_version_compatibility 8 is not supported; expected 7/],
    ['publisher_jwt', /wrong argument count/],
    ['publisher_jwt a b c', /wrong argument count/],
    ['heartbeat soon', /invalid duration 'soon'/],
    ['publish_origins https://example.com/', /invalid origin "https:\/\/example.com\/"/],
    ['cors_origins foo', /invalid origin "foo"/],
    ['subscriber_list_cache_size -1', /out of range/],
    ['cookie_name a\n\t\tcookie_name b', /set twice/],
  ];
  for (const [block, re] of rows) assert.throws(() => mercure(block), re, block);
  assert.match(String((() => { try { mercure('tranport local'); } catch (e) { return (e as Error).message; } })()), /^Caddyfile:3:1: /, 'positioned');
});

test('adapt: a site with mercure produces an http.handlers.mercure route', () => {
  const { config } = adaptCaddyfile(`localhost {\n\tmercure {\n\t\tpublisher_jwt key\n\t\tanonymous\n\t}\n}\n`, { file: 'Caddyfile' });
  const json = JSON.stringify(config);
  assert.match(json, /"handler":"mercure"/);
  assert.match(json, /"publisher_jwt":\{"key":"key"\}/);
});

test('origin validation (116)', () => {
  for (const ok of ['*', 'null', 'https://example.com', 'https://example.com:8000', 'capacitor://', 'ionic://', 'https://*.example.com']) assert.ok(isValidOrigin(ok), ok);
  for (const bad of ['foo', 'https://example.com/', 'https://user@example.com', 'https://example.com:abc', 'https://example.com?query', 'https://example.com#f']) assert.equal(isValidOrigin(bad), false, bad);
  return assert.rejects(startHub(baseConfig({ publish_origins: ['https://example.com/'] })), /invalid publish origin/);
});

test('provision checks: compat version, cache size, unknown JSON keys (117)', async () => {
  await assert.rejects(startHub(baseConfig({ protocol_version_compatibility: 8 })), /only supports protocol version 7/);
  await assert.rejects(startHub(baseConfig({ subscriber_list_cache_size: -1 })), /subscriber_list_cache_size/);
  await assert.rejects(startHub(baseConfig({ bogus: 1 } as never)), /unknown field "bogus"/);
  await assert.rejects(startHub({ subscriber_jwt: { key: 'x' }, transport: { name: 'local' } }), /publishers must be provided/);
});

test('defaults (118) and transport choice', async (t) => {
  assert.equal(DEFAULTS.heartbeatMs, 40_000);
  assert.equal(DEFAULTS.dispatchTimeoutMs, 5_000);
  assert.equal(DEFAULTS.writeTimeoutMs, 600_000);
  assert.equal(DEFAULTS.cookieName, 'mercureAuthorization');
  const h = await startHub({ publisher_jwt: { key: 'p' }, anonymous: true });
  t.after(() => h.close());
  const s = h.hub.runtime.stream;
  assert.deepEqual([s.heartbeatMs, s.writeTimeoutMs, s.dispatchTimeoutMs, h.hub.runtime.cookieName, h.hub.name], [40_000, 600_000, 5_000, 'mercureAuthorization', 'default']);
  // Default transport: bolt in <dataDir>/mercure.db — history survives, so earliest replays.
  const { mintToken } = await import('../../src/mercure/token.ts');
  await publish(h.url, await mintToken({ key: 'p', publish: ['*'] }), [['topic', 'a'], ['id', 'x']]);
  const sub = await subscribe(h.url, topics('a'), { 'Last-Event-ID': 'earliest' });
  t.after(() => sub.close());
  await sub.waitForText('id: x\n');
  const { existsSync } = await import('node:fs');
  assert.ok(existsSync(`${h.tc.dataDir}/mercure.db`));

  assert.deepEqual(transportChoice({}, {}), { name: 'bolt', config: {} });
  assert.equal(transportChoice({}, { MERCURE_TRANSPORT_URL: 'local://local' }).name, 'local');
  assert.equal(transportChoice({}, { MERCURE_TRANSPORT_URL: 'local://local' }).deprecated, 'MERCURE_TRANSPORT_URL');
  assert.equal(transportChoice({ transport: { name: 'bolt' } }, { MERCURE_TRANSPORT_URL: 'local://local' }).name, 'bolt', 'env only when neither is set');
  const legacy = transportChoice({ transport_url: 'bolt://database.db?bucket_name=demo&size=1000&cleanup_frequency=0.5' }, {});
  assert.deepEqual(legacy, { name: 'bolt', config: { bucket_name: 'demo', size: 1000, cleanup_frequency: 0.5, path: 'database.db' }, deprecated: 'transport_url' });
  assert.throws(() => transportChoice({ transport_url: 'nats://x' }, {}), /no such transport available/);
  const viaUrl = await startHub({ publisher_jwt: { key: 'p' }, anonymous: true, transport_url: 'local://local' });
  await viaUrl.close();
});

test('health endpoints (119)', async (t) => {
  const h = await startHub(baseConfig({ name: 'main' }));
  t.after(() => h.close());
  const reg = h.tc.registry;
  const ok = { status: 200, headers: { 'Content-Type': 'application/json' }, body: '{"status":"ok"}\n' };
  assert.deepEqual(await mercureHealthRoute('/mercure/health/ready', 'GET', reg), ok);
  assert.deepEqual(await mercureHealthRoute('/mercure/health/live/', 'GET', reg), ok);
  assert.deepEqual(await mercureHealthRoute('/mercure/health/main/ready', 'GET', reg), ok);
  assert.equal((await mercureHealthRoute('/mercure/health/other/ready', 'GET', reg)).status, 404);
  assert.equal((await mercureHealthRoute('/mercure/health/other/ready', 'GET', reg)).body, '{"error":"hub not found: \\"other\\""}\n');
  assert.equal((await mercureHealthRoute('/mercure/health/nope', 'GET', reg)).status, 404);
  assert.equal((await mercureHealthRoute('/mercure/health/ready', 'POST', reg)).status, 405);
  await h.hub.runtime.transport.close();
  const details: string[] = [];
  const down = await mercureHealthRoute('/mercure/health/main/ready', 'GET', reg, (d) => details.push(d));
  assert.deepEqual(down, { status: 503, headers: { 'Content-Type': 'application/json' }, body: '{"status":"error","error":"transport health check failed"}\n' });
  assert.match(details[0]!, /transport closed/);
});

test('metrics after connects and publishes (120)', async (t) => {
  const h = await startHub(baseConfig({ anonymous: true }));
  t.after(() => h.close());
  const subs = await Promise.all([0, 1, 2, 3].map(() => subscribe(h.url, topics('a'))));
  t.after(() => subs.forEach((s) => s.close()));
  subs[0]!.close();
  await waitSubscribers(h, 3);
  await subs[0]!.closed;
  const tok = await pubToken();
  await publish(h.url, tok, [['topic', 'a']]);
  await publish(h.url, tok, [['topic', 'a']]);
  await publish(h.url, tok, []); // a failure is not counted
  const text = await h.tc.metrics.metrics();
  assert.match(text, /# HELP mercure_subscribers_total Total number of handled subscribers\n# TYPE mercure_subscribers_total counter\nmercure_subscribers_total 4\n/);
  assert.match(text, /# HELP mercure_subscribers_connected The current number of running subscribers\n# TYPE mercure_subscribers_connected gauge\nmercure_subscribers_connected 3\n/);
  assert.match(text, /# HELP mercure_updates_total Total number of handled updates\n# TYPE mercure_updates_total counter\nmercure_updates_total 2\n/);
  void http; void HUB;
});
