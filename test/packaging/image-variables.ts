/**
 * The environment variables the container image reads: the `{$VAR}` and
 * `{env.VAR}` placeholders of the Caddyfile it ships (Caddyfile.example, or the
 * php variant's), the Dockerfile's ENV keys, and the variables the binary
 * itself reads. MERCURE_LICENSE is accepted (and ignored) for drop-in use.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');

/** Read by the binary (src/host/runtime.ts, src/cli/common.ts, src/mercure/transport-loader.ts, packaging/sea/entry.ts). */
export const PROCESS_VARIABLES = ['CADDY_ADMIN', 'QS_LOG_LEVEL', 'MERCURE_TRANSPORT_URL', 'QS_HEALTHCHECK_ADMIN', 'HOME'];

/** Variables a Caddyfile text uses, parse-time `{$VAR}` and run-time `{env.VAR}`. */
export function caddyfileVariables(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/\{\$([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}/g)) out.add(m[1]!);
  for (const m of text.matchAll(/\{env\.([A-Za-z_][A-Za-z0-9_]*)\}/g)) out.add(m[1]!);
  return out;
}

/** ENV keys set by the Dockerfile (all stages). */
export function dockerfileEnvKeys(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/^ENV\s+(.+)$/gm)) for (const kv of m[1]!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=/g)) out.add(kv[1]!);
  return out;
}

export function imageVariables(): Set<string> {
  const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');
  return new Set([
    ...caddyfileVariables(read('Caddyfile.example')),
    ...caddyfileVariables(read('packaging/docker/php.Caddyfile')),
    ...dockerfileEnvKeys(read('Dockerfile')),
    ...PROCESS_VARIABLES,
    'MERCURE_LICENSE',
  ]);
}
