/**
 * rate_limit in memory, on a real HTTP server, with an injected clock:
 * the sliding window, 429 + Retry-After, keys, matchers, zone order, jitter,
 * reloads, sweeping, metrics and the log line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { RateLimitHandler, type RateLimitOptions } from '../../src/http/rate-limit/handler.ts';
import type { RateLimitConfig } from '../../src/http/rate-limit/config.ts';
import { UsagePool } from '../../src/host/usage-pool.ts';
import { getModule } from '../../src/host/module.ts';
import { testContext, type TestContext } from '../storage/context.ts';
import { Clock, mount } from '../storage/http-server.ts';

type T = { after(fn: () => unknown): void };

/** Provisions a handler from its JSON config and serves it; everything is closed after the test. */
async function serve(t: T, config: Omit<RateLimitConfig, 'handler'>, opts: RateLimitOptions & { ctx?: TestContext } = {}) {
  const ctx = opts.ctx ?? await testContext();
  const h = new RateLimitHandler({ handler: 'rate_limit', ...config }, opts);
  let m: Awaited<ReturnType<typeof mount>> | undefined;
  t.after(async () => { await m?.close(); await h.cleanup(); if (!opts.ctx) await ctx.close(); });
  await h.provision(ctx);
  m = await mount(h);
  return { h, m, ctx };
}

const zone = (window: string, max: number, extra: Record<string, unknown> = {}) => ({ key: 'static', window, max_events: max, ...extra });

test('events within the window pass; the next gets 429 with Retry-After; the window slides', async (t) => {
  const clock = new Clock();
  const { m } = await serve(t, { rate_limits: { z: zone('10s', 3) } }, { now: clock.now });
  for (let i = 0; i < 3; i++) {
    assert.equal((await m.request()).status, 200);
    clock.advance(1000);
  }
  clock.advance(-500); // t = 2.5s; the oldest event (t = 0) leaves the window at t = 10s: wait 7.5s → 8.0 → "8"
  const refused = await m.request();
  assert.deepEqual([refused.status, refused.retryAfter, refused.zone, refused.body], [429, '8', 'z', '']);
  clock.advance(7500); // t = 10s exactly: now - oldest == window, and admission needs strictly more
  assert.deepEqual([(await m.request()).status, (await m.request()).retryAfter], [429, '0']);
  clock.advance(1); // t = 10.001s: the first event left the window
  assert.equal((await m.request()).status, 200);
  const next = await m.request(); // the oldest is now t = 1s: wait 0.999s → "1"
  assert.deepEqual([next.status, next.retryAfter], [429, '1']);
});

test('Retry-After is wait + 0.5 s printed like Go: exact halves round to even', async (t) => {
  const clock = new Clock();
  const { m } = await serve(t, { rate_limits: { z: zone('10s', 1) } }, { now: clock.now });
  assert.equal((await m.request()).status, 200);
  clock.advance(1000); // wait exactly 9s → 9.5 → "10"
  assert.equal((await m.request()).retryAfter, '10');
  clock.advance(1000); // wait exactly 8s → 8.5 → "8"
  assert.equal((await m.request()).retryAfter, '8');
  clock.advance(250); // 7.75s → 8.25 → "8"
  assert.equal((await m.request()).retryAfter, '8');
});

test('keys are resolved per request (ReplaceAll) and limited independently', async (t) => {
  const clock = new Clock();
  const { m } = await serve(t, { rate_limits: { api: zone('1m', 2, { key: '{http.request.header.X-Api-Key}' }) } }, { now: clock.now });
  const as = (k?: string) => m.request('/', { headers: k ? { 'X-Api-Key': k } : {} });
  assert.equal((await as('a')).status, 200);
  assert.equal((await as('a')).status, 200);
  assert.equal((await as('a')).status, 429);
  assert.equal((await as('b')).status, 200, 'another key has its own window');
  // An unknown placeholder becomes '' (ReplaceAll): every request without the header shares one bucket.
  assert.equal((await as()).status, 200);
  assert.equal((await as()).status, 200);
  assert.equal((await as()).status, 429);
});

