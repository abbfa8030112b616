/**
 * The admin endpoint refuses what a web page on another origin can make a
 * browser send without a preflight (form posts, no-cors fetches, text/plain
 * bodies), checks Host/Origin/Sec-Fetch-Site against the allowed origins
 * (default: the listen address) and implements `origins` / `enforce_origin`.
 * Requests are sent with exactly the headers a browser puts on them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Runtime } from '../../src/runtime/runtime.ts';
import { defaultOrigins } from '../../src/runtime/admin-origin.ts';

interface Answer { status: number; body: string; headers: Record<string, string | string[] | undefined> }

function send(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { Host: `localhost:${port}`, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode!, body: text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A runtime with its admin endpoint on a free port; records /stop requests. */
async function startRuntime(admin: Record<string, unknown>): Promise<{ rt: Runtime; port: number; stops: () => number }> {
  let stops = 0;
  const rt = new Runtime({ log: pino({ level: 'silent' }), dataDir: mkdtempSync(join(tmpdir(), 'qs-admin-')), onStop: () => { stops++; } });
  await rt.load({ admin: { listen: 'localhost:0', ...admin }, apps: {} });
  const port = Number(/:(\d+)$/.exec(rt.adminAddress!)![1]);
  return { rt, port, stops: () => stops };
}

const newConfig = (marker: string) => JSON.stringify({ admin: { listen: 'localhost:0' }, apps: {}, marker });

test('default origins: the listen address, plus the loopback names for a loopback or wildcard listener', () => {
  assert.deepEqual(defaultOrigins('localhost:2019', 2019), ['localhost:2019', '127.0.0.1:2019', '[::1]:2019']);
  assert.deepEqual(defaultOrigins(':2019', 2019), ['localhost:2019', '127.0.0.1:2019', '[::1]:2019']);
  assert.deepEqual(defaultOrigins('10.1.2.3:2019', 2019), ['10.1.2.3:2019']);
});

