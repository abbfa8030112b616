/**
 * The `mercure` config adapter: the deprecated non-Caddy server's settings
 * (`mercure.yaml` / `mercure.json` and upper-case environment variables such as
 * JWT_KEY, ADDR, TRANSPORT_URL) become the JSON config the host runs, the way
 * Caddy's adapters turn other formats into its JSON. Environment variables win
 * over the file, as they did in the legacy server; without a file the
 * environment alone configures the hub.
 */
import type { AdaptResult, Warning } from '../../../directives/adapter.ts';
import { buildConfig } from './build.ts';
import { CADDY_JSON_KEYS } from './keys.ts';
import { readEnv, readFile, type LegacySettings } from './read.ts';

export { LEGACY_KEYS } from './keys.ts';

/** Adapts a legacy file (text, or undefined for the environment-only form). */
export function adaptMercureLegacy(text: string | undefined, file: string | undefined, env: Record<string, string | undefined>): AdaptResult {
  const fromFile: LegacySettings = text === undefined ? new Map() : readFile(text, file ?? 'mercure.yaml');
  const fromEnv = readEnv(env);
  const warnings: Warning[] = [];
  for (const [name, s] of fromEnv) {
    const before = fromFile.get(name);
    if (before?.source.span) {
      warnings.push({ ...before.source.span, message: `${name}: overridden by the environment variable ${s.source.env}` });
    }
    fromFile.set(name, s);
  }
  const built = buildConfig(fromFile, file ?? 'environment');
  return { config: built.config, warnings: [...warnings, ...built.warnings] };
}

/** A file name the legacy server would have read: `mercure.<ext>`, or any YAML file. */
export function looksLegacy(basename: string, text: string): boolean {
  const b = basename.toLowerCase();
  if (b.endsWith('.yaml') || b.endsWith('.yml')) return true;
  if (b !== 'mercure.json') return false;
  // A Caddy JSON config saved as mercure.json stays JSON.
  try {
    const o = JSON.parse(text) as unknown;
    return o !== null && typeof o === 'object' && !Array.isArray(o) && !Object.keys(o).some((k) => CADDY_JSON_KEYS.has(k));
  } catch { return false; }
}