test('ipv4_prefix and ipv6_prefix group IP keys by subnet', async (t) => {
  const clock = new Clock();
  const { m } = await serve(t, {
    rate_limits: { net: zone('1m', 1, { key: '{http.request.header.X-Client}', ipv4_prefix: 24, ipv6_prefix: 64 }) },
  }, { now: clock.now });
  const from = (ip: string) => m.request('/', { headers: { 'X-Client': ip } });
  assert.equal((await from('10.1.2.3')).status, 200);
  assert.equal((await from('10.1.2.200')).status, 429, 'same /24');
  assert.equal((await from('10.1.3.1')).status, 200, 'another /24');
  assert.equal((await from('2001:db8:0:1::1')).status, 200);
  assert.equal((await from('2001:db8:0:1:ffff::9')).status, 429, 'same /64');
  assert.equal((await from('not-an-ip')).status, 200, 'other keys are used as they are');
});

test('match blocks select the requests a zone applies to (sets are ORed)', async (t) => {
  const clock = new Clock();
  const { m } = await serve(t, {
    rate_limits: { writes: zone('1m', 1, { match: [{ method: ['POST'] }, { path: ['/upload/*'] }] }) },
  }, { now: clock.now });
  assert.equal((await m.request('/', { method: 'POST' })).status, 200);
  assert.equal((await m.request('/', { method: 'POST' })).status, 429);
  assert.equal((await m.request('/upload/x')).status, 429, 'the second set matches too, same zone key');
  for (let i = 0; i < 5; i++) assert.equal((await m.request('/read')).status, 200, 'GETs elsewhere are not limited');
});

test('zones: most permissive checked first, the first refusal names its zone, earlier reservations stay', async (t) => {
  const clock = new Clock();
  const { m } = await serve(t, { rate_limits: { slow: zone('1m', 2), burst: zone('1s', 3) } }, { now: clock.now });
  assert.equal((await m.request()).status, 200);
  assert.equal((await m.request()).status, 200);
  const third = await m.request();
  assert.deepEqual([third.status, third.zone], [429, 'slow']);
  // burst (3/s, the more permissive) ran first and kept its slot for the refused request, so it is full now.
  const fourth = await m.request();
  assert.deepEqual([fourth.status, fourth.zone], [429, 'burst']);
});

test('jitter adds up to wait × jitter to Retry-After', async (t) => {
  const clock = new Clock();
  const { m } = await serve(t, { rate_limits: { z: zone('10s', 1) }, jitter: 0.2 }, { now: clock.now, random: () => 0.5 });
  await m.request();
  clock.advance(2500); // wait 7.5s + 0.5 × 7.5 × 0.2 = 8.25s → 8.75 → "9"
  assert.equal((await m.request()).retryAfter, '9');
});

test('max_events 0 refuses everything', async (t) => {
  const { m } = await serve(t, { rate_limits: { closed: { key: 'x', window: '1s', max_events: 0 } } });
  assert.equal((await m.request()).status, 429);
});

test('zones are pooled by name: a reload keeps the window, and a smaller limit keeps the newest events', async (t) => {
  const clock = new Clock();
  const pool = new UsagePool();
  const ctxA = await testContext({ pool });
  const ctxB = await testContext({ pool });
  t.after(async () => { await ctxA.close(); await ctxB.close(); });
  const a = await serve(t, { rate_limits: { z: zone('1m', 3) } }, { now: clock.now, ctx: ctxA });
  assert.equal((await a.m.request()).status, 200);
  clock.advance(1000);
  assert.equal((await a.m.request()).status, 200);
  // The new config is provisioned before the old one is cleaned up, as the host does on reload.
  const b = await serve(t, { rate_limits: { z: zone('1m', 2) } }, { now: clock.now, ctx: ctxB });
  await a.h.cleanup();
  const r = await b.m.request();
  assert.equal(r.status, 429, 'two events already in the window');
  // The oldest kept event is the first one (t = 0): wait 59s → 59.5, which Go rounds to even: "60".
  assert.equal(r.retryAfter, '60');
});

