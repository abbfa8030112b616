/**
 * php_fastcgi against a real php-fpm this test starts, on a TCP port and on a
 * unix socket: CGI variables, PATH_INFO splitting, try_files and the
 * canonical redirect, a 10 MB upload, a streamed response, stderr in the log,
 * keep-alive, 411, and the 502/504 statuses.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { freePort, phpFpmSkipReason, startPhpFpm } from '../helpers/php-fpm-server.ts';
import { serve } from '../http/helpers.ts';
import { APP, runCaddyfile, send } from './helpers.ts';

const skip = phpFpmSkipReason();

for (const unix of [false, true]) {
  const kind = unix ? 'unix socket' : 'TCP';
  test(`php_fastcgi over ${kind}: CGI variables, PATH_INFO, try_files, redirect, upload, stream, stderr`, { skip }, async (t) => {
    const fpm = await startPhpFpm({ unix });
    t.after(() => fpm.stop());
    const run = await runCaddyfile(t, `:8080 {
	root * ${APP}
	php_fastcgi ${fpm.upstream} {
		env APP_ENV test
		capture_stderr
	}
	file_server
}
`);
    // CGI variables of a plain request.
    const r = await send(run.url('/?a=1&b=two'), { headers: { 'X-Custom': 'yes', Proxy: 'http://evil' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-powered-by-test'], 'index');
    const v = JSON.parse(r.body);
    assert.equal(v.SCRIPT_FILENAME, join(APP, 'index.php'));
    assert.equal(v.SCRIPT_NAME, '/index.php');
    assert.equal(v.DOCUMENT_ROOT, APP);
    assert.equal(v.REQUEST_URI, '/?a=1&b=two');
    assert.equal(v.QUERY_STRING, 'a=1&b=two');
    assert.deepEqual(v.get, { a: '1', b: 'two' });
    assert.equal(v.REQUEST_METHOD, 'GET');
    assert.equal(v.REQUEST_SCHEME, 'http');
    assert.equal(v.REMOTE_ADDR, '127.0.0.1');
    assert.equal(v.SERVER_NAME, '127.0.0.1');
    assert.equal(v.SERVER_PORT, new URL(run.url()).port);
    assert.equal(v.GATEWAY_INTERFACE, 'CGI/1.1');
    assert.equal(v.HTTP_X_CUSTOM, 'yes');
    assert.equal(v.HTTP_PROXY, null, 'the Proxy header is never passed (httpoxy)');
    assert.equal(v.HTTPS, null);
    assert.equal(v.APP_ENV, 'test');
    assert.equal(v.PATH_INFO, '');

    // PATH_INFO splitting.
    const p = JSON.parse((await send(run.url('/index.php/foo/bar?x=1'))).body);
    assert.equal(p.SCRIPT_NAME, '/index.php');
    assert.equal(p.PATH_INFO, '/foo/bar');
    assert.equal(p.PATH_TRANSLATED, join(APP, 'foo/bar'));
    assert.equal(p.REQUEST_URI, '/index.php/foo/bar?x=1');
    assert.equal(p.PHP_SELF, '/index.php/foo/bar');

    // try_files: an unknown path falls back to index.php; REQUEST_URI stays the original.
    const f = JSON.parse((await send(run.url('/no/such/page?q=1'))).body);
    assert.equal(f.SCRIPT_NAME, '/index.php');
    assert.equal(f.REQUEST_URI, '/no/such/page?q=1');
    assert.equal(f.QUERY_STRING, 'q=1');

    // A directory with an index.php: 308 to the canonical URI (query kept), then its index.
    const d = await send(run.url('/dir?k=v'));
    assert.equal(d.status, 308);
    assert.equal(d.headers.location, '/dir/?k=v');
    assert.equal((await send(run.url('/dir/'))).body, 'dir index\n');
    // Static files are the file_server's.
    assert.equal((await send(run.url('/hello.txt'))).body, 'static text\n');

    // A 10 MB upload, streamed in; PHP sees every byte.
    const big = randomBytes(10 * 1024 * 1024);
    const u = await send(run.url('/index.php'), { method: 'POST', body: big, headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(u.status, 200);
    const uv = JSON.parse(u.body);
    assert.equal(uv.body_length, big.length);
    assert.equal(uv.body_md5, createHash('md5').update(big).digest('hex'));
    assert.equal(uv.CONTENT_LENGTH, String(big.length));
    // A form post.
    const form = JSON.parse((await send(run.url('/index.php'), { method: 'POST', body: 'name=qs&n=2', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } })).body);
    assert.deepEqual(form.post, { name: 'qs', n: '2' });

    // A streamed response: the first line arrives while the script still runs.
    const marker = join(tmpdir(), `qs-stream-${process.pid}-${unix}`);
    rmSync(marker, { force: true });
    t.after(() => rmSync(marker, { force: true }));
    const req = http.get(run.url(`/stream.php?wait=${encodeURIComponent(marker)}`), { agent: false });
    const [res] = (await once(req, 'response')) as [http.IncomingMessage];
    res.setEncoding('utf8');
    const [first] = (await once(res, 'data')) as [string];
    assert.equal(first, 'first\n', 'the flushed part is not held back');
    writeFileSync(marker, '');
    let rest = '';
    for await (const ch of res) rest += ch;
    assert.equal(rest, 'second\n');

    // stderr is logged (error level, as the status is 500); repeated headers survive.
    const w = await send(run.url('/warn.php'));
    assert.equal(w.status, 500);
    assert.deepEqual(w.headers['set-cookie'], ['a=1', 'b=2']);
    const line = run.logs.find((l) => String(l.stderr ?? '').includes('quicksilver-stderr-marker'));
    assert.ok(line, 'the STDERR record reached the log');
    assert.equal(line.level, 50);

    // Keep-alive: sequential requests reuse one connection, so one php-fpm worker answers them all.
    const pids = new Set<string>();
    for (let i = 0; i < 5; i++) pids.add((await send(run.url('/pid.php'))).body);
    assert.equal(pids.size, 1, `one worker for sequential requests, got ${[...pids].join(',')}`);
  });
}

test('php_fastcgi: chunked bodies up to 4 KiB are measured, longer ones get 411', { skip }, async (t) => {
  const fpm = await startPhpFpm();
  t.after(() => fpm.stop());
  const run = await runCaddyfile(t, `:8080 {\n\troot * ${APP}\n\tphp_fastcgi ${fpm.upstream}\n}\n`);
  const chunked = async (size: number) => {
    const req = http.request(run.url('/index.php'), { method: 'POST', agent: false, headers: { 'Transfer-Encoding': 'chunked' } });
    req.write(Buffer.alloc(size, 97));
    req.end();
    const [res] = (await once(req, 'response')) as [http.IncomingMessage];
    let body = '';
    for await (const ch of res) body += ch;
    return { status: res.statusCode, body };
  };
  const small = await chunked(1000);
  assert.equal(small.status, 200);
  assert.equal(JSON.parse(small.body).body_length, 1000);
  assert.equal((await chunked(10_000)).status, 411);
});

test('php_fastcgi: 502 when php-fpm is down, 504 when it is too slow', { skip }, async (t) => {
  const fpm = await startPhpFpm();
  t.after(() => fpm.stop());
  const closed = await freePort();
  const run = await runCaddyfile(t, `:8080 {
	root * ${APP}
	handle /down/* {
		php_fastcgi 127.0.0.1:${closed}
	}
	handle /gone/* {
		php_fastcgi unix//nonexistent/qs-php.sock
	}
	handle {
		php_fastcgi ${fpm.upstream} {
			read_timeout 300ms
		}
	}
}
`);
  assert.equal((await send(run.url('/down/index.php'))).status, 502);
  assert.equal((await send(run.url('/gone/index.php'))).status, 502);
  assert.equal((await send(run.url('/slow.php?ms=3000'))).status, 504);
  assert.equal((await send(run.url('/slow.php?ms=1'))).body, 'slow done\n', 'the same upstream answers a fast request');
});

test('fastcgi keep-alive never starves a request queued behind a worker held by an idle connection', { skip }, async (t) => {
  // One php-fpm worker, idle connections kept for an hour: a kept connection holds that worker, so a
  // request on a new connection waits in php-fpm's backlog until the transport lets the worker go.
  const fpm = await startPhpFpm({ workers: 1 });
  t.after(() => fpm.stop());
  const srv = await serve(t, [{
    handle: [{
      handler: 'reverse_proxy',
      upstreams: [{ dial: fpm.upstream }],
      transport: { protocol: 'fastcgi', root: APP, split_path: ['.php'], keep_alive: { idle_timeout: '1h' } },
    }],
  }]);
  assert.equal((await send(srv.url('/slow.php?ms=1'))).body, 'slow done\n');
  const replies = await Promise.all(Array.from({ length: 4 }, () => send(srv.url('/slow.php?ms=50'))));
  assert.deepEqual(replies.map((r) => r.body), Array(4).fill('slow done\n'));
});
