/**
 * `npm start` as a new user runs it: scripts/start.sh serves Caddyfile.example
 * with the bolt transport, prints the hub URL and a loud dev-key warning, and a
 * token from `quicksilver jwt` publishes to an anonymous subscriber.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jwtVerify } from 'jose';
import { freePort } from '../helpers/hub-process.ts';
import { SseClient } from '../helpers/sse.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DEV_KEY = '!ChangeThisMercureHubJWTSecretKey!';

test('npm start serves the hub on bolt, prints its URL and warns about the development key', async (t) => {
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), 'qs-start-'));
  const env: NodeJS.ProcessEnv = { ...process.env, SERVER_NAME: `:${port}`, GLOBAL_OPTIONS: 'admin off', XDG_DATA_HOME: data };
  delete env.MERCURE_PUBLISHER_JWT_KEY;
  delete env.MERCURE_SUBSCRIBER_JWT_KEY;
  const child = spawn('bash', [join(ROOT, 'scripts', 'start.sh')], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let err = '';
  child.stderr.setEncoding('utf8');
  while (!err.includes('WARNING')) {
    const [chunk] = await Promise.race([once(child.stderr, 'data'), once(child, 'exit').then(() => { throw new Error(err); })]) as [string];
    err += chunk;
  }
  const url = `http://localhost:${port}/.well-known/mercure`;
  assert.ok(err.includes(`Mercure hub: ${url}`), err);
  assert.match(err, /PUBLIC development key/);

  const { stdout } = await promisify(execFile)(join(ROOT, 'bin', 'quicksilver'), ['jwt', '--publish', '*'], { env });
  const token = stdout.trim();
  const { payload } = await jwtVerify(token, new TextEncoder().encode(DEV_KEY));
  assert.deepEqual(payload.mercure, { publish: ['*'] });

  const sub = await SseClient.open(`${url}?topic=${encodeURIComponent('https://example.com/books/{id}')}`);
  t.after(() => sub.close());
  const res = await fetch(url, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
    body: new URLSearchParams({ topic: 'https://example.com/books/1', data: '{"hello":"world"}' }),
  });
  assert.equal(res.status, 200);
  const id = await res.text();
  const [ev] = await sub.count(1);
  assert.deepEqual([ev!.id, ev!.data], [id, '{"hello":"world"}']);
  assert.ok(existsSync(join(data, 'quicksilver', 'mercure.db')), 'the default transport is bolt, in the data dir');
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
});

test('quicksilver jwt mints subscriber tokens with a payload and a TTL', async () => {
  const { stdout } = await promisify(execFile)(join(ROOT, 'bin', 'quicksilver'),
    ['jwt', '--key', 'a-secret-of-my-own-that-is-long', '--subscribe', 'https://example.com/{id}', '--payload', '{"user":"u1"}', '--ttl', '1h']);
  const { payload } = await jwtVerify(stdout.trim(), new TextEncoder().encode('a-secret-of-my-own-that-is-long'));
  assert.deepEqual(payload.mercure, { subscribe: ['https://example.com/{id}'], payload: { user: 'u1' } });
  assert.ok(typeof payload.exp === 'number' && payload.exp > Date.now() / 1000 + 3500 && payload.exp < Date.now() / 1000 + 3700);
});
