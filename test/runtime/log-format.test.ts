/**
 * One log format (issue 18, point 3): every line a `run` writes on stderr is
 * Caddy's JSON (level word, ts in seconds, logger, msg): the adapter's
 * warnings, the start banner and the development-key warning, the modules'
 * logs, the access log (`http.log.access.log0`), subscriber connect and
 * disconnect at info (the reference hub's level), the shutdown, and the final
 * error of a run that fails. On a terminal, Caddy's console format.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { consoleLine, defaultFormat } from '../../src/host/log.ts';
import { freePort, startHub, type HubProcess } from '../helpers/hub-process.ts';
import { SseClient } from '../helpers/sse.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const DEV_KEY = '!ChangeThisMercureHubJWTSecretKey!';
const LEVELS = new Set(['debug', 'info', 'warn', 'error', 'fatal']);

/** Resolves once the hub's stderr contains a line matching `re`. */
async function waitForLine(hub: HubProcess, re: RegExp): Promise<void> {
  while (!re.test(hub.stderr())) await once(hub.child.stderr!, 'data');
}

function parseAll(text: string, started: number): Record<string, unknown>[] {
  const lines = text.split('\n').filter((l) => l !== '');
  return lines.map((line) => {
    let o: Record<string, unknown>;
    try { o = JSON.parse(line) as Record<string, unknown>; } catch { assert.fail(`not a JSON line: ${line}`); }
    assert.ok(LEVELS.has(o.level as string), `level is not a word: ${line}`);
    assert.equal(typeof o.ts, 'number', line);
    assert.ok((o.ts as number) > started / 1000 - 5 && (o.ts as number) < Date.now() / 1000 + 5, `ts is not in seconds: ${line}`);
    assert.equal(typeof o.msg, 'string', line);
    if ('logger' in o) assert.equal(typeof o.logger, 'string', line);
    return o;
  });
}

test('a whole run writes only Caddy-shaped JSON lines on stderr', async (t) => {
  const started = Date.now();
  const port = await freePort();
  // Not formatted (two spaces of indentation): the adapter warns, and the warning is a log entry too.
  const caddyfile = `{\n\tadmin off\n}\n:${port} {\n  log\n\tmercure {\n\t\tpublisher_jwt ${DEV_KEY}\n\t\tanonymous\n\t}\n\trespond 404\n}\n`;
  const hub = await startHub(caddyfile, { env: { QS_LOG_LEVEL: 'info', QS_LOG_FORMAT: '' } });
  t.after(() => hub.kill());
  const url = `http://127.0.0.1:${port}/.well-known/mercure`;
  const sub = await SseClient.open(`${url}?topic=${encodeURIComponent('https://example.com/a')}`);
  await waitForLine(hub, /"msg":"New subscriber"/);
  sub.close();
  await waitForLine(hub, /"msg":"Subscriber disconnected"/);
  assert.equal((await fetch(`http://127.0.0.1:${port}/nothing`)).status, 404);
  await waitForLine(hub, /"uri":"\/nothing"/);
  assert.equal(await hub.stop(), 0);

  const entries = parseAll(hub.stderr(), started);
  const find = (msg: string | RegExp) => entries.find((e) => (typeof msg === 'string' ? e.msg === msg : msg.test(e.msg as string)));
  const warning = find(/not formatted/);
  assert.equal(warning?.level, 'warn');
  assert.equal(warning?.adapter, 'caddyfile');
  assert.equal(warning?.line, 5);
  assert.deepEqual([find(/^Mercure hub: /)?.level, find(/^Mercure hub: /)?.url], ['info', `http://localhost:${port}/.well-known/mercure`]);
  const dev = find(/PUBLIC development key/);
  assert.equal(dev?.level, 'warn');
  assert.equal(dev?.logger, 'http.handlers.mercure');
  assert.equal(find('server running')?.logger, 'http');
  assert.equal(find('New subscriber')?.level, 'info');
  assert.equal(find('New subscriber')?.logger, 'http.handlers.mercure');
  assert.equal(find('Subscriber disconnected')?.level, 'info');
  const access = entries.filter((e) => e.logger === 'http.log.access.log0');
  assert.ok(access.some((e) => e.msg === 'handled request' && e.status === 404 && (e.request as { uri: string }).uri === '/nothing'), JSON.stringify(access));
  assert.ok(find('shutting down'));
});

