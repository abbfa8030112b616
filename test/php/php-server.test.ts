/**
 * php_server / php with the managed php-fpm (Debian's php-fpm): FrankenPHP's
 * image Caddyfile loads unchanged and serves the app (PHP, static files,
 * PATH_INFO, the index.php fallback, the canonical redirect, php_ini and the
 * environment, the worker warning); the master is kept across a reload with
 * unchanged settings, replaced when they change, stopped at shutdown;
 * killed under load it is restarted and the requests it held get 502, not a
 * hang; a missing php-fpm is one clear error naming the package.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { UsagePool } from '../../src/host/usage-pool.ts';
import { WORKER_WARNING } from '../../directives/php.ts';
import { phpFpmSkipReason } from '../helpers/php-fpm-server.ts';
import { APP, runCaddyfile, send } from './helpers.ts';
import { SseClient } from '../helpers/sse.ts';

const skip = phpFpmSkipReason();
const IMAGE = readFileSync(fileURLToPath(new URL('../fixtures/adapt/frankenphp-image.caddyfiletest', import.meta.url)), 'utf8').split('\n----------\n')[0]!;

/** php-fpm masters that are our children (pid list). */
function fpmMasters(): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
      if (m && m[1]!.startsWith('php-fpm') && Number(m[2]) === process.pid) out.push(Number(d));
    } catch { /* gone */ }
  }
  return out;
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

const simple = (extra = '') => `{\n\tfrankenphp {\n\t\tnum_threads 2\n${extra}\t}\n}\n:80 {\n\troot * ${APP}\n\tphp_server\n}\n`;

test('FrankenPHP image Caddyfile, unchanged: php_server serves the app from a managed php-fpm', { skip }, async (t) => {
  process.env.QS_PHP_TEST_ENV = 'from-the-server-environment';
  const run = await runCaddyfile(t, IMAGE, {
    SERVER_NAME: ':80',
    SERVER_ROOT: APP,
    FRANKENPHP_CONFIG: 'num_threads 2\nmax_threads 3\nphp_ini memory_limit 96M\nworker ./index.php 2',
  });
  assert.ok(run.warnings.includes(WORKER_WARNING), `the worker line gets the warning; got ${run.warnings.join(' | ')}`);
  const root = realpathSync(APP);
  const home = JSON.parse((await send(run.url('/?x=1'))).body);
  assert.equal(home.SCRIPT_NAME, '/index.php');
  assert.equal(home.SCRIPT_FILENAME, join(root, 'index.php'));
  assert.equal(home.DOCUMENT_ROOT, root, 'resolve_root_symlink is on by default, as in FrankenPHP');
  assert.equal(home.REQUEST_URI, '/?x=1');
  assert.equal((await send(run.url('/hello.txt'))).body, 'static text\n');
  const info = JSON.parse((await send(run.url('/index.php/foo/bar'))).body);
  assert.equal(info.PATH_INFO, '/foo/bar');
  assert.equal(info.PHP_SELF, '/index.php/foo/bar');
  const fallback = JSON.parse((await send(run.url('/no/such/page'))).body);
  assert.equal(fallback.SCRIPT_NAME, '/index.php');
  const dir = await send(run.url('/dir?q=1'));
  assert.equal(dir.status, 308);
  assert.equal(dir.headers.location, '/dir/', 'php_server drops the query in its redirect (FrankenPHP)');
  assert.equal((await send(run.url('/dir/'))).body, 'dir index\n');
  const ini = JSON.parse((await send(run.url('/ini.php'))).body);
  assert.equal(ini.memory_limit, '96M');
  assert.equal(ini.env, 'from-the-server-environment');
  assert.equal(ini.has_mercure_publish, true);
  // The body of a response that may be compressed (encode zstd br gzip) still arrives whole.
  const gz = await send(run.url('/hello.txt'), { headers: { 'Accept-Encoding': 'gzip' } });
  assert.equal(gz.status, 200);
});

