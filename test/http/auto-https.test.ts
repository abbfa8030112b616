/**
 * Issue 18.7: automatic HTTP→HTTPS redirects as Caddy adds them, and
 * `auto_https disable_redirects` / `off` turning them off. Real listeners on
 * real ports (the redirects need a fixed HTTP port), a real TLS handshake
 * for the redirect target.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { adaptCaddyfile } from '../../src/runtime/load-config.ts';
import { registerAllDirectives } from '../../directives/index.ts';
import { withAutoRedirects } from '../../src/http/auto-https.ts';
import type { RouteConfig } from '../../src/http/handler.ts';
import { freePort } from '../helpers/hub-process.ts';
import { request, start } from './helpers.ts';

registerAllDirectives();

function adapt(text: string): Record<string, unknown> {
  const r = adaptCaddyfile(text, { file: 'Caddyfile', env: {}, readFile: () => '' });
  return r.config.apps as Record<string, unknown>;
}

const site = (hosts: string[] | undefined, body: string): RouteConfig => ({
  ...(hosts ? { match: [{ host: hosts }] } : {}), handle: [{ handler: 'static_response', body }], terminal: true,
});
const redirect = (hosts: string[] | undefined, location: string) => ({
  match: [hosts ? { protocol: 'http', host: hosts } : { protocol: 'http' }],
  handle: [{ handler: 'static_response', status_code: 308, headers: { Location: [location], Connection: ['close'] }, close: true }],
});

test('the redirect routes Caddy adds: per listener host and port, catch-all last, appended to an http:// server on the same address', () => {
  const tls = [{}];
  // HTTPS on 443 and on 8443 for the same name: the HTTPS port wins; another name only on 8443 keeps its port.
  const out = withAutoRedirects({
    srv0: { listen: [':443'], tls_connection_policies: tls, routes: [site(['a.example', 'b.example'], 'x'), site(undefined, 'catch-all')] },
    srv1: { listen: [':8443'], tls_connection_policies: tls, routes: [site(['a.example'], 'x'), site(['c.example'], 'y')] },
  });
  assert.deepEqual(out.remaining_auto_https_redirects, {
    listen: [':80'],
    routes: [
      redirect(['a.example', 'b.example'], 'https://{http.request.host}{http.request.uri}'),
      redirect(['c.example'], 'https://{http.request.host}:8443{http.request.uri}'),
      redirect(undefined, 'https://{http.request.host}{http.request.uri}'),
    ],
  });
  // An http:// site already on the redirect address keeps its routes first.
  const withHttp = withAutoRedirects({
    srv0: { listen: [':443'], tls_connection_policies: tls, routes: [site(['a.example'], 'x')] },
    srv1: { listen: [':80'], routes: [site(['plain.example'], 'plain')] },
  });
  assert.equal(withHttp.remaining_auto_https_redirects, undefined);
  assert.deepEqual(withHttp.srv1!.routes, [site(['plain.example'], 'plain'), redirect(['a.example'], 'https://{http.request.host}{http.request.uri}'), redirect(undefined, 'https://{http.request.host}{http.request.uri}')]);
  // The listener's host is kept; custom ports.
  assert.deepEqual(withAutoRedirects({ s: { listen: ['127.0.0.1:9443'], tls_connection_policies: tls, routes: [site(['a.example'], 'x')] } }, 9080, 9443).remaining_auto_https_redirects?.listen, ['127.0.0.1:9080']);
});

test('no redirects: disable_redirects, disable, skip, no TLS, no host names, only the HTTP port, port 0', () => {
  const tls = [{}];
  const cases: Record<string, Record<string, unknown>> = {
    disable_redirects: { listen: [':443'], tls_connection_policies: tls, routes: [site(['a.example'], 'x')], automatic_https: { disable_redirects: true } },
    disable: { listen: [':443'], tls_connection_policies: tls, routes: [site(['a.example'], 'x')], automatic_https: { disable: true } },
    skip: { listen: [':443'], tls_connection_policies: tls, routes: [site(['a.example'], 'x')], automatic_https: { skip: ['a.example'] } },
    'no TLS': { listen: [':8080'], routes: [site(['a.example'], 'x')] },
    'catch-all only': { listen: [':443'], tls_connection_policies: tls, routes: [site(undefined, 'x')] },
    'HTTP port only': { listen: [':80'], tls_connection_policies: tls, routes: [site(['a.example'], 'x')] },
    'port 0': { listen: ['127.0.0.1:0'], tls_connection_policies: tls, routes: [site(['a.example'], 'x')] },
  };
  for (const [what, srv] of Object.entries(cases)) {
    const out = withAutoRedirects({ srv0: srv as never });
    assert.deepEqual(Object.keys(out), ['srv0'], what);
  }
});

test('auto_https in the Caddyfile becomes each server\'s automatic_https, as Caddy adapts it', () => {
  const servers = (opt: string) => (adapt(`{\n\tauto_https ${opt}\n}\nexample.com {\n\trespond x\n}\n`).http as { servers: Record<string, Record<string, unknown>> }).servers;
  assert.deepEqual(servers('disable_redirects').srv0!.automatic_https, { disable_redirects: true });
  assert.deepEqual(servers('off').srv0!.automatic_https, { disable: true });
  assert.deepEqual(servers('disable_certs').srv0!.automatic_https, { disable_certificates: true });
  const plain = (adapt('example.com {\n\trespond x\n}\n').http as { servers: Record<string, Record<string, unknown>> }).servers;
  assert.equal(plain.srv0!.automatic_https, undefined, 'the redirects are not written into the JSON');
});

test('a running HTTPS site answers 308 on the HTTP port, then serves over TLS; disable_redirects leaves the HTTP port closed', async (t) => {
  const httpPort = await freePort();
  const httpsPort = await freePort();
  const otherPort = await freePort();
  const conf = (global: string) => `{\n\thttp_port ${httpPort}\n\thttps_port ${httpsPort}\n\tlocal_certs\n\tskip_install_trust\n${global}}\n`
    + `localhost {\n\trespond "secure"\n}\na.localhost:${otherPort} {\n\trespond "other port"\n}\n`;
  const srv = await start(t, adapt(conf('')));
  // On https_port: no port in the Location (Caddy takes https_port to be 443 from outside).
  const plain = await request(`http://127.0.0.1:${httpPort}/a/b%20c?x=1&y`, { headers: { Host: 'localhost' } });
  assert.equal(plain.status, 308);
  assert.equal(plain.headers.location, 'https://localhost/a/b%20c?x=1&y');
  assert.equal(plain.headers.connection, 'close');
  assert.equal(plain.body, '');
  // On another port: the port is named, and the target answers over TLS.
  const other = await request(`http://127.0.0.1:${httpPort}/p?q`, { headers: { Host: `a.localhost:${httpPort}` } });
  assert.equal(other.status, 308);
  assert.equal(other.headers.location, `https://a.localhost:${otherPort}/p?q`);
  const ca = readFileSync(join(srv.dataDir, 'pki/authorities/local/root.crt'), 'utf8');
  const req = https.get({ host: '127.0.0.1', port: otherPort, servername: 'a.localhost', ca, agent: false, path: '/p?q', headers: { host: `a.localhost:${otherPort}` } });
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  let body = '';
  for await (const c of res) body += c;
  assert.equal(res.statusCode, 200);
  assert.equal(body, 'other port');
  // A name not in the config (an IP address) gets the catch-all redirect.
  const ip = await request(`http://127.0.0.1:${httpPort}/`, { headers: { Host: `127.0.0.1:${httpPort}` } });
  assert.equal(ip.status, 308);
  assert.equal(ip.headers.location, 'https://127.0.0.1/');
  await srv.stop();

  const off = await start(t, adapt(conf('\tauto_https disable_redirects\n')));
  await assert.rejects(request(`http://127.0.0.1:${httpPort}/`, { headers: { Host: 'localhost' } }), /ECONNREFUSED/);
  await off.stop();
});

test('an http:// site on the HTTP port keeps its own routes; other names on that port are redirected', async (t) => {
  const httpPort = await freePort();
  const httpsPort = await freePort();
  const srv = await start(t, adapt(`{\n\thttp_port ${httpPort}\n\thttps_port ${httpsPort}\n\tlocal_certs\n\tskip_install_trust\n}\nlocalhost {\n\trespond "secure"\n}\nhttp://plain.localhost {\n\trespond "plain"\n}\n`));
  const own = await request(`http://127.0.0.1:${httpPort}/`, { headers: { Host: 'plain.localhost' } });
  assert.equal(own.status, 200);
  assert.equal(own.body, 'plain');
  const moved = await request(`http://127.0.0.1:${httpPort}/x`, { headers: { Host: 'localhost' } });
  assert.equal(moved.status, 308);
  assert.equal(moved.headers.location, 'https://localhost/x');
  await srv.stop();
});