test('an error field is logged as its message under `error`, as Caddy does', async () => {
  const { Writable } = await import('node:stream');
  const pino = (await import('pino')).default;
  const { caddyLogOptions } = await import('../../src/host/log.ts');
  let out = '';
  const log = pino(caddyLogOptions('info'), new Writable({ write(c, _e, cb) { out += c; cb(); } }));
  log.error({ err: new Error('backend down'), logger: 'x' }, 'transport failed');
  const e = JSON.parse(out) as Record<string, unknown>;
  assert.deepEqual([e.level, e.logger, e.msg, e.error, 'err' in e], ['error', 'x', 'transport failed', 'backend down', false]);
});

test('Node warnings and libraries\' console.error/warn become log entries', async () => {
  const script = `
    import { processLogger, captureStderr } from ${JSON.stringify(join(import.meta.dirname, '..', '..', 'src', 'host', 'log.ts'))};
    captureStderr(processLogger('info', 'json'));
    process.emitWarning('something is deprecated', 'DeprecationWarning', 'DEP0999');
    console.error('[ioredis] Unhandled error event:', 'ECONNREFUSED');
    console.warn('careful %d', 3);
  `;
  const r = await promisify(execFile)(process.execPath, ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script]);
  const entries = parseAll(r.stderr, Date.now() - 60_000);
  // Node emits warnings on a later tick: compare without order.
  assert.deepEqual(entries.map((e) => [e.level, e.logger, e.msg, e.code ?? '']).sort(), [
    ['error', 'console', '[ioredis] Unhandled error event: ECONNREFUSED', ''],
    ['warn', 'console', 'careful 3', ''],
    ['warn', 'node', 'something is deprecated', 'DEP0999'],
  ]);
});

test('a run that fails ends with an error log entry, not a stack trace', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qs-log-'));
  writeFileSync(join(dir, 'Caddyfile'), ':8080 {\n\trespnd "hi"\n}\n');
  const r = await promisify(execFile)(process.execPath, ['--disable-warning=ExperimentalWarning', MAIN, 'run'], { cwd: dir, env: { ...process.env, QS_LOG_FORMAT: '' } })
    .then(() => assert.fail('run succeeded'), (e: { code: number; stderr: string }) => e);
  assert.equal(r.code, 1);
  const entries = parseAll(r.stderr, Date.now() - 60_000);
  const last = entries.at(-1)!;
  assert.equal(last.level, 'error');
  assert.match(last.msg as string, /Caddyfile:2:2: unrecognized directive: respnd/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('Caddy\'s console format on a terminal, JSON elsewhere', async () => {
  assert.equal(defaultFormat(true, {}), 'console');
  assert.equal(defaultFormat(false, {}), 'json');
  assert.equal(defaultFormat(true, { QS_LOG_FORMAT: 'json' }), 'json');
  const line = consoleLine(JSON.stringify({ level: 'info', ts: 1700000000.5, logger: 'http', msg: 'server running', server: 'srv0' }));
  assert.match(line, /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.500\tINFO\thttp\tserver running\t\{"server":"srv0"\}$/);

  // A real terminal: `script` gives the process a pseudo-terminal as stderr.
  const dir = mkdtempSync(join(tmpdir(), 'qs-log-tty-'));
  writeFileSync(join(dir, 'Caddyfile'), ':8080 {\n\trespnd "hi"\n}\n');
  const cmd = `${process.execPath} --disable-warning=ExperimentalWarning ${MAIN} run`;
  const r = await promisify(execFile)('script', ['-qec', cmd, '/dev/null'], { cwd: dir, env: { ...process.env, QS_LOG_FORMAT: '' } })
    .then((x) => x, (e: { stdout: string }) => e);
  assert.match(r.stdout, /\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{3}\tERROR\t.*Caddyfile:2:2: unrecognized directive: respnd/);
});
