/**
 * Reads a config file as Caddyfile or JSON. The adapter is inferred as Caddy
 * does: a base name starting with `caddyfile` or ending in `.caddyfile`
 * (case-insensitive) is a Caddyfile; anything else is JSON unless --adapter says.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { adaptCaddyfile, type Warning } from '../../directives/adapter.ts';
import { QsError } from './errors.ts';
import { fromCaddyJSON } from '../runtime/caddy-json.ts';

export type AdapterName = 'caddyfile' | 'json';

export function inferAdapter(path: string): AdapterName {
  const b = basename(path).toLowerCase();
  return b.startsWith('caddyfile') || b.endsWith('.caddyfile') ? 'caddyfile' : 'json';
}

export interface LoadedConfig { config: Record<string, unknown>; warnings: Warning[] }

/** Adapts text with the named adapter. `file` names the source in errors. JSON may be Caddy's (see runtime/caddy-json.ts). */
export function adaptText(text: string, adapter: AdapterName, file: string, env: Record<string, string | undefined> = process.env): LoadedConfig {
  if (adapter === 'json') {
    try {
      const config = JSON.parse(text) as unknown;
      if (!config || typeof config !== 'object' || Array.isArray(config)) throw new Error('the config must be a JSON object');
      const caddy = fromCaddyJSON(config as Record<string, unknown>);
      return { config: caddy.config, warnings: caddy.warnings.map((message) => ({ file, line: 0, message })) };
    } catch (e) {
      throw new QsError('ERR_CFG_JSON', `${file}: ${(e as Error).message}`, { cause: e });
    }
  }
  return adaptCaddyfile(text, { file, env, readFile: (p) => readFileSync(p, 'utf8') });
}

/** Reads and adapts a config file. */
export function loadConfigFile(path: string, adapter?: AdapterName, env?: Record<string, string | undefined>): LoadedConfig {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) {
    throw new QsError('ERR_CLI_USAGE', `reading config file: ${(e as Error).message}`, { cause: e });
  }
  return adaptText(text, adapter ?? inferAdapter(path), path, env);
}
