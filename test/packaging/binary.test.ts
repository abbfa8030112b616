/**
 * Issue 15.1: the single executable. Builds it with packaging/sea/build.sh into
 * a temp dir, copies it ALONE into an empty directory, and runs it there with
 * a PATH that holds no Node: `version`, then `run` on a bolt Caddyfile with the
 * probe checks (health, publish, live delivery, Last-Event-ID replay), the
 * `healthcheck` command the container image uses, and a graceful SIGTERM stop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../helpers/hub-process.ts';
import { gracefulStop, hubChecks, launch } from './hub-checks.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

test('the single executable runs the hub with no Node and no node_modules beside it', { timeout: 600_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'qs-sea-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const built = join(work, 'build', 'quicksilver');
  await run('bash', [join(ROOT, 'packaging', 'sea', 'build.sh'), '--out', built], { cwd: ROOT, maxBuffer: 1 << 24 });
  assert.ok(statSync(built).size > 50 << 20, 'the binary embeds the Node runtime');

  const dir = join(work, 'app');
  mkdirSync(join(dir, 'empty-path'), { recursive: true });
  copyFileSync(built, join(dir, 'quicksilver'));
  // No Node on PATH, a fresh HOME, nothing inherited from this test's Node.
  const env: NodeJS.ProcessEnv = { PATH: join(dir, 'empty-path'), HOME: dir, XDG_DATA_HOME: join(dir, 'data'), QS_LOG_LEVEL: 'warn' };

  const version = await run('./quicksilver', ['version'], { cwd: dir, env });
  assert.match(version.stdout, /^quicksilver v\d+\.\d+\.\d+ \(node v24\./);

  const [port, admin] = [await freePort(), await freePort()];
  writeFileSync(join(dir, 'Caddyfile'), `{
	admin 127.0.0.1:${admin}
}

:${port} {
	mercure {
		publisher_jwt {env.MERCURE_PUBLISHER_JWT_KEY}
		subscriber_jwt {env.MERCURE_SUBSCRIBER_JWT_KEY}
		transport bolt {
			path ./data/mercure.db
		}
	}
}
`);
  assert.deepEqual(readdirSync(dir).sort(), ['Caddyfile', 'empty-path', 'quicksilver'], 'nothing but the binary and its Caddyfile');
  const keys = { MERCURE_PUBLISHER_JWT_KEY: 'packaging-publisher-key-0123456789', MERCURE_SUBSCRIBER_JWT_KEY: 'packaging-subscriber-key-0123456789' };
  const hub = await launch('./quicksilver', ['run'], { cwd: dir, env: { ...env, ...keys } });
  t.after(() => hub.child.kill('SIGKILL'));
  const e = { hub: `http://127.0.0.1:${port}/.well-known/mercure`, admin: `http://127.0.0.1:${admin}`, publisherKey: keys.MERCURE_PUBLISHER_JWT_KEY, subscriberKey: keys.MERCURE_SUBSCRIBER_JWT_KEY };
  await hubChecks(e);
  assert.ok(statSync(join(dir, 'data', 'mercure.db')).size > 0, 'bolt wrote its database');

  const health = await run('./quicksilver', ['healthcheck', `${e.admin}/mercure/health/ready`], { cwd: dir, env });
  assert.equal(health.stderr, '');
  await assert.rejects(run('./quicksilver', ['healthcheck', `${e.admin}/mercure/health/nope/ready`], { cwd: dir, env }), /answered 404/);

  await gracefulStop(hub, e);
  assert.doesNotMatch(hub.stderr(), /"level":50|Error:/, hub.stderr());
});
