/**
 * Issue 15.2: the container image. Builds base images from Debian's packages
 * (no registry is reachable), builds the repository's Dockerfile UNCHANGED on
 * them with podman (targets `hub` and `php`), checks the image's metadata
 * (non-root user, /data and /config volumes, health check, SIGTERM, ports),
 * extracts its file system, runs its ENTRYPOINT+CMD there (private mount
 * namespace + chroot as the image's user, environment as a runtime gives it)
 * with the reference image's variables set, and probes it: health, publish,
 * subscribe, Last-Event-ID replay on the default bolt transport under /data,
 * the extra-directive variables, the image's HEALTHCHECK command, graceful stop.
 *
 * A step that cannot run on this machine FAILS with the reason, unless
 * QS_SKIP_IMAGE_TEST=1 says to skip (then the skip states the reason).
 * Caches (outside the repository): the Debian rootfs tarball and npm's package
 * in ~/.cache/quicksilver-packaging, images and build layers in podman's storage.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../helpers/hub-process.ts';
import { gracefulStop, hubChecks, launch, token } from './hub-checks.ts';
import { baseImages, buildImage, chrootArgv, containerEnv, extractImage, imageTestBlocker, inspectImage, mountedUnder, type ImageConfig } from './image-run.ts';
import { ROOT } from './image-variables.ts';

const run = promisify(execFile);

function blocked(t: TestContext): boolean {
  const why = imageTestBlocker();
  if (!why) return false;
  if (process.env.QS_SKIP_IMAGE_TEST === '1') { t.skip(`QS_SKIP_IMAGE_TEST=1 and: ${why}`); return true; }
  throw new Error(`the image test cannot run on this machine: ${why} (set QS_SKIP_IMAGE_TEST=1 to skip it)`);
}

function workDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'qs-image-'));
  t.after(() => {
    if (mountedUnder(dir)) throw new Error(`something is still mounted under ${dir}; not deleting it`);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Every file path under dir, relative. */
function walk(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    out.push(p);
    if (e.isDirectory()) out.push(...walk(dir, p));
  }
  return out;
}

function checkMetadata(config: ImageConfig): void {
  assert.equal(config.User, '65532:65532', 'runs as the unprivileged user');
  assert.ok(config.Env?.includes('XDG_DATA_HOME=/data') && config.Env.includes('XDG_CONFIG_HOME=/config'), `data and config dirs: ${config.Env}`);
  assert.deepEqual(Object.keys(config.Volumes ?? {}).sort(), ['/config', '/data']);
  for (const p of ['80/tcp', '443/tcp', '443/udp', '2019/tcp']) assert.ok(p in (config.ExposedPorts ?? {}), `exposes ${p}`);
  assert.equal(config.StopSignal, 'SIGTERM');
  assert.deepEqual(config.Healthcheck?.Test, ['CMD', '/usr/bin/quicksilver', 'healthcheck', 'ready']);
  assert.deepEqual(config.Cmd, ['run', '--config', '/etc/caddy/Caddyfile', '--adapter', 'caddyfile']);
}

