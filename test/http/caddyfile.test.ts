/**
 * Caddyfile → adapter → running server, for the HTTP directives: the
 * Mercure-image style site (log filter, encode, log_skip, header, respond),
 * handle_path + root + file_server, handle_errors, redir, reverse_proxy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adaptCaddyfile } from '../../src/runtime/load-config.ts';
import { request, start, upstream } from './helpers.ts';


/** Adapts text and moves every server to 127.0.0.1:0. */
function adapt(text: string): Record<string, unknown> {
  const r = adaptCaddyfile(text, { file: 'Caddyfile', env: {}, readFile: () => '' });
  const apps = r.config.apps as { http: { servers: Record<string, { listen: string[] }> } };
  for (const s of Object.values(apps.http.servers)) s.listen = ['127.0.0.1:0'];
  return apps;
}

test('Caddyfile: the Mercure-style site, with a filtered access log', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qs-cf-'));
  const logFile = join(dir, 'access.log');
  const apps = adapt(`:8080 {
	log {
		output file ${logFile}
		format filter {
			wrap json
			fields {
				request>uri query {
					replace authorization REDACTED
				}
			}
		}
	}
	encode zstd gzip
	log_skip /healthz
	header / Content-Type "text/html; charset=utf-8"
	respond / \`<h1>Welcome</h1>
<p>{host}</p>\`
	respond /robots.txt \`User-agent: *
Disallow: /\`
	respond /healthz 200
	respond "Not Found" 404
}`);
  const srv = await start(t, apps);
  const home = await request(srv.url('/'), { headers: { host: 'hub.test' } });
  assert.equal(home.status, 200);
  assert.equal(home.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(home.body, '<h1>Welcome</h1>\n<p>hub.test</p>');
  const robots = await request(srv.url('/robots.txt'));
  assert.equal(robots.body, 'User-agent: *\nDisallow: /');
  assert.equal((await request(srv.url('/healthz'))).status, 200);
  const nf = await request(srv.url('/.well-known/mercure?topic=x&authorization=secret.jwt'));
  assert.equal(nf.status, 404);
  assert.equal(nf.body, 'Not Found');
  await srv.stop();
  const lines = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
  const uris = lines.map((l) => l.request.uri as string);
  assert.ok(!uris.includes('/healthz'), 'log_skip keeps /healthz out of the log');
  const mercure = lines.find((l) => String(l.request.uri).startsWith('/.well-known/mercure'))!;
  assert.equal(mercure.request.uri, '/.well-known/mercure?topic=x&authorization=REDACTED');
  assert.equal(mercure.status, 404);
  assert.equal(mercure.msg, 'handled request');
  assert.equal(mercure.logger, 'http.log.access.log0');
  assert.equal(typeof mercure.duration, 'number');
});

test('Caddyfile: handle_path strips the prefix for root + file_server; handle_errors; redir', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'qs-root-'));
  mkdirSync(join(root, 'css'));
  writeFileSync(join(root, 'css', 'site.css'), 'body{}');
  const apps = adapt(`:80 {
	handle_path /static/* {
		root * ${root}
		file_server
	}
	redir /old /new permanent
	handle /api/* {
		respond "api" 200
	}
	handle_errors 404 {
		respond "missing {err.status_code}" 404
	}
	handle_errors {
		respond "other {err.status_code}"
	}
}`);
  const srv = await start(t, apps);
  const css = await request(srv.url('/static/css/site.css'));
  assert.equal(css.status, 200);
  assert.equal(css.body, 'body{}');
  assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
  const missing = await request(srv.url('/static/nope.css'));
  assert.equal(missing.status, 404);
  assert.equal(missing.body, 'missing 404');
  const old = await request(srv.url('/old'));
  assert.equal(old.status, 301);
  assert.equal(old.headers.location, '/new');
  assert.equal((await request(srv.url('/api/x'))).body, 'api');
});

test('Caddyfile: reverse_proxy with header_up and lb_policy', async (t) => {
  const up = await upstream(t, (req, res) => res.end(`${req.headers['x-who']} ${req.url}`));
  const apps = adapt(`:80 {
	@api path /api/*
	handle @api {
		reverse_proxy 127.0.0.1:${up.port} {
			lb_policy first
			header_up X-Who "{method}-{path.1}"
		}
	}
	handle {
		respond "fallback"
	}
}`);
  const srv = await start(t, apps);
  assert.equal((await request(srv.url('/api/things?x=1'))).body, 'GET-things /api/things?x=1');
  assert.equal((await request(srv.url('/other'))).body, 'fallback');
});
