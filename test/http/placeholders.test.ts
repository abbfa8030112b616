import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replace, globalValue } from '../../src/http/replacer.ts';
import { rewriteShorthands } from '../../directives/shorthands.ts';
import { request, respond, serve } from './helpers.ts';

test('replace: escapes, unclosed braces, ReplaceKnown vs ReplaceAll, env', () => {
  process.env.QS_TEST_VAR = 'v';
  assert.equal(replace(undefined, 'a {env.QS_TEST_VAR} b'), 'a v b');
  assert.equal(replace(undefined, '{env.QS_NOT_SET_X}', 'known'), '{env.QS_NOT_SET_X}');
  assert.equal(replace(undefined, '[{env.QS_NOT_SET_X}]', 'all'), '[]');
  assert.equal(replace(undefined, '\\{env.QS_TEST_VAR\\}'), '{env.QS_TEST_VAR}');
  assert.equal(replace(undefined, 'open { only'), 'open { only');
  assert.equal(replace(undefined, '{"json": 1}'), '{"json": 1}');
  assert.equal(replace(undefined, '{system.slash}{unknown}', 'all'), '/');
  assert.match(globalValue('time.now.unix')!, /^\d{10}$/);
  assert.match(globalValue('time.now.common_log')!, /^\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}$/);
});

test('rewriteShorthands: plain and regex forms', () => {
  assert.equal(rewriteShorthands('{host}{path}?{query}'), '{http.request.host}{http.request.uri.path}?{http.request.uri.query}');
  assert.equal(rewriteShorthands('{header.X-Foo} {query.a} {path.0} {labels.1} {re.m.1} {vars.x} {err.status_code}'),
    '{http.request.header.X-Foo} {http.request.uri.query.a} {http.request.uri.path.0} {http.request.host.labels.1} {http.regexp.m.1} {http.vars.x} {http.error.status_code}');
  assert.equal(rewriteShorthands('{client_ip} {upstream_hostport} {?query} {remote_host}'),
    '{http.vars.client_ip} {http.reverse_proxy.upstream.hostport} {http.request.uri.prefixed_query} {http.request.remote.host}');
  assert.equal(rewriteShorthands('{env.X} {http.request.host}'), '{env.X} {http.request.host}');
});

test('request placeholders over a real request', async (t) => {
  const fields = [
    'http.request.method', 'http.request.scheme', 'http.request.proto', 'http.request.host', 'http.request.hostport',
    'http.request.port', 'http.request.uri', 'http.request.uri.path', 'http.request.uri.path.dir', 'http.request.uri.path.file',
    'http.request.uri.path.file.base', 'http.request.uri.path.file.ext', 'http.request.uri.path.1', 'http.request.uri.query',
    'http.request.uri.query.a', 'http.request.uri.prefixed_query', 'http.request.header.X-Test', 'http.request.cookie.sid',
    'http.request.remote.host', 'http.request.host.labels.0', 'http.request.host.labels.2', 'http.vars.client_ip',
    'http.request.orig_uri.path', 'http.request.tls.version',
  ];
  const srv = await serve(t, [{ handle: [respond(fields.map((f) => `{${f}}`).join('|'))] }]);
  const r = await request(srv.url('/dir/file.txt?a=1&b=2'), { headers: { host: 'www.example.com:8443', 'x-test': 'yes', cookie: 'a=1; sid=abc' } });
  const got = Object.fromEntries(r.body.split('|').map((v, i) => [fields[i], v]));
  assert.deepEqual(got, {
    'http.request.method': 'GET', 'http.request.scheme': 'http', 'http.request.proto': 'HTTP/1.1',
    'http.request.host': 'www.example.com', 'http.request.hostport': 'www.example.com:8443', 'http.request.port': '8443',
    'http.request.uri': '/dir/file.txt?a=1&b=2', 'http.request.uri.path': '/dir/file.txt', 'http.request.uri.path.dir': '/dir/',
    'http.request.uri.path.file': 'file.txt', 'http.request.uri.path.file.base': 'file', 'http.request.uri.path.file.ext': '.txt',
    'http.request.uri.path.1': 'file.txt', 'http.request.uri.query': 'a=1&b=2', 'http.request.uri.query.a': '1',
    'http.request.uri.prefixed_query': '?a=1&b=2', 'http.request.header.X-Test': 'yes', 'http.request.cookie.sid': 'abc',
    'http.request.remote.host': '127.0.0.1', 'http.request.host.labels.0': 'com', 'http.request.host.labels.2': 'www',
    'http.vars.client_ip': '127.0.0.1', 'http.request.orig_uri.path': '/dir/file.txt', 'http.request.tls.version': '',
  });
});

test('client_ip from trusted proxies', async (t) => {
  const srv = await serve(t, [{ handle: [respond('{http.vars.client_ip}')] }], {
    trusted_proxies: { source: 'static', ranges: ['127.0.0.1/32'] },
  });
  assert.equal((await request(srv.url('/'), { headers: { 'x-forwarded-for': '203.0.113.9, 127.0.0.1' } })).body, '203.0.113.9');
});
