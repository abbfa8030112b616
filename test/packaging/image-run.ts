/**
 * Helpers of the image test: build the Dockerfile with podman on base images
 * made from Debian packages (base-images.sh), extract an image's root file
 * system, and run a command of the image in it (a private mount namespace,
 * /proc and a few /dev nodes, chroot as the image's user), as a container
 * runtime would. `podman run` itself does not work on these machines.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './image-variables.ts';

const run = promisify(execFile);

/** Why the image test cannot run here, or undefined when it can. */
export function imageTestBlocker(): string | undefined {
  if (process.platform !== 'linux') return 'container images are built and run on Linux only';
  if (process.getuid?.() !== 0) return 'extracting and running the image (mount, chroot) needs root';
  for (const tool of ['/usr/bin/unshare', '/usr/sbin/chroot', '/usr/bin/mount']) if (!existsSync(tool)) return `${tool} is missing`;
  const probe = spawnSync('/usr/bin/unshare', ['--mount', '--propagation', 'private', '/bin/true']);
  if (probe.status !== 0) return `unshare --mount does not work here: ${probe.stderr?.toString().trim()}`;
  return undefined;
}

export interface ImageConfig {
  User?: string; Env?: string[]; Entrypoint?: string[]; Cmd?: string[]; WorkingDir?: string;
  ExposedPorts?: Record<string, unknown>; Volumes?: Record<string, unknown>; StopSignal?: string;
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number };
}

/** Builds the base images (cached) and returns the Dockerfile's build arguments for them. */
export async function baseImages(): Promise<{ NODE_IMAGE: string; BASE_IMAGE: string }> {
  const { stdout } = await run('bash', [join(ROOT, 'test', 'packaging', 'base-images.sh')], { maxBuffer: 1 << 26 });
  const args = Object.fromEntries(stdout.trim().split('\n').filter((l) => l.includes('=')).map((l) => l.split('=', 2) as [string, string]));
  if (!args.NODE_IMAGE || !args.BASE_IMAGE) throw new Error(`base-images.sh printed no image names:\n${stdout}`);
  return args as { NODE_IMAGE: string; BASE_IMAGE: string };
}

/**
 * `podman build` of the repository's Dockerfile, unchanged, for one target; returns the tag.
 * The `build` stage is built and tagged first, so that its layers (npm ci above all) stay
 * cached between runs; the image a tag replaces is removed, with the layers only it used,
 * so podman's storage does not grow with every source change.
 */
export async function buildImage(target: string, args: Record<string, string>, logFile: string): Promise<string> {
  if (target !== 'build') await buildImage('build', args, logFile.replace(/(\.log)?$/, '-stage.log'));
  const tag = `localhost/quicksilver-test:${target}`;
  const argv = ['build', '--format', 'docker', '--isolation', 'chroot', '--pull=never', '--layers', '--target', target, '-t', tag];
  for (const [k, v] of Object.entries(args)) argv.push('--build-arg', `${k}=${v}`);
  argv.push('-f', join(ROOT, 'Dockerfile'), ROOT);
  const previous = await imageId(tag);
  try {
    const r = await run('podman', argv, { maxBuffer: 1 << 26 });
    writeFileSync(logFile, `${r.stdout}\n${r.stderr}`);
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    writeFileSync(logFile, `${err.stdout ?? ''}\n${err.stderr ?? ''}`);
    throw new Error(`podman ${argv.join(' ')} failed (${err.code}); log in ${logFile}:\n${(err.stderr ?? '').slice(-4000)}`);
  }
  if (previous && previous !== (await imageId(tag))) await run('podman', ['rmi', previous]).catch(() => undefined);
  return tag;
}

function imageId(tag: string): Promise<string> {
  return run('podman', ['image', 'inspect', '--format', '{{.Id}}', tag]).then((r) => r.stdout.trim(), () => '');
}

export async function inspectImage(tag: string): Promise<{ config: ImageConfig; size: number }> {
  const { stdout } = await run('podman', ['image', 'inspect', tag], { maxBuffer: 1 << 24 });
  const [info] = JSON.parse(stdout) as [{ Config: ImageConfig; Size: number; Healthcheck?: ImageConfig['Healthcheck'] }];
  // podman reports a docker-format image's HEALTHCHECK beside Config, not in it.
  return { config: { ...info.Config, Healthcheck: info.Config.Healthcheck ?? info.Healthcheck }, size: info.Size };
}

/** Copies the image's file system into dir (podman create + export, nothing is run). */
export async function extractImage(tag: string, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const name = `qs-extract-${process.pid}-${Date.now()}`;
  await run('podman', ['create', '--name', name, tag]);
  try {
    const r = spawnSync('bash', ['-c', 'set -o pipefail; podman export "$1" | tar -x --numeric-owner -C "$2"', 'bash', name, dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`podman export failed: ${r.stderr}`);
  } finally {
    await run('podman', ['rm', '-f', name]);
  }
  for (const d of ['proc', 'dev']) mkdirSync(join(dir, d), { recursive: true });
}

const WRAP = [
  'set -e', 'r="$1"; user="$2"; shift 2',
  '/usr/bin/mount -t proc proc "$r/proc"',
  '/usr/bin/mount -t tmpfs -o mode=755 tmpfs "$r/dev"',
  'for d in null zero random urandom; do /usr/bin/touch "$r/dev/$d"; /usr/bin/mount --bind "/dev/$d" "$r/dev/$d"; done',
  'exec /usr/sbin/chroot --userspec="$user" "$r" "$@"',
].join('\n');

/** The argv that runs `command` of the image in rootfs as `user` (in a private mount namespace, so nothing leaks out). */
export function chrootArgv(rootfs: string, user: string, command: string[]): [string, string[]] {
  return ['/usr/bin/unshare', ['--mount', '--propagation', 'private', '/bin/sh', '-c', WRAP, 'sh', rootfs, user, ...command]];
}

/** The environment a container of this image starts with: Docker's default PATH when the image sets none, HOME from its /etc/passwd, the image's Env, then extra. */
export function containerEnv(config: ImageConfig, rootfs: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOSTNAME: 'quicksilver-test' };
  const uid = (config.User ?? '0').split(':')[0];
  try {
    for (const line of readFileSync(join(rootfs, 'etc', 'passwd'), 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === uid || f[2] === uid) env.HOME = f[5];
    }
  } catch { /* no /etc/passwd: no HOME, as in a container */ }
  for (const kv of config.Env ?? []) { const i = kv.indexOf('='); env[kv.slice(0, i)] = kv.slice(i + 1); }
  return { ...env, ...extra };
}

/** True when something is still mounted under dir (then it must not be deleted). */
export function mountedUnder(dir: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4]?.startsWith(dir + '/'));
}
