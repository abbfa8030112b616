/**
 * Reads a config file as Caddyfile, JSON, or the legacy Mercure settings. The
 * adapter is inferred as Caddy does: a base name starting with `caddyfile` or
 * ending in `.caddyfile` (case-insensitive) is a Caddyfile; a YAML file, or a
 * `mercure.json` that is not Caddy's JSON, is the legacy `mercure` format;
 * anything else is JSON unless --adapter says.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { adaptCaddyfile as adaptWithDirectives, type AdaptOptions, type Warning } from '../../directives/adapter.ts';
import { QsError } from '../host/errors.ts';
import { registerStandardModules } from './standard.ts';
import { fromCaddyJSON } from './caddy-json.ts';
import { adaptMercureLegacy, looksLegacy } from '../adapters/mercure-legacy/index.ts';

export type AdapterName = 'caddyfile' | 'json' | 'mercure';

export const ADAPTERS: readonly AdapterName[] = ['caddyfile', 'json', 'mercure'];

export function inferAdapter(path: string, text = ''): AdapterName {
  const b = basename(path).toLowerCase();
  if (b.startsWith('caddyfile') || b.endsWith('.caddyfile')) return 'caddyfile';
  return looksLegacy(b, text) ? 'mercure' : 'json';
}

/** The adapter loadConfigFile uses for this path (for messages); reads the file if it must look inside. */
export function adapterFor(path: string | undefined, adapter?: AdapterName): AdapterName {
  if (adapter) return adapter;
  if (path === undefined) return 'mercure';
  let text = '';
  try { text = readFileSync(path, 'utf8'); } catch { /* the load reports it */ }
  return inferAdapter(path, text);
}

export interface LoadedConfig { config: Record<string, unknown>; warnings: Warning[]; /** The adapter that read it (loadConfigFile). */ adapter?: AdapterName }

/** Adapts a Caddyfile with every standard module, directive and transport registered. */
export function adaptCaddyfile(text: string, opts: AdaptOptions): LoadedConfig {
  registerStandardModules();
  return adaptWithDirectives(text, opts);
}

/** Adapts text with the named adapter. `file` names the source in errors. */
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
  if (adapter === 'mercure') return adaptMercureLegacy(text, file, env);
  return adaptCaddyfile(text, { file, env, readFile: (p) => readFileSync(p, 'utf8') });
}

/** Reads and adapts a config file; no path with the `mercure` adapter = the environment alone. */
export function loadConfigFile(path: string | undefined, adapter?: AdapterName, env: Record<string, string | undefined> = process.env): LoadedConfig {
  if (path === undefined) {
    if (adapter !== 'mercure') throw new QsError('ERR_CLI_USAGE', 'cannot adapt config without config file (use --config)');
    return { ...adaptMercureLegacy(undefined, undefined, env), adapter };
  }
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) {
    throw new QsError('ERR_CLI_USAGE', `reading config file: ${(e as Error).message}`, { cause: e });
  }
  const used = adapter ?? inferAdapter(path, text);
  return { ...adaptText(text, used, path, env), adapter: used };
}
