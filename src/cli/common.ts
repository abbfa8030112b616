/** Helpers shared by CLI commands: config discovery, env files, data dir, logger. */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { QsError } from '../host/errors.ts';
import type { AdapterName } from '../host/load-config.ts';
import { processLogger } from '../runtime/log.ts';

export interface ConfigFlags { config?: string; adapter?: string; envfile?: string }

/** Resolves --config (default ./Caddyfile) and --adapter, loading --envfile into process.env first. */
export function resolveConfig(flags: ConfigFlags): { path: string; adapter?: AdapterName } {
  if (flags.envfile) loadEnvFile(flags.envfile);
  if (flags.adapter && flags.adapter !== 'caddyfile' && flags.adapter !== 'json') {
    throw new QsError('ERR_CLI_USAGE', `unrecognized config adapter: ${flags.adapter} (expected caddyfile or json)`);
  }
  let path = flags.config;
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

/** Caddy-shaped logs on stderr (see runtime/log.ts); level from QS_LOG_LEVEL (default info). */
export function makeLogger(level?: string): Logger {
  return processLogger(level ?? process.env.QS_LOG_LEVEL ?? 'info');
}
