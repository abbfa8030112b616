/**
 * CLI habits from Caddy (issue 18, point 5): --help on every command,
 * list-modules flags, hash-password, environ, start, Caddy's exits for
 * unknown commands and bad flags, jwt --key with PEM values and @file,
 * no stack trace on bad input (EPIPE included), stop naming the address.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argon2, generateKeyPairSync } from 'node:crypto';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { importSPKI, jwtVerify } from 'jose';
import { commands } from '../../src/cli/commands.ts';
import { freePort } from '../helpers/hub-process.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const NODE_ARGS = ['--disable-warning=ExperimentalWarning', MAIN];

async function cli(args: string[], opts: { cwd?: string; env?: Record<string, string>; input?: string } = {}) {
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], { cwd: opts.cwd ?? tmpdir(), env: { ...process.env, ...opts.env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => { stdout += c; });
  child.stderr.on('data', (c) => { stderr += c; });
  child.stdin.end(opts.input ?? '');
  const [code] = await once(child, 'close') as [number];
  return { code, stdout, stderr };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'qs-habits-'));
const NO_STACK = /\n\s+at .*:\d+:\d+/;

test('--help and help <command> on every command', async () => {
  const names = Object.keys(commands);
  assert.ok(names.length >= 12, names.join(' '));
  const root = await cli(['--help']);
  assert.equal(root.code, 0);
  for (const n of names) assert.match(root.stdout, new RegExp(`\\n  ${n} +\\S`), `${n} missing from --help`);
  for (const n of names) {
    const [a, b] = await Promise.all([cli([n, '--help']), cli(['help', n])]);
    assert.equal(a.code, 0, `${n} --help: ${a.stderr}`);
    assert.match(a.stdout, new RegExp(`Usage:\\n  quicksilver ${n}`), n);
    assert.match(a.stdout, /-h, --help/);
    assert.equal(b.stdout, a.stdout, `help ${n}`);
  }
  const none = await cli([]);
  assert.equal(none.code, 0);
  assert.equal(none.stdout, root.stdout);
});

test('unknown commands and bad flags exit 1 with Caddy\'s words', async () => {
  const u = await cli(['nope']);
  assert.equal(u.code, 1);
  assert.equal(u.stderr, 'Error: unknown command "nope" for "quicksilver"\nRun \'quicksilver --help\' for usage.\n');
  const f = await cli(['adapt', '--bogus']);
  assert.deepEqual([f.code, f.stderr], [1, 'Error: unknown flag: --bogus\n']);
  const s = await cli(['adapt', '-z']);
  assert.deepEqual([s.code, s.stderr], [1, 'Error: unknown shorthand flag: \'z\' in -z\n']);
  const m = await cli(['adapt', '--config']);
  assert.deepEqual([m.code, m.stderr], [1, 'Error: flag needs an argument: --config\n']);
  const h = await cli(['help', 'nope']);
  assert.equal(h.code, 1);
});

test('list-modules --versions --skip-standard, and --packages', async () => {
  const all = await cli(['list-modules']);
  assert.equal(all.code, 0);
  assert.match(all.stdout, /^apps\.http$/m);
  assert.match(all.stdout, /^ {2}Standard modules: \d+$/m);
  assert.match(all.stdout, /^ {2}Non-standard modules: \d+$/m);
  const skip = await cli(['list-modules', '--versions', '--skip-standard']);
  assert.equal(skip.code, 0, skip.stderr);
  assert.doesNotMatch(skip.stdout, /apps\.http|Standard modules/);
  assert.match(skip.stdout, /^http\.handlers\.mercure v\d+\.\d+\.\d+$/m);
  assert.match(skip.stdout, /^mercure\.transports\.bolt v\d+\.\d+\.\d+$/m);
  const pkgs = await cli(['list-modules', '--packages', '-s']);
  assert.match(pkgs.stdout, /^http\.handlers\.mercure github\.com\/dunglas\/mercure\/caddy/m);
});

test('hash-password: bcrypt from --plaintext or standard input, argon2id in Caddy\'s format', async () => {
  const a = await cli(['hash-password', '--plaintext', 'hunter2', '--bcrypt-cost', '4']);
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /^\$2[ab]\$04\$.{53}\n$/);
  assert.ok(bcrypt.compareSync('hunter2', a.stdout.trim()));
  const b = await cli(['hash-password', '--bcrypt-cost', '4'], { input: 'from stdin\nignored\n' });
  assert.ok(bcrypt.compareSync('from stdin', b.stdout.trim()), b.stderr);
  const c = await cli(['hash-password', '-a', 'argon2id', '-p', 'pw']);
  const m = /^\$argon2id\$v=19\$m=47104,t=1,p=1\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)\n$/.exec(c.stdout);
  assert.ok(m, c.stdout + c.stderr);
  const key = await new Promise<Buffer>((resolve, reject) => argon2('argon2id', {
    message: 'pw', nonce: Buffer.from(m[1]!, 'base64'), parallelism: 1, tagLength: 32, memory: 47104, passes: 1,
  }, (e, k) => (e ? reject(e) : resolve(k))));
  assert.equal(key.toString('base64').replace(/=+$/, ''), m[2]);
  const bad = await cli(['hash-password', '-a', 'md5', '-p', 'x']);
  assert.deepEqual([bad.code, bad.stderr], [1, 'Error: unrecognized hash algorithm: md5\n']);
  const empty = await cli(['hash-password'], { input: '\n' });
  assert.deepEqual([empty.code, empty.stderr], [1, 'Error: plaintext is required\n']);
});

test('environ prints the paths, a blank line, then the environment (with --envfile)', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'vars.env'), 'QS_FROM_ENVFILE=yes\n');
  const r = await cli(['environ', '--envfile', 'vars.env'], { cwd: dir, env: { QS_ENVIRON_TEST: 'here', XDG_DATA_HOME: join(dir, 'data') } });
  assert.equal(r.code, 0, r.stderr);
  const [head, env] = r.stdout.split('\n\n');
  assert.match(head!, /^quicksilver\.Version=v\d+\.\d+\.\d+$/m);
  assert.match(head!, new RegExp(`^quicksilver\\.AppDataDir=${join(dir, 'data', 'quicksilver')}$`, 'm'));
  assert.match(head!, new RegExp(`^os\\.Getwd=${dir}$`, 'm'));
  assert.match(env!, /^QS_ENVIRON_TEST=here$/m);
  assert.match(env!, /^QS_FROM_ENVFILE=yes$/m);
});

/**
 * `start`: the server it leaves running keeps the inherited stdout/stderr open
 * (as Caddy's does), so wait for the exit and for `expect` on the output, not for the pipes to close.
 */
