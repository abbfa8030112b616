import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { request, respond, serve } from './helpers.ts';

function site(): string {
  const root = mkdtempSync(join(tmpdir(), 'qs-fs-'));
  writeFileSync(join(root, 'index.html'), '<h1>home</h1>');
  writeFileSync(join(root, 'data.txt'), '0123456789');
  writeFileSync(join(root, 'app.js'), 'console.log(1)');
  writeFileSync(join(root, 'app.js.gz'), zlib.gzipSync('console.log(1)'));
  writeFileSync(join(root, '.env'), 'SECRET=1');
  mkdirSync(join(root, 'docs'));
  writeFileSync(join(root, 'docs', 'index.html'), 'docs');
  mkdirSync(join(root, 'empty'));
  return root;
}

test('file_server: index, types, hide, canonical redirects, 404, 405', async (t) => {
  const root = site();
  const srv = await serve(t, [
    { handle: [{ handler: 'vars', root }] },
    { match: [{ path: ['/fallback/*'] }], handle: [{ handler: 'file_server', pass_thru: true }, respond('passed')], terminal: true },
    { handle: [{ handler: 'file_server', hide: ['.env'] }] },
  ]);
  const home = await request(srv.url('/'));
  assert.equal(home.status, 200);
  assert.equal(home.body, '<h1>home</h1>');
  assert.equal(home.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(home.headers['content-length'], '13');
  assert.equal((await request(srv.url('/.env'))).status, 404);
  assert.equal((await request(srv.url('/nope'))).status, 404);
  assert.equal((await request(srv.url('/empty/'))).status, 404);
  const dir = await request(srv.url('/docs?x=1'));
  assert.equal(dir.status, 308);
  assert.equal(dir.headers.location, '/docs/?x=1');
  assert.equal((await request(srv.url('/docs/'))).body, 'docs');
  const file = await request(srv.url('/data.txt/'));
  assert.equal(file.status, 308);
  assert.equal(file.headers.location, '/data.txt');
  const post = await request(srv.url('/data.txt'), { method: 'POST' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET, HEAD');
  assert.equal((await request(srv.url('/fallback/missing'))).body, 'passed');
  const head = await request(srv.url('/data.txt'), { method: 'HEAD' });
  assert.equal(head.headers['content-length'], '10');
  assert.equal(head.body, '');
  assert.equal((await request(srv.url('/../../etc/passwd'))).status, 404);
});

test('file_server: ETag / Last-Modified conditionals and byte ranges', async (t) => {
  const root = site();
  const srv = await serve(t, [{ handle: [{ handler: 'file_server', root }] }]);
  const full = await request(srv.url('/data.txt'));
  const etag = full.headers.etag!;
  assert.match(etag, /^"[0-9a-z]+"$/);
  assert.equal(full.headers['accept-ranges'], 'bytes');
  assert.equal((await request(srv.url('/data.txt'), { headers: { 'if-none-match': etag } })).status, 304);
  assert.equal((await request(srv.url('/data.txt'), { headers: { 'if-modified-since': full.headers['last-modified']! } })).status, 304);
  assert.equal((await request(srv.url('/data.txt'), { headers: { 'if-none-match': '"other"' } })).status, 200);
  const part = await request(srv.url('/data.txt'), { headers: { range: 'bytes=2-5' } });
  assert.equal(part.status, 206);
  assert.equal(part.body, '2345');
  assert.equal(part.headers['content-range'], 'bytes 2-5/10');
  const tail = await request(srv.url('/data.txt'), { headers: { range: 'bytes=-3' } });
  assert.equal(tail.body, '789');
  const bad = await request(srv.url('/data.txt'), { headers: { range: 'bytes=50-' } });
  assert.equal(bad.status, 416);
  assert.equal(bad.headers['content-range'], 'bytes */10');
  const stale = await request(srv.url('/data.txt'), { headers: { range: 'bytes=0-1', 'if-range': '"stale"' } });
  assert.equal(stale.status, 200, 'a stale If-Range gets the whole file');
});

test('file_server: precompressed sidecars', async (t) => {
  const root = site();
  const srv = await serve(t, [{ handle: [{ handler: 'file_server', root, precompressed: { gzip: {} }, precompressed_order: ['gzip'] }] }]);
  const gz = await request(srv.url('/app.js'), { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.equal(gz.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.equal(zlib.gunzipSync(gz.raw).toString(), 'console.log(1)');
  const plain = await request(srv.url('/app.js'));
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.equal(plain.body, 'console.log(1)');
});
