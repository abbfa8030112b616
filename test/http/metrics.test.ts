/**
 * Caddy's metrics (issue 18, point 4): the `metrics` global option turns on
 * the `caddy_http_*` series, the `metrics` directive serves them, and
 * `caddy_config_last_reload_*` follow loads and failed reloads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adaptCaddyfile } from '../../src/runtime/load-config.ts';
import { ConfigErrors } from '../../src/host/errors.ts';
import { startCaddyfile } from '../helpers/caddyfile-server.ts';
import { freePort, startHub } from '../helpers/hub-process.ts';
import { request } from './helpers.ts';

/** The value of one sample `name{labels}` (labels in the order prom-client writes them). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

const SITE = '\tmetrics /metrics\n\trespond /hi "hi" 200\n\trespond /nope 404\n';

test('the metrics option counts requests as Caddy does; the metrics directive serves them', async (t) => {
  const srv = await startCaddyfile(t, `{\n\tmetrics {\n\t\tper_host\n\t}\n}\nhttp://site.test:8080 {\n${SITE}}\n:8080 {\n${SITE}}\n`);
  const host = `127.0.0.1:${srv.port()}`;
  assert.equal(await (await fetch(srv.url('/hi'))).text(), 'hi');
  assert.equal((await fetch(srv.url('/nope'))).status, 404);
  assert.equal((await fetch(srv.url('/hi'), { method: 'POST', body: 'x'.repeat(300) })).status, 200);
  const res = await fetch(srv.url('/metrics'));
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await res.text();
  // The site's route has a host matcher for site.test only: other hosts are `_other` on a plain-HTTP server.
  const base = { server: srv.serverName, handler: 'subroute', host: '_other' };
  assert.equal(sample(text, 'caddy_http_requests_total', base), 3, text); // the /metrics request is in flight
  assert.equal(sample(text, 'caddy_http_requests_in_flight', base), 1);
  assert.equal(sample(text, 'caddy_http_request_errors_total', base), undefined);
  assert.equal(sample(text, 'caddy_http_request_duration_seconds_count', { ...base, code: '200', method: 'GET' }), 1);
  assert.equal(sample(text, 'caddy_http_request_duration_seconds_count', { ...base, code: '404', method: 'GET' }), 1);
  assert.equal(sample(text, 'caddy_http_request_duration_seconds_count', { ...base, code: '200', method: 'POST' }), 1);
  assert.equal(sample(text, 'caddy_http_response_size_bytes_sum', { ...base, code: '200', method: 'GET' }), 2);
  assert.ok(sample(text, 'caddy_http_request_size_bytes_sum', { ...base, code: '200', method: 'POST' })! > 300);
  assert.equal(sample(text, 'caddy_http_response_duration_seconds_count', { ...base, code: '404', method: 'GET' }), 1);
  assert.ok(!text.includes(host), 'a host outside the host matchers must not become a label');

  // A named host gets its own label.
  const r = await request(srv.url('/hi'), { headers: { Host: 'site.test' } }); // fetch() cannot set Host
  assert.equal(r.status, 200);
  const again = await (await fetch(srv.url('/metrics'))).text();
  assert.equal(sample(again, 'caddy_http_requests_total', { ...base, host: 'site.test' }), 1);
});

test('without the metrics option there are no caddy_http series', async (t) => {
  const srv = await startCaddyfile(t, `:8080 {\n${SITE}}\n`);
  await fetch(srv.url('/hi'));
  const text = await (await fetch(srv.url('/metrics'))).text();
  assert.doesNotMatch(text, /caddy_http_requests_total/);
  assert.match(text, /caddy_config_last_reload_successful/);
});

test('adapt: the option and the directive in Caddy\'s JSON; otlp warns; unknown subdirectives are errors', () => {
  const r = adaptCaddyfile(`{\n\tmetrics {\n\t\tper_host\n\t\totlp\n\t}\n}\n:8080 {\n\tmetrics /m {\n\t\tdisable_openmetrics\n\t}\n}\n`, { file: 'Caddyfile' });
  const http = (r.config.apps as any).http;
  assert.deepEqual(http.metrics, { per_host: true, otlp: true });
  const route = http.servers.srv0.routes[0].handle[0].routes[0];
  assert.deepEqual(route.match, [{ path: ['/m'] }]);
  assert.equal(route.handle[0].handler, 'metrics');
  assert.equal(route.handle[0].disable_openmetrics, true);
  assert.ok(r.warnings.some((w) => /otlp/.test(w.message) && w.line === 2), JSON.stringify(r.warnings));
  assert.ok(!r.warnings.some((w) => /has no effect/.test(w.message)), JSON.stringify(r.warnings));
  assert.throws(() => adaptCaddyfile(`{\n\tmetrics {\n\t\tper_hots\n\t}\n}\n:8080 {\n}\n`, { file: 'Caddyfile' }),
    (e: unknown) => e instanceof ConfigErrors && /Caddyfile:3:3: .*per_hots.*did you mean "per_host"/.test(e.message));
});

test('caddy_config_last_reload_* follow a load, a failed reload and a good one', async (t) => {
  const port = await freePort();
  const admin = await freePort();
  const caddyfile = (body: string) => `{\n\tadmin localhost:${admin}\n}\n:${port} {\n\t${body}\n}\n`;
  const hub = await startHub(caddyfile('respond "one"'));
  t.after(() => hub.kill());
  const scrape = async () => (await fetch(`http://localhost:${admin}/metrics`)).text();
  const first = await scrape();
  assert.equal(sample(first, 'caddy_config_last_reload_successful'), 1);
  const ts = sample(first, 'caddy_config_last_reload_success_timestamp_seconds')!;
  assert.ok(ts > Date.now() / 1000 - 120 && ts <= Date.now() / 1000 + 1, String(ts));

  // A config whose listener is already taken fails to load; the old one keeps serving.
  const bad = JSON.stringify({ admin: { listen: `localhost:${admin}` }, apps: { http: { servers: { a: { listen: [`:${port}`] }, b: { listen: [`:${port}`] } } } } });
  const r = await fetch(`http://localhost:${admin}/load`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: bad });
  assert.equal(r.status, 400);
  const failed = await scrape();
  assert.equal(sample(failed, 'caddy_config_last_reload_successful'), 0);
  assert.equal(sample(failed, 'caddy_config_last_reload_success_timestamp_seconds'), ts);
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'one');

  const ok = await fetch(`http://localhost:${admin}/load`, { method: 'POST', headers: { 'Content-Type': 'text/caddyfile' }, body: caddyfile('respond "two"') });
  assert.equal(ok.status, 200, await ok.text());
  const after = await scrape();
  assert.equal(sample(after, 'caddy_config_last_reload_successful'), 1);
  assert.ok(sample(after, 'caddy_config_last_reload_success_timestamp_seconds')! >= ts);
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'two');
});