async function startCli(dir: string, expect: RegExp, extra = ['--pidfile', 'qs.pid']) {
  const child = spawn(process.execPath, [...NODE_ARGS, 'start', ...extra], { cwd: dir, env: { ...process.env, XDG_DATA_HOME: join(dir, 'data') } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => { stdout += c; });
  child.stderr.on('data', (c) => { stderr += c; });
  const [code] = await once(child, 'exit') as [number];
  // A started server keeps the pipes open (it inherits them), so wait for the expected words, not for the end;
  // a start that failed otherwise ends them: stop waiting then, or after 30 s, and let the assertions tell.
  const stop = Promise.race([
    Promise.all([once(child.stdout, 'end'), once(child.stderr, 'end')]),
    new Promise((r) => setTimeout(r, 30_000).unref()),
  ]).then(() => 'stop');
  while (!expect.test(stdout + stderr)) {
    if (await Promise.race([once(child.stdout, 'data'), once(child.stderr, 'data'), stop]) === 'stop') break;
  }
  child.stdout.destroy();
  child.stderr.destroy();
  return { code, stdout, stderr };
}

test('start returns once the server serves; stop stops it; a failing start exits 1', async (t) => {
  const dir = tmp();
  // A free port can be taken by another test's connection before the server binds it: try fresh ports then.
  let port = 0, admin = 0, r: Awaited<ReturnType<typeof startCli>>;
  for (let attempt = 0; ; attempt++) {
    [port, admin] = [await freePort(), await freePort()];
    writeFileSync(join(dir, 'Caddyfile'), `{\n\tadmin localhost:${admin}\n}\n:${port} {\n\trespond "started"\n}\n`);
    r = await startCli(dir, /Successfully started/);
    if (r.code === 0 || attempt === 2 || !/address already in use/i.test(r.stderr)) break;
  }
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const m = /^Successfully started Quicksilver \(pid=(\d+)\) - Quicksilver is running in the background\n$/.exec(r.stdout);
  assert.ok(m, r.stdout);
  const pid = Number(m[1]);
  t.after(() => { try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ } });
  assert.equal(readFileSync(join(dir, 'qs.pid'), 'utf8'), `${pid}\n`);
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'started');
  const s = await cli(['stop', '--address', `localhost:${admin}`]);
  assert.equal(s.code, 0, s.stderr);
  // The server was started by another process: poll (bounded) until it is gone.
  let alive = true;
  for (let i = 0; i < 200 && alive; i++) {
    try { process.kill(pid, 0); await new Promise((res) => setTimeout(res, 25)); } catch { alive = false; }
  }
  assert.equal(alive, false, 'the started server did not stop');

  writeFileSync(join(dir, 'Caddyfile'), ':8080 {\n\trespnd "x"\n}\n');
  const f = await startCli(dir, /exited with error/, []);
  assert.equal(f.code, 1);
  assert.match(f.stderr, /unrecognized directive: respnd/);
  assert.match(f.stderr, /Error: quicksilver process exited with error: exit status 1/);
});

