/**
 * `quicksilver run`: load the config, serve in the foreground.
 * SIGINT/SIGTERM (or POST /stop): graceful stop — stop accepting, let in-flight
 * requests finish within the grace period, clean up, exit 0.
 * SIGHUP: reload the config file; a config that fails keeps the old one running.
 */
import { QsError } from '../host/errors.ts';
import { loadConfigFile } from '../host/load-config.ts';
import { Runtime } from '../host/runtime.ts';
import { dataDir, makeLogger, resolveConfig } from './common.ts';
import { banner } from './banner.ts';

type Flags = Record<string, string | boolean | string[] | undefined>;

export async function runCommand(flags: Flags): Promise<number> {
  const { path, adapter } = resolveConfig(flags as { config?: string; adapter?: string; envfile?: string });
  const log = makeLogger();
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
  for (const w of initial.warnings) log.warn({ file: w.file, line: w.line }, w.message);
  try {
    await rt.load(initial.config);
  } catch (e) {
    await rt.stop(0).catch(() => undefined);
    throw new QsError(e instanceof QsError ? e.code : 'ERR_MODULE_PROVISION', `loading initial config: ${(e as Error).message}`, { cause: e });
  }
  for (const line of banner(initial.config)) process.stderr.write(line + '\n');
  if (process.send) process.send({ ready: true, admin: rt.adminAddress });

  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => {
    try {
      const next = loadConfigFile(path, adapter);
      rt.load(next.config).catch((err) => log.error({ err }, 'reload failed; the previous config keeps running'));
    } catch (err) {
      log.error({ err }, 'reload failed; the previous config keeps running');
    }
  });
  return done;
}
