/**
 * Start-up time and size of each way Quicksilver ships (issue 15):
 *   node    bin/quicksilver (Node 24 running the TypeScript sources)
 *   binary  the single executable (packaging/sea/build.sh), from an empty directory
 *   image   the container image's root file system, run by its entrypoint
 *           (unshare + chroot as the image's user, as test/packaging/image.test.ts does)
 * Start-up = from spawn to the hub's "ready" IPC message (config loaded, listeners
 * bound, admin endpoint up), on the bolt transport with a fresh data dir each run.
 *
 *   node bench/startup.ts [--runs 10] [--binary dist/quicksilver] [--image localhost/quicksilver-test:hub]
 *
 * One JSON line on stdout, also written to bench/out/startup-<time>.json.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../test/helpers/hub-process.ts';
import { launch } from '../test/packaging/hub-checks.ts';
import { chrootArgv, containerEnv, extractImage, inspectImage, mountedUnder } from '../test/packaging/image-run.ts';

const ROOT = join(import.meta.dirname, '..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, binary: { type: 'string' }, image: { type: 'string' } } });
const runs = Number(values.runs);
const work = mkdtempSync(join(tmpdir(), 'qs-startup-'));

type Way = { size?: number; start(dataDir: string, port: number, admin: number): ReturnType<typeof launch> };
const keys = { MERCURE_PUBLISHER_JWT_KEY: 'startup-bench-key-0123456789', MERCURE_SUBSCRIBER_JWT_KEY: 'startup-bench-key-0123456789' };
const hubEnv = (port: number, admin: number) => ({ ...keys, SERVER_NAME: `:${port}`, CADDY_ADMIN: `127.0.0.1:${admin}`, QS_LOG_LEVEL: 'warn' });
const caddyfile = join(ROOT, 'Caddyfile.example');

const ways: Record<string, Way> = {
  node: {
    start: (data, port, admin) => launch(join(ROOT, 'bin', 'quicksilver'), ['run', '--config', caddyfile], { env: { ...process.env, ...hubEnv(port, admin), XDG_DATA_HOME: data } }),
  },
};
if (values.binary) {
  const dir = join(work, 'binary');
  mkdirSync(dir);
  copyFileSync(values.binary, join(dir, 'quicksilver'));
  ways.binary = {
    size: statSync(values.binary).size,
    start: (data, port, admin) => launch(join(dir, 'quicksilver'), ['run', '--config', caddyfile], { cwd: dir, env: { PATH: '/nonexistent', HOME: dir, ...hubEnv(port, admin), XDG_DATA_HOME: data } }),
  };
}
if (values.image) {
  const rootfs = join(work, 'rootfs');
  await extractImage(values.image, rootfs);
  const { config, size } = await inspectImage(values.image);
  ways.image = {
    size,
    start: (_data, port, admin) => {
      rmSync(join(rootfs, 'data', 'quicksilver'), { recursive: true, force: true });
      const [cmd, argv] = chrootArgv(rootfs, config.User!, [...config.Entrypoint!, ...config.Cmd!]);
      return launch(cmd, argv, { env: containerEnv(config, rootfs, hubEnv(port, admin)) });
    },
  };
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const results: Record<string, unknown> = {};
for (const [name, way] of Object.entries(ways)) {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const data = mkdtempSync(join(work, 'data-'));
    const [port, admin] = [await freePort(), await freePort()];
    const t0 = performance.now();
    const hub = await way.start(data, port, admin);
    ms.push(performance.now() - t0);
    const code = await hub.stop();
    if (code !== 0) throw new Error(`${name}: exit ${code} after SIGTERM:\n${hub.stderr()}`);
  }
  ms.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x);
  results[name] = { sizeBytes: way.size, readyMs: { min: r(ms[0]!), p50: r(pct(ms, 50)), p90: r(pct(ms, 90)), max: r(ms.at(-1)!) } };
  process.stderr.write(`${name}: ready p50 ${r(pct(ms, 50))} ms (min ${r(ms[0]!)}, max ${r(ms.at(-1)!)})${way.size ? `, ${(way.size / 1e6).toFixed(1)} MB` : ''}\n`);
}
if (!mountedUnder(work)) rmSync(work, { recursive: true, force: true });
const report = { scenario: 'startup', runs, node: process.version, at: new Date().toISOString(), results };
const out = join(ROOT, 'bench', 'out');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, `startup-${report.at.replace(/[-:]/g, '').slice(0, 15)}.json`), JSON.stringify(report, null, 2));
process.stdout.write(JSON.stringify(report) + '\n');
