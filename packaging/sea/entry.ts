/**
 * Entry point of the single executable (packaging/sea/build.ts bundles it).
 *
 * The bundle cannot read files beside the sources: the hub's own files that it
 * reads at run time (the debugging UI, package.json for `version`) travel as
 * SEA assets instead. The bundler rewrites `import.meta.url`/`dirname` of each
 * source file to a path under VIRTUAL_ROOT, and reads of that root are answered
 * from the assets here. Everything else is the normal CLI (src/cli/main.ts).
 *
 * One extra command exists only here, for container health checks without
 * wget or curl in the image: `quicksilver healthcheck [ready|live|URL]` exits 0
 * when the admin endpoint's /mercure/health/ready (or /live, or the given URL)
 * answers 200. The admin address is $QS_HEALTHCHECK_ADMIN, else $CADDY_ADMIN,
 * else localhost:2019 (the admin endpoint's default; fetch tries both IPv4 and IPv6).
 */
import fs from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VIRTUAL_ROOT } from './virtual-root.ts';

type Sea = { isSea(): boolean; getRawAsset(key: string): ArrayBuffer };

function serveAssets(sea: Sea): void {
  const original = fs.readFileSync;
  const patched = function readFileSync(this: unknown, ...args: Parameters<typeof fs.readFileSync>) {
    const [file, options] = args;
    const path = typeof file === 'string' ? file : file instanceof URL && file.protocol === 'file:' ? fileURLToPath(file) : undefined;
    if (path?.startsWith(VIRTUAL_ROOT)) {
      const key = path.slice(VIRTUAL_ROOT.length);
      let buf: Buffer;
      try { buf = Buffer.from(sea.getRawAsset(key)); } catch {
        throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT', path });
      }
      const encoding = typeof options === 'string' ? options : options?.encoding;
      return encoding ? buf.toString(encoding) : Buffer.from(buf);
    }
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  };
  fs.readFileSync = patched as typeof fs.readFileSync;
}

async function healthcheck(arg = 'ready'): Promise<number> {
  const admin = process.env.QS_HEALTHCHECK_ADMIN || process.env.CADDY_ADMIN || 'localhost:2019';
  const url = arg === 'ready' || arg === 'live' ? `http://${admin.replace(/^tcp\//, '')}/mercure/health/${arg}` : arg;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
    await res.arrayBuffer();
    if (res.status === 200) return 0;
    process.stderr.write(`healthcheck: ${url} answered ${res.status}\n`);
  } catch (e) {
    process.stderr.write(`healthcheck: ${url}: ${(e as Error).message}\n`);
  }
  return 1;
}

async function start(): Promise<void> {
  let sea: Sea | undefined;
  try { sea = (await import('node:sea')) as unknown as Sea; } catch { sea = undefined; }
  if (sea?.isSea()) {
    serveAssets(sea);
    // The CLI re-runs itself for `workers` and `start` with fork(module, args): in the
    // executable that arrives as `exe [node flags…] <exe or virtual main.ts> args…`;
    // drop what comes before the real arguments.
    const self = (a: string) => a.startsWith(VIRTUAL_ROOT) || resolve(a) === process.execPath || resolve(a) === resolve(process.argv[1]!);
    const at = process.argv.findIndex((a, i) => i >= 2 && self(a));
    if (at >= 2 && process.argv.slice(2, at).every((a) => a.startsWith('-'))) process.argv.splice(2, at - 1);
  }
  if (process.argv[2] === 'healthcheck') {
    process.exitCode = await healthcheck(process.argv[3]);
    return;
  }
  await import('../../src/cli/main.ts');
}

start().catch((e: unknown) => {
  process.stderr.write(`Error: ${(e as Error)?.message ?? String(e)}\n`);
  process.exitCode = 1;
});