test('managed php-fpm: kept across a reload with the same settings, replaced when they change, stopped at shutdown', { skip }, async (t) => {
  const pool = new UsagePool();
  const before = new Set(fpmMasters());
  const a = await runCaddyfile(t, simple(), {}, pool);
  assert.equal((await send(a.url('/dir/'))).body, 'dir index\n');
  const [master] = fpmMasters().filter((p) => !before.has(p));
  assert.ok(master, 'a php-fpm master runs as our child');
  // Reload: the new config provisions before the old one is cleaned up, as the runtime does.
  const b = await runCaddyfile(t, simple(), {}, pool);
  await a.stop();
  assert.ok(alive(master), 'the same master survives the reload');
  assert.deepEqual(fpmMasters().filter((p) => !before.has(p)), [master]);
  assert.equal((await send(b.url('/dir/'))).body, 'dir index\n');
  // Changed settings: a new master; the old one is stopped.
  const c = await runCaddyfile(t, simple('\t\tphp_ini memory_limit 80M\n'), {}, pool);
  await b.stop();
  const now = fpmMasters().filter((p) => !before.has(p));
  assert.equal(now.length, 1);
  assert.notEqual(now[0], master);
  assert.equal(alive(master), false, 'the old master was stopped');
  assert.equal(JSON.parse((await send(c.url('/ini.php'))).body).memory_limit, '80M');
  await c.stop();
  assert.equal(alive(now[0]!), false, 'shutdown stops the master');
});

test('managed php-fpm killed under load: restarted, the requests it held get 502, not a hang', { skip }, async (t) => {
  const run = await runCaddyfile(t, simple());
  const first = await send(run.url('/dir/'));
  assert.equal(first.body, 'dir index\n', `status ${first.status}; ${JSON.stringify(run.logs.filter((l) => (l.level as number) >= 40))}`);
  const [master] = fpmMasters();
  assert.ok(master);
  const marks = mkdtempSync(join(tmpdir(), 'qs-php-marks-'));
  t.after(() => rmSync(marks, { recursive: true, force: true }));
  const watcher = watch(marks);
  t.after(() => watcher.close());
  const n = 4;
  const inFlight = Array.from({ length: n }, (_, i) => send(run.url(`/hold.php?ms=30000&mark=${encodeURIComponent(join(marks, String(i)))}`)));
  // Wait until PHP runs every one of them (each touches its mark file).
  while (readdirSync(marks).length < n) await once(watcher, 'change');
  process.kill(-master, 'SIGKILL');
  const replies = await Promise.all(inFlight);
  assert.deepEqual(replies.map((r) => r.status), Array(n).fill(502));
  // The supervisor restarts php-fpm; then PHP answers again.
  await run.waitLog((l) => l.msg === 'php-fpm restarted');
  assert.equal((await send(run.url('/dir/'))).body, 'dir index\n');
  const [next] = fpmMasters();
  assert.ok(next && next !== master, 'a new master runs');
  assert.ok(run.logs.some((l) => l.msg === 'php-fpm master died; restarting it'));
});

test('a missing php-fpm is one clear error naming the Debian package', { skip: false }, async (t) => {
  const saved = process.env.QS_PHP_FPM;
  process.env.QS_PHP_FPM = '/nonexistent/sbin/php-fpm';
  t.after(() => { if (saved === undefined) delete process.env.QS_PHP_FPM; else process.env.QS_PHP_FPM = saved; });
  await assert.rejects(runCaddyfile(t, simple()), (err: Error) => {
    assert.match(err.message, /php-fpm not found/);
    assert.match(err.message, /install the Debian package php-fpm \(apt-get install php-fpm\)/);
    return true;
  });
  assert.equal(existsSync('/nonexistent'), false);
});

