/**
 * `quicksilver run`: load the config, serve in the foreground.
 * SIGINT/SIGTERM (or POST /stop): graceful stop — stop accepting, let in-flight
 * requests finish within the grace period, clean up, exit 0.
 * SIGHUP: reload the config file; a config that fails keeps the old one running.
 */
import { unwatchFile, watchFile, writeFileSync } from 'node:fs';
import { QsError } from '../host/errors.ts';
import { loadConfigFile } from '../host/load-config.ts';
import { Runtime } from '../host/runtime.ts';
import { dataDir, makeLogger, resolveConfig } from './common.ts';
import { banner } from './banner.ts';
import { captureStderr } from '../runtime/log.ts';

type Flags = Record<string, string | boolean | string[] | undefined>;

export async function runCommand(flags: Flags): Promise<number> {
  const { path, adapter } = resolveConfig(flags as { config?: string; adapter?: string; envfile?: string });
  if (flags.environ) process.stdout.write((await import('./environ.ts')).environText());
  const log = makeLogger();
  captureStderr(log);
  let stopping = false;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => { resolveDone = r; });
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason: why }, 'shutting down');
    rt.stop().then(() => resolveDone(0), (err) => { log.error({ err }, 'shutdown failed'); resolveDone(1); });
  };
  const rt = new Runtime({ log, dataDir: dataDir(), onStop: () => stop('admin /stop') });

  const initial = (() => {
    try { return loadConfigFile(path, adapter); } catch (e) {
      if (e instanceof QsError && e.code.startsWith('ERR_CFG')) throw new QsError(e.code, `adapting config using ${adapter ?? 'caddyfile'}: ${e.message}`, { cause: e });
      throw e;
    }
  })();
  for (const w of initial.warnings) log.warn({ adapter: adapter ?? 'caddyfile', file: w.file, line: w.line }, w.message);
  try {
    await rt.load(initial.config);
  } catch (e) {
    await rt.stop(0).catch(() => undefined);
    throw new QsError(e instanceof QsError ? e.code : 'ERR_MODULE_PROVISION', `loading initial config: ${(e as Error).message}`, { cause: e });
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
      for (const w of next.warnings) log.warn({ adapter: adapter ?? 'caddyfile', file: w.file, line: w.line }, w.message);
      rt.load(next.config).catch((err) => log.error({ err, reason: why }, 'reload failed; the previous config keeps running'));
    } catch (err) {
      log.error({ err, reason: why }, 'reload failed; the previous config keeps running');
    }
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => reload('SIGHUP'));
  if (flags.watch) {
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