test('sweep drops keys whose newest event left the window; metrics count requests and declines', async (t) => {
  const clock = new Clock();
  const { m, h, ctx } = await serve(t, { rate_limits: { z: zone('10s', 1, { key: '{http.request.header.K}' }) } }, { now: clock.now });
  await m.request('/', { headers: { K: 'a' } });
  await m.request('/', { headers: { K: 'a' } });
  await m.request('/', { headers: { K: 'b' } });
  await h.sweep();
  const keys = async () => (await ctx.app.metrics.getSingleMetric('caddy_rate_limit_keys_total')!.get()).values.find((v) => v.labels.zone === 'z')?.value;
  assert.equal(await keys(), 2);
  clock.advance(10_001);
  await h.sweep();
  assert.equal(await keys(), 0);
  const text = await ctx.app.metrics.metrics();
  assert.match(text, /caddy_rate_limit_requests_total\{zone="z",key=""\} 3/);
  assert.match(text, /caddy_rate_limit_declined_requests_total\{zone="z",key="a"\} 1/);
  assert.match(text, /caddy_rate_limit_config\{zone="z",max_events="1",window="10s",ipv4_prefix="0",ipv6_prefix="0"\} 1/);
});

test('the "rate limit exceeded" log line carries zone, wait, remote_ip, and the key only with log_key', async (t) => {
  for (const logKey of [false, true]) {
    const lines: Record<string, unknown>[] = [];
    const ctx = await testContext();
    ctx.log = pino({ level: 'info' }, new Writable({ write(chunk, _e, cb) { lines.push(JSON.parse(String(chunk))); cb(); } }));
    const { m } = await serve(t, { rate_limits: { z: zone('1m', 0, { key: 'secret-key' }) }, log_key: logKey }, { ctx });
    t.after(() => ctx.close());
    await m.request();
    const line = lines.find((l) => l.msg === 'rate limit exceeded');
    assert.ok(line);
    assert.equal(line.zone, 'z');
    assert.equal(line.remote_ip, '127.0.0.1');
    assert.equal(typeof line.wait, 'number');
    assert.equal(line.key, logKey ? 'secret-key' : undefined);
  }
});

test('provision errors use the plugin messages', async (t) => {
  const ctx = await testContext();
  t.after(() => ctx.close());
  const cases: [Omit<RateLimitConfig, 'handler'>, RegExp][] = [
    [{ rate_limits: { z: { window: '0s', max_events: 1 } } }, /setting up rate limit z: window must be greater than zero/],
    [{ rate_limits: { z: { window: '1s', max_events: -1 } } }, /setting up rate limit z: max_events must be at least zero/],
    [{ rate_limits: { z: { window: '1s', max_events: 1, ipv4_prefix: 33 } } }, /ipv4_prefix must be between 0 and 32/],
    [{ rate_limits: { z: { window: '1s', max_events: 1, ipv6_prefix: 129 } } }, /ipv6_prefix must be between 0 and 128/],
    [{ jitter: -0.1 }, /jitter must be at least zero/],
    [{ rate_limits: { z: { window: '1s', max_events: 1, events: 2 } as never } }, /unknown field "events" in rate limit zone z/],
    [{ distributed: { read_intervall: '1s' } as never }, /unknown field "read_intervall" in rate_limit distributed/],
  ];
  // Without any storage module (no global one, no file_system module registered) distributed mode cannot start.
  if (!getModule('caddy.storage.file_system')) cases.push([{ distributed: {} }, /distributed rate limiting needs a storage/]);
  for (const [config, re] of cases) {
    const h = new RateLimitHandler({ handler: 'rate_limit', ...config });
    await assert.rejects(Promise.resolve().then(() => h.provision(ctx)), re);
    await h.cleanup();
    await h.cleanup();
  }
});
