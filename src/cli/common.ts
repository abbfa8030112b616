/** Helpers shared by CLI commands: config discovery, env files, data dir, logger. */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { QsError } from '../host/errors.ts';
import { ADAPTERS, type AdapterName } from '../runtime/load-config.ts';
import { processLogger } from '../host/log.ts';

export interface ConfigFlags { config?: string; adapter?: string; envfile?: string }

/**
 * Resolves --config (default ./Caddyfile) and --adapter, loading --envfile into process.env first.
 * `--adapter mercure` without --config means the legacy environment variables alone (path undefined).
 */
export function resolveConfig(flags: ConfigFlags): { path: string | undefined; adapter?: AdapterName } {
  if (flags.envfile) loadEnvFile(flags.envfile);
  if (flags.adapter && !(ADAPTERS as readonly string[]).includes(flags.adapter)) {
    throw new QsError('ERR_CLI_USAGE', `unrecognized config adapter: ${flags.adapter} (expected ${ADAPTERS.join(', ')})`);
  }
  let path = flags.config;
  if (!path && flags.adapter === 'mercure') return { path: undefined, adapter: 'mercure' };
  if (!path) {
    if (flags.adapter) throw new QsError('ERR_CLI_USAGE', 'cannot adapt config without config file (use --config)');
    if (!existsSync('Caddyfile')) throw new QsError('ERR_CLI_USAGE', 'input file required when there is no Caddyfile in current directory (use --config flag)');
    path = 'Caddyfile';
  }
  return { path, adapter: flags.adapter as AdapterName | undefined };
}

/** Loads `KEY=value` lines into process.env (--envfile). */
export function loadEnvFile(path: string): void {
  try { process.loadEnvFile(path); } catch (e) {
    throw new QsError('ERR_CLI_USAGE', `reading envfile: ${(e as Error).message}`, { cause: e });
  }
}

/** Where persistent data lives (bolt's default mercure.db): $XDG_DATA_HOME/quicksilver or ~/.local/share/quicksilver. */
export function dataDir(): string {
  const base = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'quicksilver');
}

/** Caddy-shaped logs on stderr (see host/log.ts); level from QS_LOG_LEVEL (default info). */
export function makeLogger(level?: string): Logger {
  return processLogger(level ?? process.env.QS_LOG_LEVEL ?? 'info');
}
