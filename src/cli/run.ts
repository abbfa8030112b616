/**
 * `quicksilver run`: load the config, serve in the foreground.
 * SIGINT/SIGTERM (or POST /stop): graceful stop — stop accepting, let in-flight
 * requests finish within the grace period, clean up, exit 0.
 * SIGHUP: reload the config file; a config that fails keeps the old one running.
 */
import { unwatchFile, watchFile, writeFileSync } from 'node:fs';
import { QsError } from '../host/errors.ts';
import { adapterFor, loadConfigFile } from '../runtime/load-config.ts';
import { Runtime } from '../runtime/runtime.ts';
import { dataDir, makeLogger, resolveConfig } from './common.ts';
import { banner } from './banner.ts';
import { Supervisor, WORKER_ENV, joinWorkerGroup, workerConfig, workerCount, workerReady } from '../runtime/workers.ts';
import { captureStderr } from '../host/log.ts';

type Flags = Record<string, string | boolean | string[] | undefined>;

export async function runCommand(flags: Flags): Promise<number> {
  const { path, adapter } = resolveConfig(flags as { config?: string; adapter?: string; envfile?: string });
  if (flags.environ) process.stdout.write((await import('./environ.ts')).environText());
  const log = makeLogger();
  captureStderr(log);
  let stopping = false;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => { resolveDone = r; });
  let group: Supervisor | undefined;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason: why }, 'shutting down');
    Promise.all([group?.stop(), rt.stop()]).then(() => group?.close()).then(() => resolveDone(0), (err) => { log.error({ err }, 'shutdown failed'); resolveDone(1); });
  };
  const rt = new Runtime({ log, dataDir: dataDir(), onStop: () => stop('admin /stop') });

  const initial = (() => {
    try { return loadConfigFile(path, adapter); } catch (e) {
      if (e instanceof QsError && e.code.startsWith('ERR_CFG')) throw new QsError(e.code, `adapting config using ${adapterFor(path, adapter)}: ${e.message}`, { cause: e });
      throw e;
    }
  })();
  const worker = process.env[WORKER_ENV];
  if (worker) {
    // A forked worker: the main process serves the admin endpoint, prints the banner and answers SIGHUP.
    joinWorkerGroup({
      reload: (config) => rt.load(workerConfig(config)),
      metrics: async () => (await rt.instance?.app.metrics.getMetricsAsJSON()) ?? [],
    });
    initial.config = workerConfig(initial.config);
  } else {
    for (const w of initial.warnings) log.warn({ adapter: initial.adapter, file: w.file, line: w.line }, w.message);
    const count = workerCount(initial.config.workers);
    if (count > 1) group = new Supervisor({ log, dataDir: dataDir(), count, config: initial.config });
  }
  try {
    await rt.load(initial.config);
  } catch (e) {
    await rt.stop(0).catch(() => undefined);
    throw new QsError(e instanceof QsError ? e.code : 'ERR_MODULE_PROVISION', `loading initial config: ${(e as Error).message}`, { cause: e });
  }
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  if (worker) {
    workerReady();
    // The IPC channel would keep the process alive once stopped.
    return done.then((code) => { process.disconnect?.(); return code; });
  }
  if (group) {
    try {
      await group.start();
    } catch (e) {
      await Promise.all([group.stop(), rt.stop(0)]).catch(() => undefined);
      throw new QsError('ERR_MODULE_PROVISION', `starting workers: ${(e as Error).message}`, { cause: e });
    }
    rt.group = group;
  }
  const hubLog = log.child({ logger: 'http.handlers.mercure' });
  for (const e of banner(initial.config)) hubLog[e.level](e.fields, e.msg);
  if (process.send) process.send({ ready: true, admin: rt.adminAddress });

  if (typeof flags.pidfile === 'string') {
    try { writeFileSync(flags.pidfile, `${process.pid}\n`); } catch (err) { log.error({ err, pidfile: flags.pidfile }, 'could not write the pidfile'); }
  }

  const reload = (why: string) => {
    try {
      const next = loadConfigFile(path, adapter);
      for (const w of next.warnings) log.warn({ adapter: next.adapter, file: w.file, line: w.line }, w.message);
      rt.load(next.config).catch((err) => log.error({ err, reason: why }, 'reload failed; the previous config keeps running'));
    } catch (err) {
      log.error({ err, reason: why }, 'reload failed; the previous config keeps running');
    }
  };
  process.on('SIGHUP', () => reload('SIGHUP'));
  if (flags.watch && path) {
    // As `caddy run --watch`: poll the file, reload when it changes.
    watchFile(path, { interval: 1000 }, (cur, prev) => {
      if (cur.mtimeMs === prev.mtimeMs && cur.size === prev.size) return;
      log.info({ file: path }, 'config file changed; reloading');
      reload('watch');
    });
    void done.then(() => unwatchFile(path));
  }
  return done;
}