test('jwt --key takes a PEM value (leading dashes) or @file', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const dir = tmp();
  writeFileSync(join(dir, 'key.pem'), pem);
  const pub = await importSPKI(publicKey.export({ type: 'spki', format: 'pem' }) as string, 'ES256');
  for (const key of [pem, '@key.pem']) {
    const r = await cli(['jwt', '--alg', 'ES256', '--key', key, '--publish', 'https://example.com/{id}'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const { payload } = await jwtVerify(r.stdout.trim(), pub);
    assert.deepEqual(payload.mercure, { publish: ['https://example.com/{id}'] });
  }
  const missing = await cli(['jwt', '--key', '@nope.pem'], { cwd: dir });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^Error: reading --key file nope\.pem: /);
});

test('no stack trace on bad input', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'Caddyfile'), ':8080 {\n\trespond "x"\n}\n');
  const free = await freePort();
  const cases: string[][] = [
    ['fmt', 'nope.caddyfile'], ['adapt', '--config', 'nope'], ['adapt', '--adapter', 'yaml', '--config', 'Caddyfile'],
    ['jwt', '--payload', '{'], ['jwt', '--ttl', 'soon'], ['jwt', '--alg', 'RS256', '--key', 'not a pem'],
    ['hash-password', '--bcrypt-cost', 'many', '-p', 'x'], ['reload', '--address', `127.0.0.1:${free}`],
    ['environ', '--envfile', 'nope.env'], ['validate', '--config', 'Caddyfile', '--adapter', 'json'],
  ];
  for (const args of cases) {
    const r = await cli(args, { cwd: dir });
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^Error: \S/, args.join(' '));
    assert.doesNotMatch(r.stderr, NO_STACK, args.join(' '));
  }
  const runBad = await cli(['run', '--envfile', 'nope.env'], { cwd: dir });
  assert.equal(runBad.code, 1);
  assert.equal(JSON.parse(runBad.stderr.trim().split('\n').at(-1)!).level, 'error');
  assert.doesNotMatch(runBad.stderr, NO_STACK);
});

test('fmt --diff into a reader that stops early (| head) does not crash on EPIPE', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'Caddyfile'), 'a{\nrespond "x"\n}\n'.repeat(8000));
  const child = spawn(process.execPath, [...NODE_ARGS, 'fmt', '--diff'], { cwd: dir });
  let stderr = '';
  child.stderr.on('data', (c) => { stderr += c; });
  await once(child.stdout, 'data');
  child.stdout.destroy(); // what `head` does after its lines
  const [code] = await once(child, 'close') as [number];
  assert.ok(code === 0 || code === 1, `exit ${code}: ${stderr}`);
  assert.doesNotMatch(stderr, /EPIPE/);
  assert.doesNotMatch(stderr, NO_STACK);
});

test('stop names the address and the reason when nothing answers', async () => {
  const port = await freePort();
  const r = await cli(['stop', '--address', `127.0.0.1:${port}`]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `Error: performing request: POST http://127.0.0.1:${port}/stop: connection refused: nothing answers at 127.0.0.1:${port}; `
    + 'is quicksilver running with its admin endpoint there? (--address, or the config\'s admin option)\n');
});

test('run --watch reloads the file when it changes', async (t) => {
  const dir = tmp();
  const port = await freePort();
  const file = join(dir, 'Caddyfile');
  const site = (body: string) => `{\n\tadmin off\n}\n:${port} {\n\trespond "${body}"\n}\n`;
  writeFileSync(file, site('one'));
  const child = spawn(process.execPath, [...NODE_ARGS, 'run', '--watch'], { cwd: dir, env: { ...process.env, XDG_DATA_HOME: join(dir, 'data') } });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  const until = async (re: RegExp) => { while (!re.test(stderr)) await once(child.stderr, 'data'); };
  child.stderr.on('data', (c) => { stderr += c; });
  await until(/"msg":"config loaded"/);
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'one');
  writeFileSync(file, site('two!'));
  await until(/"msg":"config reloaded"/);
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'two!');
  child.kill('SIGTERM');
  await once(child, 'close');
});