test('mercure_publish() without a hub throws "No Mercure hub configured"; a php_ini auto_prepend_file still runs', { skip }, async (t) => {
  const pub = fileURLToPath(new URL('../fixtures/php/mercure-app/public', import.meta.url));
  const userPrepend = join(mkdtempSync(join(tmpdir(), 'qs-php-prepend-')), 'user.php');
  writeFileSync(userPrepend, "<?php $_SERVER['MY_VAR'] = 'set by the user prepend';\n");
  t.after(() => rmSync(dirname(userPrepend), { recursive: true, force: true }));
  const run = await runCaddyfile(t, `{\n\tfrankenphp {\n\t\tphp_ini auto_prepend_file ${userPrepend}\n\t}\n}\n:80 {\n\troot * ${pub}\n\tphp_server\n}\n`);
  const r = await send(run.url('/publish.php'), { method: 'POST', body: 'message=hi', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  assert.equal(r.status, 500);
  assert.deepEqual(JSON.parse(r.body), { error: 'mercure_publish: No Mercure hub configured' });
  // The user's prepend file ran too (ini.php of the other app reports MY_VAR; here a one-liner checks it).
  const run2 = await runCaddyfile(t, `{\n\tfrankenphp {\n\t\tphp_ini auto_prepend_file ${userPrepend}\n\t}\n}\n:80 {\n\troot * ${APP}\n\tphp_server\n}\n`, {}, run.pool);
  const ini = JSON.parse((await send(run2.url('/ini.php'))).body);
  assert.equal(ini.server_env, 'set by the user prepend');
  assert.equal(ini.has_mercure_publish, true);
});

test('beside the PHP front a hub may omit the publisher key, as in FrankenPHP: mercure_publish() publishes, POST answers 405; without PHP the reference error stays', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qs-php-nopub-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'pub.php'), "<?php echo mercure_publish('https://example.com/no-key', 'published without a publisher key');\n");
  const key = 'a-subscriber-key-that-is-long-enough-for-hs256';
  const run = await runCaddyfile(t, `:80 {\n\troot * ${dir}\n\tmercure {\n\t\tsubscriber_jwt ${key}\n\t\tanonymous\n\t}\n\tphp_server\n}\n`);
  const sub = await SseClient.open(run.url(`/.well-known/mercure?topic=${encodeURIComponent('https://example.com/no-key')}`));
  t.after(() => sub.close());
  const r = await send(run.url('/pub.php'));
  assert.equal(r.status, 200, r.body);
  assert.match(r.body, /^urn:uuid:/);
  await sub.count(1);
  assert.deepEqual(sub.events.map((e) => [e.id, e.data]), [[r.body, 'published without a publisher key']]);
  const post = await send(run.url('/.well-known/mercure'), { method: 'POST', body: 'topic=x&data=y', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  assert.equal(post.status, 405);
  await assert.rejects(runCaddyfile(t, `:80 {\n\tmercure {\n\t\tsubscriber_jwt ${key}\n\t\tanonymous\n\t}\n\trespond "no PHP here"\n}\n`), /publishers must be provided/);
});

test('php [<matcher>]: every matching request goes to PHP, the rest to file_server', { skip }, async (t) => {
  const run = await runCaddyfile(t, `:80 {\n\troot * ${APP}\n\t@php path *.php *.php/*\n\tphp @php {\n\t\tenv MY_VAR from-php-directive\n\t\tresolve_root_symlink false\n\t}\n\tfile_server\n}\n`);
  const v = JSON.parse((await send(run.url('/index.php/a/b?z=1'))).body);
  assert.equal(v.SCRIPT_NAME, '/index.php');
  assert.equal(v.PATH_INFO, '/a/b');
  assert.equal(v.DOCUMENT_ROOT, APP);
  assert.equal(v.MY_VAR, 'from-php-directive');
  assert.equal((await send(run.url('/hello.txt'))).body, 'static text\n');
  // php checks no file: a missing script is php-fpm's own 404.
  const missing = await send(run.url('/missing.php'));
  assert.equal(missing.status, 404);
  assert.match(missing.body, /File not found/);
});
