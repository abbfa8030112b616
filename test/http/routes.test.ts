import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registerModule } from '../../src/host/module.ts';
import type { HttpContext, HttpHandler, Next } from '../../src/http/handler.ts';
import { HttpError } from '../../src/host/errors.ts';
import { request, respond, serve } from './helpers.ts';
import { noLifecycle } from '../helpers/module-context.ts';

// Test-only handlers: one that calls next() twice, one that throws, one that records.
registerModule({ id: 'http.handlers.test_twice', create: (): HttpHandler => ({ ...noLifecycle, async serveHTTP(_c: HttpContext, next: Next) { await next(); await next(); } }) });
registerModule({ id: 'http.handlers.test_throw', create: (cfg: { status?: number; body?: string }): HttpHandler => ({
  ...noLifecycle,
  async serveHTTP() { if (cfg.status) throw new HttpError(cfg.status, cfg.body, { headers: { 'X-Err': 'yes' } }); throw new Error('boom'); },
}) });
registerModule({ id: 'http.handlers.test_mark', create: (cfg: { mark: string }): HttpHandler => ({
  ...noLifecycle,
  async serveHTTP(c: HttpContext, next: Next) { c.res.setHeader('X-Mark', [...((c.res.getHeader('X-Mark') as string[]) ?? []), cfg.mark]); return next(); },
}) });
const mark = (m: string) => ({ handler: 'test_mark', mark: m });

test('routes: order, terminal, groups are mutually exclusive', async (t) => {
  const srv = await serve(t, [
    { handle: [mark('a')] },
    { group: 'g', match: [{ path: ['/x*'] }], handle: [mark('g1')] },
    { group: 'g', handle: [mark('g2')] },
    { match: [{ path: ['/stop'] }], handle: [mark('t')], terminal: true },
    { handle: [respond('end')] },
  ]);
  const x = await request(srv.url('/x1'));
  assert.equal(x.headers['x-mark'], 'a, g1');
  assert.equal(x.body, 'end');
  const y = await request(srv.url('/y'));
  assert.equal(y.headers['x-mark'], 'a, g2');
  const s = await request(srv.url('/stop'));
  assert.equal(s.headers['x-mark'], 'a, g2, t');
  assert.equal(s.body, '', 'a terminal route ends the list');
});

test('routes: next() twice is an error; handler errors render status, body and headers', async (t) => {
  const srv = await serve(t, [
    { match: [{ path: ['/twice'] }], handle: [{ handler: 'test_twice' }], terminal: true },
    { match: [{ path: ['/teapot'] }], handle: [{ handler: 'test_throw', status: 418, body: 'short and stout' }], terminal: true },
    { match: [{ path: ['/boom'] }], handle: [{ handler: 'test_throw' }], terminal: true },
  ]);
  assert.equal((await request(srv.url('/twice'))).status, 500);
  const tea = await request(srv.url('/teapot'));
  assert.equal(tea.status, 418);
  assert.equal(tea.body, 'short and stout');
  assert.equal(tea.headers['x-err'], 'yes');
  const boom = await request(srv.url('/boom'));
  assert.equal(boom.status, 500);
  assert.equal(boom.body, '', "Caddy's default error body is empty");
});

test('error routes see {http.error.*}; respond defaults to the error status', async (t) => {
  const srv = await serve(t, [
    { match: [{ path: ['/teapot'] }], handle: [{ handler: 'test_throw', status: 418 }] },
    { handle: [{ handler: 'test_throw', status: 404 }] },
  ], { errors: { routes: [
    { match: [{ expression: '{http.error.status_code} in [404, 410]' }], handle: [respond('gone: {http.error.status_code} {http.error.status_text}')], terminal: true },
    { handle: [respond('other {http.error.status_code} id={http.error.id}')] },
  ] } });
  const nf = await request(srv.url('/missing'));
  assert.equal(nf.status, 404);
  assert.equal(nf.body, 'gone: 404 Not Found');
  const tea = await request(srv.url('/teapot'));
  assert.equal(tea.status, 418);
  assert.match(tea.body, /^other 418 id=\w{9}$/);
});

test('subroute, rewrite (strip prefix, uri) and vars', async (t) => {
  const srv = await serve(t, [
    { handle: [{ handler: 'vars', greeting: 'hi {http.request.method}' }] },
    { match: [{ path: ['/api/*'] }], handle: [{ handler: 'subroute', routes: [
      { handle: [{ handler: 'rewrite', strip_path_prefix: '/api' }] },
      { match: [{ path: ['/v1/*'] }], handle: [respond('{http.vars.greeting} path={http.request.uri.path} orig={http.request.orig_uri}')] },
    ] }], terminal: true },
    { match: [{ path: ['/old'] }], handle: [{ handler: 'rewrite', uri: '/new?x=1' }] },
    { handle: [respond('{http.request.uri}')] },
  ]);
  assert.equal((await request(srv.url('/api/v1/things?q=2'))).body, 'hi GET path=/v1/things orig=/api/v1/things?q=2');
  assert.equal((await request(srv.url('/old'))).body, '/new?x=1');
});

test('headers handler: set/add/delete/replace, defer, require (?default)', async (t) => {
  const srv = await serve(t, [
    { handle: [{ handler: 'headers', response: { set: { 'X-Set': ['1'] }, add: { 'X-Add': ['a', 'b'] } } }] },
    { handle: [{ handler: 'headers', response: { delete: ['X-Secret'], replace: { 'X-Rep': [{ search_regexp: '(\\d+)', replace: 'n=${1}' }] }, deferred: true } }] },
    { handle: [{ handler: 'headers', response: { set: { 'X-Default': ['dflt'] }, require: { headers: { 'X-Default': null } } } }] },
    { handle: [{ handler: 'headers', response: { set: { 'Content-Type': ['text/x-default'] }, require: { headers: { 'Content-Type': null } } } }] },
    { handle: [{ handler: 'headers', request: { set: { 'X-Req': ['{http.request.method}'] } } }] },
    { handle: [respond('{http.request.header.X-Req}', 200, { headers: { 'X-Secret': ['s'], 'X-Rep': ['v42'], 'Content-Type': ['text/plain'] } })] },
  ]);
  const r = await request(srv.url('/'));
  assert.equal(r.headers['x-set'], '1');
  assert.equal(r.headers['x-add'], 'a, b');
  assert.equal(r.headers['x-secret'], undefined);
  assert.equal(r.headers['x-rep'], 'vn=42');
  assert.equal(r.headers['x-default'], 'dflt');
  assert.equal(r.headers['content-type'], 'text/plain', '? does not override an existing header');
  assert.equal(r.body, 'GET');
});