test('the hub image: built from the Dockerfile on Debian-made bases, run from its extracted file system', { timeout: 1_800_000 }, async (t) => {
  if (blocked(t)) return;
  const dir = workDir(t);
  const args = await baseImages();
  const tag = await buildImage('hub', args, join(dir, 'build-hub.log'));
  const { config, size } = await inspectImage(tag);
  t.diagnostic(`image ${tag}: ${(size / 1e6).toFixed(1)} MB`);
  checkMetadata(config);
  assert.deepEqual(config.Entrypoint, ['/usr/bin/quicksilver']);

  const rootfs = join(dir, 'rootfs');
  await extractImage(tag, rootfs);
  const files = walk(rootfs);
  assert.ok(!files.some((f) => /(^|\/)node_modules(\/|$)/.test(f) || /(^|\/)(node|npm|sh|bash)$/.test(f)), 'no Node, npm or shell in the image');
  assert.equal(readFileSync(join(rootfs, 'etc/caddy/Caddyfile'), 'utf8'), readFileSync(join(ROOT, 'Caddyfile.example'), 'utf8'));
  for (const d of ['data', 'config']) assert.equal(statSync(join(rootfs, d)).uid, 65532, `/${d} belongs to the image's user`);

  const [port, admin] = [await freePort(), await freePort()];
  const keys = { MERCURE_PUBLISHER_JWT_KEY: 'image-publisher-key-0123456789abcdef', MERCURE_SUBSCRIBER_JWT_KEY: 'image-subscriber-key-0123456789abcdef' };
  const env = containerEnv(config, rootfs, {
    ...keys,
    SERVER_NAME: `:${port}`,
    CADDY_ADMIN: `127.0.0.1:${admin}`,
    GLOBAL_OPTIONS: 'grace_period 5s',
    CADDY_EXTRA_CONFIG: '(packaging_snippet) {\n\theader X-Snippet yes\n}',
    CADDY_SERVER_EXTRA_DIRECTIVES: 'import packaging_snippet\nrespond /packaging-extra "extra directive" 200',
    MERCURE_EXTRA_DIRECTIVES: 'subscriptions',
    MERCURE_LICENSE: 'license-key-of-the-reference-hub',
    QS_LOG_LEVEL: 'warn',
  });
  const [cmd, argv] = chrootArgv(rootfs, config.User!, [...config.Entrypoint!, ...config.Cmd!]);
  const hub = await launch(cmd, argv, { env });
  t.after(() => hub.child.kill('SIGKILL'));
  const e = { hub: `http://127.0.0.1:${port}/.well-known/mercure`, admin: `http://127.0.0.1:${admin}`, publisherKey: keys.MERCURE_PUBLISHER_JWT_KEY, subscriberKey: keys.MERCURE_SUBSCRIBER_JWT_KEY };
  await hubChecks(e);

  const db = statSync(join(rootfs, 'data', 'quicksilver', 'mercure.db'));
  assert.equal(db.uid, 65532, 'the default bolt database lives under /data, written by the image user');
  const welcome = await fetch(`http://127.0.0.1:${port}/`);
  assert.equal(welcome.status, 200);
  assert.match(await welcome.text(), /\/\.well-known\/mercure/);
  const extra = await fetch(`http://127.0.0.1:${port}/packaging-extra`);
  assert.equal(await extra.text(), 'extra directive', 'CADDY_SERVER_EXTRA_DIRECTIVES is in the site');
  assert.equal(extra.headers.get('x-snippet'), 'yes', 'CADDY_EXTRA_CONFIG defines a snippet the site imports');
  const subs = await fetch(`${e.hub}/subscriptions`, { headers: { Authorization: `Bearer ${await token(keys.MERCURE_SUBSCRIBER_JWT_KEY, { subscribe: ['*'] })}` } });
  assert.equal(subs.status, 200, 'MERCURE_EXTRA_DIRECTIVES turned the subscriptions API on');
  await subs.arrayBuffer();

  // The image's own HEALTHCHECK command, run in the image as a runtime would.
  const [hcmd, hargv] = chrootArgv(rootfs, config.User!, config.Healthcheck!.Test!.slice(1));
  await run(hcmd, hargv, { env });

  await gracefulStop(hub, e);
  await assert.rejects(run(hcmd, hargv, { env }), 'the health check fails once the hub is gone');
});

test('the php image: php-fpm beside the hub, php_server in its Caddyfile', { timeout: 1_800_000 }, async (t) => {
  if (blocked(t)) return;
  const dir = workDir(t);
  const args = await baseImages();
  const tag = await buildImage('php', args, join(dir, 'build-php.log'));
  const { config, size } = await inspectImage(tag);
  t.diagnostic(`image ${tag}: ${(size / 1e6).toFixed(1)} MB`);
  checkMetadata(config);

  const rootfs = join(dir, 'rootfs');
  await extractImage(tag, rootfs);
  const fpm = readdirSync(join(rootfs, 'usr/sbin')).filter((f) => f.startsWith('php-fpm'));
  assert.ok(fpm.length > 0, 'php-fpm is installed');
  assert.equal(readFileSync(join(rootfs, 'etc/caddy/Caddyfile'), 'utf8'), readFileSync(join(ROOT, 'packaging/docker/php.Caddyfile'), 'utf8'));

  const [port, admin] = [await freePort(), await freePort()];
  const keys = { MERCURE_PUBLISHER_JWT_KEY: 'php-publisher-key-0123456789abcdef', MERCURE_SUBSCRIBER_JWT_KEY: 'php-subscriber-key-0123456789abcdef' };
  const env = containerEnv(config, rootfs, { ...keys, SERVER_NAME: `:${port}`, CADDY_ADMIN: `127.0.0.1:${admin}`, QS_LOG_LEVEL: 'warn' });
  const version = await run(...chrootArgv(rootfs, config.User!, [`/usr/sbin/${fpm[0]}`, '-v']), { env });
  assert.match(version.stdout, /^PHP 8\.\d+\.\d+ \(fpm-fcgi\)/);

  // php_server comes from another branch (issue 12); until it is merged the
  // image's Caddyfile cannot be served, and this says so.
  const adapt = await run(...chrootArgv(rootfs, config.User!, ['/usr/bin/quicksilver', 'adapt', '--config', '/etc/caddy/Caddyfile']), { env }).catch((err: { stderr?: string }) => err);
  if ('stderr' in adapt && /unrecognized directive: php_server/.test(adapt.stderr ?? '')) {
    t.skip('php_server is not registered in this build yet (issue 12 adds it); the php image builds and carries php-fpm, but cannot serve PHP here');
    return;
  }
  const hub = await launch(...chrootArgv(rootfs, config.User!, [...config.Entrypoint!, ...config.Cmd!]), { env });
  t.after(() => hub.child.kill('SIGKILL'));
  const e = { hub: `http://127.0.0.1:${port}/.well-known/mercure`, admin: `http://127.0.0.1:${admin}`, publisherKey: keys.MERCURE_PUBLISHER_JWT_KEY, subscriberKey: keys.MERCURE_SUBSCRIBER_JWT_KEY };
  await hubChecks(e);
  const page = await fetch(`http://127.0.0.1:${port}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /^Quicksilver \+ PHP 8\./);
  await gracefulStop(hub, e);
});
