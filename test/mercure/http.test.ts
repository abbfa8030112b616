/**
 * Routing, security headers, CORS, UI and demo (checklist 111–115, §1.1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HUB, baseConfig, http, publish, pubToken, startHub, type TestHub } from './harness.ts';

async function hub(t: import('node:test').TestContext, extra = {}): Promise<TestHub> {
  const h = await startHub(baseConfig(extra));
  t.after(() => h.close());
  return h;
}

test('routing: prefix test, 404 and 405 (§1.1)', async (t) => {
  const h = await hub(t);
  const cases: [string, string, number, string][] = [
    ['GET', '/other', 418, 'next'],
    ['GET', '/.well-known/mercurefoo', 404, '404 page not found\n'],
    ['GET', '/.well-known/mercure/', 404, '404 page not found\n'],
    ['GET', '/.well-known/mercure/ui/', 404, '404 page not found\n'],
    ['PUT', HUB, 405, ''],
    ['OPTIONS', HUB, 405, ''],
    ['DELETE', HUB, 405, ''],
  ];
  for (const [method, path, status, body] of cases) {
    const res = await http(h.url + path, { method });
    assert.equal(res.status, status, `${method} ${path}`);
    assert.equal(res.body, body, `${method} ${path}`);
    if (status === 404) assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    if (status === 405) assert.equal(res.headers.allow, undefined);
    if (status !== 418) assert.equal(res.headers['x-frame-options'], 'DENY', `${method} ${path} security headers`);
    else assert.equal(res.headers['x-frame-options'], undefined, 'other paths untouched');
  }
});

test('security headers on publish; CSP widened with ui (111, 112)', async (t) => {
  const h = await hub(t);
  const res = await publish(h.url, await pubToken(), [['topic', 'a']]);
  assert.equal(res.headers['content-security-policy'], "default-src 'self'");
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
  assert.equal(res.headers['x-frame-options'], 'DENY');
  assert.equal(res.headers['x-xss-protection'], '1; mode=block');
  assert.equal(res.headers['strict-transport-security'], undefined);
  const ui = await hub(t, { ui: true });
  const r2 = await http(ui.url + HUB, { method: 'PUT' });
  assert.equal(r2.headers['content-security-policy'], "default-src 'self' mercure.rocks cdn.jsdelivr.net");
});

test('CORS: preflight and actual requests (113, 114)', async (t) => {
  const h = await hub(t, { cors_origins: ['https://app.example', 'https://*.wild.example'] });
  const star = await hub(t, { cors_origins: ['*'] });
  const pre = await http(h.url + HUB, { method: 'OPTIONS', headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,last-event-id' } });
  assert.equal(pre.status, 204);
  assert.equal(pre.body, '');
  assert.equal(pre.headers['access-control-allow-origin'], 'https://app.example');
  assert.equal(pre.headers['access-control-allow-credentials'], 'true');
  assert.equal(pre.headers['access-control-allow-headers'], 'authorization,last-event-id');
  assert.equal(pre.headers['access-control-allow-methods'], 'POST');
  assert.equal(pre.headers.vary, 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
  assert.equal(pre.headers['x-frame-options'], 'DENY', 'security headers on preflights');

  const cases: [string, Record<string, string>, string | undefined][] = [
    ['disallowed origin', { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET' }, undefined],
    ['disallowed method', { Origin: 'https://app.example', 'Access-Control-Request-Method': 'PUT' }, undefined],
    ['disallowed header', { Origin: 'https://app.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-custom' }, undefined],
    ['wildcard origin', { Origin: 'https://a.wild.example', 'Access-Control-Request-Method': 'GET' }, 'https://a.wild.example'],
    ['case-insensitive origin', { Origin: 'https://APP.example', 'Access-Control-Request-Method': 'GET' }, 'https://APP.example'],
  ];
  for (const [name, headers, acao] of cases) {
    const r = await http(h.url + HUB, { method: 'OPTIONS', headers });
    assert.equal(r.status, 204, name);
    assert.equal(r.headers['access-control-allow-origin'], acao, name);
  }
  const starPre = await http(star.url + HUB, { method: 'OPTIONS', headers: { Origin: 'https://x.example', 'Access-Control-Request-Method': 'GET' } });
  assert.equal(starPre.headers['access-control-allow-origin'], '*');

  const actual = await publish(h.url, await pubToken(), [['topic', 'a']], { Origin: 'https://app.example' });
  assert.equal(actual.status, 200);
  assert.equal(actual.headers['access-control-allow-origin'], 'https://app.example');
  assert.equal(actual.headers['access-control-allow-credentials'], 'true');
  assert.equal(actual.headers.vary, 'Origin');
  const evil = await publish(h.url, await pubToken(), [['topic', 'a']], { Origin: 'https://evil.example' });
  assert.equal(evil.status, 200, 'disallowed origins are still served');
  assert.equal(evil.headers['access-control-allow-origin'], undefined);
  const noPreflight = await http(h.url + HUB, { method: 'OPTIONS', headers: { Origin: 'https://app.example' } });
  assert.equal(noPreflight.status, 405, 'OPTIONS without Access-Control-Request-Method reaches the router');

  const plain = await hub(t);
  const r = await publish(plain.url, await pubToken(), [['topic', 'a']], { Origin: 'https://app.example' });
  assert.equal(r.headers.vary, undefined, '114');
  assert.equal(r.headers['access-control-allow-origin'], undefined, '114');
  assert.equal((await http(plain.url + HUB, { method: 'OPTIONS', headers: { Origin: 'https://a', 'Access-Control-Request-Method': 'GET' } })).status, 405, '114');
});

test('UI static files (§1.6)', async (t) => {
  const h = await hub(t, { ui: true });
  const index = await http(h.url + '/.well-known/mercure/ui/');
  assert.equal(index.status, 200);
  assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
  assert.match(index.body, /<script src="app.js" defer><\/script>/);
  const js = await http(h.url + '/.well-known/mercure/ui/app.js');
  assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.match(js.body, /EventSource/);
  const css = await http(h.url + '/.well-known/mercure/ui/app.css', { method: 'POST' });
  assert.equal(css.status, 200, 'any method');
  assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
  const redirect = await http(h.url + '/.well-known/mercure/ui/index.html');
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.location, './');
  assert.equal((await http(h.url + '/.well-known/mercure/ui/missing.js')).status, 404);
  assert.equal((await http(h.url + '/.well-known/mercure/ui')).status, 404, 'no slash');
  assert.equal((await http(h.url + '/.well-known/mercure/ui/demo/x')).status, 404, 'demo needs `demo`');
});

test('demo endpoint: body, Content-Type, Link, cookie (115)', async (t) => {
  const h = await hub(t, { demo: true });
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.e30.x';
  const r = await http(`${h.url}/.well-known/mercure/ui/demo/books/1.jsonld?body=${encodeURIComponent('{"a":1}')}&jwt=${jwt}`);
  assert.equal(r.status, 200);
  assert.equal(r.body, '{"a":1}');
  assert.equal(r.headers['content-type'], 'application/ld+json');
  assert.deepEqual(r.rawHeaders.filter((_, i, a) => i % 2 === 1 && a[i - 1] === 'Link'), [
    '</.well-known/mercure>; rel="mercure"',
    `</.well-known/mercure/ui/demo/books/1.jsonld?body=%7B%22a%22%3A1%7D&jwt=${jwt}>; rel="self"`,
  ]);
  assert.equal(r.headers['set-cookie']![0], `mercureAuthorization=${jwt}; Path=/.well-known/mercure; SameSite=Strict`);
  const cleared = await http(`${h.url}/.well-known/mercure/ui/demo/x.xml`);
  assert.equal(cleared.headers['content-type'], 'text/xml; charset=utf-8');
  assert.equal(cleared.headers['set-cookie']![0], 'mercureAuthorization=; Path=/.well-known/mercure; Expires=Thu, 01 Jan 1970 00:00:00 GMT; SameSite=Strict');
  assert.equal(cleared.body, '');
  const post = await http(`${h.url}/.well-known/mercure/ui/demo/x`, { method: 'POST' });
  assert.equal(post.status, 404, 'POST falls through to the static files');

  const custom = await hub(t, { demo: true, cookie_name: 'auth' });
  const c = await http(`${custom.url}/.well-known/mercure/ui/demo/page?body=hi`);
  assert.equal(c.headers.link, '</.well-known/mercure>; rel="mercure"; cookie-name="auth", </.well-known/mercure/ui/demo/page?body=hi>; rel="self"');
  assert.equal(c.headers['content-type'], 'text/plain; charset=utf-8', 'sniffed');
  assert.match(c.headers['set-cookie']![0]!, /^auth=; Path/);
});