test('cross-origin browser requests are refused; same-origin and non-browser clients are not', async (t) => {
  const { rt, port, stops } = await startRuntime({});
  t.after(() => rt.stop());
  const evil = 'http://evil.example';
  const refused: [string, Promise<Answer>][] = [
    // <form method=post action=http://localhost:2019/stop> on another site
    ['form post to /stop', send(port, 'POST', '/stop', { Origin: evil, 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'navigate', 'Content-Type': 'application/x-www-form-urlencoded' }, 'a=b')],
    // fetch(url, { method: 'POST', mode: 'no-cors', body: json }): text/plain, no preflight
    ['no-cors fetch of /load', send(port, 'POST', '/load', { Origin: evil, 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors', 'Content-Type': 'text/plain;charset=UTF-8' }, newConfig('evil'))],
    // <form enctype=text/plain> from a sandboxed iframe or a file:// page: Origin null
    ['form from an opaque origin', send(port, 'POST', '/load', { Origin: 'null', 'Sec-Fetch-Site': 'cross-site', 'Content-Type': 'text/plain' }, newConfig('evil'))],
    // multipart form, same site (another port of localhost)
    ['multipart form from another localhost port', send(port, 'POST', '/load', { Origin: 'http://localhost:1', 'Sec-Fetch-Site': 'same-site', 'Content-Type': 'multipart/form-data; boundary=x' }, '--x--')],
    // a cross-site navigation or image load carries no Origin on GET, only Sec-Fetch-Site
    ['cross-site GET of /config/', send(port, 'GET', '/config/', { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors' })],
    // DNS rebinding: the page's own host name in Host
    ['rebound Host', send(port, 'POST', '/stop', { Host: `evil.example:${port}` })],
  ];
  for (const [what, p] of refused) {
    const a = await p;
    assert.equal(a.status, 403, `${what}: ${a.status} ${a.body}`);
    assert.match(a.body, /^\{"error":"/, what);
  }
  assert.equal(stops(), 0, 'no refused /stop reached the runtime');
  assert.equal((rt.instance?.config as { marker?: string }).marker, undefined, 'no refused /load changed the config');

  // /load needs a media type a page cannot send without a preflight.
  for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '']) {
    const a = await send(port, 'POST', '/load', ct ? { 'Content-Type': ct } : {}, newConfig('plain'));
    assert.equal(a.status, 400, `Content-Type ${ct}: ${a.body}`);
    assert.match(a.body, /expected application\/json or text\/caddyfile/);
  }
  assert.equal((rt.instance?.config as { marker?: string }).marker, undefined);

  // Same-origin browser requests and clients without Origin (curl, the CLI) work.
  const own = await send(port, 'POST', '/load', { Origin: `http://localhost:${port}`, 'Sec-Fetch-Site': 'same-origin', 'Content-Type': 'application/json; charset=utf-8' }, newConfig('own'));
  assert.equal(own.status, 200, own.body);
  assert.equal(own.headers['access-control-allow-origin'], `http://localhost:${port}`);
  assert.equal((rt.instance?.config as { marker?: string }).marker, 'own');
  const curl = await send(port, 'GET', '/config/marker', { Host: `127.0.0.1:${port}` });
  assert.deepEqual([curl.status, curl.body], [200, '"own"\n']);
  const typed = await send(port, 'GET', '/config/marker', { 'Sec-Fetch-Site': 'none' });
  assert.equal(typed.status, 200, 'a URL typed into the address bar (Sec-Fetch-Site: none) is not cross-site');
  const stop = await send(port, 'POST', '/stop', {});
  assert.equal(stop.status, 200);
  await new Promise((r) => setImmediate(r));
  assert.equal(stops(), 1);
});

test('origins and enforce_origin: only the listed origins, and an Origin header is required', async (t) => {
  // The port is only known after binding, so the listed origins are set by a reload that keeps the listener.
  const { rt, port } = await startRuntime({});
  t.after(() => rt.stop());
  const cfg = (marker: string) => JSON.stringify({ admin: { listen: 'localhost:0', origins: [`localhost:${port}`, 'https://ui.example'], enforce_origin: true }, apps: {}, marker });
  const first = await send(port, 'POST', '/load', { 'Content-Type': 'application/json' }, cfg('one'));
  assert.equal(first.status, 200, first.body);

  const noOrigin = await send(port, 'POST', '/load', { 'Content-Type': 'application/json' }, cfg('two'));
  assert.deepEqual([noOrigin.status, noOrigin.body], [403, '{"error":"required Origin header is missing or invalid"}\n']);
  const wrongScheme = await send(port, 'GET', '/config/', { Origin: 'http://ui.example' });
  assert.equal(wrongScheme.status, 403, 'the scheme of a listed origin is checked');
  const notListedHost = await send(port, 'GET', '/config/', { Host: `127.0.0.1:${port}`, Origin: `http://localhost:${port}` });
  assert.equal(notListedHost.status, 403, 'Host must be a listed origin once `origins` is set');

  const preflight = await send(port, 'OPTIONS', '/load', { Origin: 'https://ui.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers['access-control-allow-origin'], 'https://ui.example');
  const evilPreflight = await send(port, 'OPTIONS', '/load', { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' });
  assert.equal(evilPreflight.status, 403);
  assert.equal(evilPreflight.headers['access-control-allow-origin'], undefined);

  const ui = await send(port, 'POST', '/load', { Origin: 'https://ui.example', 'Sec-Fetch-Site': 'cross-site', 'Content-Type': 'application/json' }, cfg('ui'));
  assert.equal(ui.status, 200, `a listed cross-site origin is allowed: ${ui.body}`);
  const cli = await send(port, 'GET', '/config/marker', { Origin: `http://localhost:${port}` });
  assert.deepEqual([cli.status, cli.body], [200, '"ui"\n'], 'the CLI sends Origin: http://<admin address>');
});
