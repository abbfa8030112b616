/**
 * `quicksilver list-modules [--packages] [--versions] [--skip-standard]`, as
 * Caddy prints it: the standard modules (those Caddy itself has), a count,
 * then the non-standard ones (what a Caddy build gets from plugins: the
 * Mercure hub and its transports, rate_limit, the Redis storage), a count.
 */
import type { Flags } from './args.ts';
import { packageVersion } from './commands.ts';

/** Module IDs a stock Caddy build has; the rest are plugins there. */
const NON_STANDARD = [/^http\.handlers\.mercure$/, /^mercure\./, /^http\.handlers\.rate_limit$/, /^caddy\.storage\.redis$/];

/** The package (plugin) that provides a module, as Caddy's --packages names it. */
function packageOf(id: string): string {
  if (/mercure/.test(id)) return 'github.com/dunglas/mercure/caddy (quicksilver)';
  if (/rate_limit/.test(id)) return 'github.com/mholt/caddy-ratelimit (quicksilver)';
  if (id === 'caddy.storage.redis') return 'github.com/pberkel/caddy-storage-redis (quicksilver)';
  return 'github.com/caddyserver/caddy/v2 (quicksilver)';
}

export async function listModulesCommand(f: Flags): Promise<number> {
  const [{ registerStandardModules }, { listModules }] = await Promise.all([import('../runtime/standard.ts'), import('../host/module.ts')]);
  registerStandardModules();
  const all = listModules();
  const nonStandard = all.filter((id) => NON_STANDARD.some((re) => re.test(id)));
  const standard = all.filter((id) => !nonStandard.includes(id));
  const version = `v${packageVersion()}`;
  const line = (id: string) => id + (f.versions ? ` ${version}` : '') + (f.packages ? ` ${packageOf(id)}` : '');
  const out: string[] = [];
  if (!f['skip-standard']) {
    out.push(...standard.map(line));
    out.push('', `  Standard modules: ${standard.length}`, '');
  }
  out.push(...nonStandard.map(line));
  out.push('', `  Non-standard modules: ${nonStandard.length}`, '', '  Unknown modules: 0');
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}
