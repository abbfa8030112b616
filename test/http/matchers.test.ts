import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanPath, globToRegExp } from '../../src/http/matchers/path.ts';
import { inRanges, parseRanges } from '../../src/http/ip.ts';
import type { MatcherSet } from '../../src/http/handler.ts';
import { request, respond, serve } from './helpers.ts';

test('cleanPath and globs follow Go path rules', () => {
  assert.equal(cleanPath('/a//b/../c/'), '/a/c/');
  assert.equal(cleanPath('/../x'), '/x');
  assert.equal(cleanPath('/a//b', false), '/a//b');
  assert.ok(globToRegExp('/a/*/b').test('/a/x/b'));
  assert.ok(!globToRegExp('/a/*/b').test('/a/x/y/b'));
  assert.ok(globToRegExp('/f?o/[a-c]').test('/foo/b'));
});

test('ip ranges', () => {
  const r = parseRanges(['10.0.0.0/8', '::1', 'private_ranges']);
  assert.ok(inRanges('10.1.2.3', r));
  assert.ok(inRanges('::ffff:10.1.2.3', r));
  assert.ok(inRanges('::1', r));
  assert.ok(inRanges('192.168.1.1', r));
  assert.ok(!inRanges('8.8.8.8', r));
  assert.ok(!inRanges('2001:db8::1', r));
});

/** One server whose routes answer with the name of the first matching case. */
async function matching(t: import('node:test').TestContext, cases: [string, MatcherSet][]) {
  const srv = await serve(t, [
    ...cases.map(([name, set]) => ({ match: [set], handle: [respond(name)], terminal: true })),
    { handle: [respond('none')] },
  ]);
  return (path: string, headers: Record<string, string> = {}, method = 'GET') => request(srv.url(path), { headers, method }).then((r) => r.body);
}

test('path matcher: exact, prefix, suffix, substring, glob, case-insensitive, cleaned', async (t) => {
  const m = await matching(t, [
    ['exact', { path: ['/exact'] }],
    ['prefix', { path: ['/pre*'] }],
    ['dir', { path: ['/dir/*'] }],
    ['suffix', { path: ['*.php'] }],
    ['substr', { path: ['*/mid/*'] }],
    ['glob', { path: ['/g/*/end'] }],
    ['escaped', { path: ['/a%2Fb'] }],
  ]);
  assert.equal(await m('/exact'), 'exact');
  assert.equal(await m('/EXACT'), 'exact');
  assert.equal(await m('/exact/'), 'none');
  assert.equal(await m('/prefix/x'), 'prefix');
  assert.equal(await m('/pre'), 'prefix');
  assert.equal(await m('/dir'), 'none', '/dir/* does not match /dir');
  assert.equal(await m('/dir/x'), 'dir');
  assert.equal(await m('/x/index.PHP'), 'suffix');
  assert.equal(await m('/a/mid/b'), 'substr');
  assert.equal(await m('/g/one/end'), 'glob');
  assert.equal(await m('/g/one/two/end'), 'none');
  assert.equal(await m('//exact'), 'exact', 'double slashes are merged');
  assert.equal(await m('/a%2Fb'), 'escaped');
});

test('host, method, header, query, protocol, remote_ip, not, expression, path_regexp', async (t) => {
  const m = await matching(t, [
    ['host', { host: ['*.example.com'], path: ['/h'] }],
    ['method', { method: ['POST', 'PUT'], path: ['/m'] }],
    ['header', { header: { 'X-Api': ['v1*'] }, path: ['/hd'] }],
    ['absent', { header: { 'X-Api': null }, path: ['/hd'] }],
    ['query', { query: { debug: ['*'] }, path: ['/q'] }],
    ['proto', { protocol: 'http', path: ['/p'] }],
    ['local', { remote_ip: { ranges: ['127.0.0.0/8'] }, path: ['/ip'] }],
    ['not', { not: [{ path: ['/n/keep*'] }], path: ['/n/*'] }],
    ['expr', { expression: "{http.request.method} == 'DELETE' && {http.request.uri.query.n} > 5" }],
    ['re', { path_regexp: { name: 'ver', pattern: '^/re/(?P<v>\\d+)$' } }],
    ['hre', { header_regexp: { 'X-Id': { name: 'id', pattern: '^u-(\\d+)$' } } }],
  ]);
  assert.equal(await m('/h', { host: 'api.example.com' }), 'host');
  assert.equal(await m('/h', { host: 'a.b.example.com' }), 'none');
  assert.equal(await m('/m', {}, 'PUT'), 'method');
  assert.equal(await m('/m'), 'none');
  assert.equal(await m('/hd', { 'x-api': 'v1.2' }), 'header');
  assert.equal(await m('/hd'), 'absent');
  assert.equal(await m('/q?debug'), 'query');
  assert.equal(await m('/q?x=1'), 'none');
  assert.equal(await m('/p'), 'proto');
  assert.equal(await m('/ip'), 'local');
  assert.equal(await m('/n/other'), 'not');
  assert.equal(await m('/n/keep'), 'none');
  assert.equal(await m('/e?n=6', {}, 'DELETE'), 'expr');
  assert.equal(await m('/e?n=4', {}, 'DELETE'), 'none');
  assert.equal(await m('/re/42'), 're');
  assert.equal(await m('/x', { 'x-id': 'u-7' }), 'hre');
});

test('regexp captures become placeholders', async (t) => {
  const srv = await serve(t, [
    { match: [{ path_regexp: { name: 'ver', pattern: '^/v(?P<major>\\d+)/(.*)$' } }], handle: [respond('{http.regexp.ver.major} {http.regexp.ver.2} {http.regexp.1}')] },
  ]);
  assert.equal((await request(srv.url('/v3/items'))).body, '3 items 3');
});

test('file matcher (try_files): first_exist, fallback, split_path, =404, placeholders', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'qs-try-'));
  writeFileSync(join(root, 'index.php'), '<?php');
  writeFileSync(join(root, 'a.txt'), 'a');
  mkdirSync(join(root, 'sub'));
  const echo = respond('{http.matchers.file.relative}|{http.matchers.file.remainder}|{http.matchers.file.type}');
  const srv = await serve(t, [
    { handle: [{ handler: 'vars', root }] },
    { match: [{ path: ['/php/*'], file: { try_files: ['{http.request.uri.path}', 'index.php'], try_policy: 'first_exist_fallback', split_path: ['.php'] } }], handle: [echo], terminal: true },
    { match: [{ path: ['/deny'], file: { try_files: ['/missing', '=403'] } }], handle: [respond('unreachable')], terminal: true },
    { match: [{ file: { try_files: ['{http.request.uri.path}', '{http.request.uri.path}/'] } }], handle: [echo], terminal: true },
    { handle: [respond('none')] },
  ]);
  assert.equal((await request(srv.url('/a.txt'))).body, '/a.txt||file');
  assert.equal((await request(srv.url('/sub'))).body, '/sub/||directory');
  assert.equal((await request(srv.url('/nope'))).body, 'none');
  assert.equal((await request(srv.url('/php/x/index.php/extra'))).body, '/index.php||file', 'falls back to the last entry');
  assert.equal((await request(srv.url('/deny'))).status, 403);
});
