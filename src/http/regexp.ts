/**
 * Go (RE2) regular expressions as written in Caddyfiles, turned into JS ones:
 * `(?P<name>…)` → `(?<name>…)`, a leading `(?i)`/`(?s)`/`(?m)` → flags, and
 * replacement templates `${1}`/`${name}` → `$1`/`$<name>`.
 */
import { ConfigError } from '../host/errors.ts';

/** Compiles a Go-syntax pattern; throws ERR_CFG_VALUE when invalid. */
export function goRegExp(pattern: string, extraFlags = ''): RegExp {
  let p = pattern.replace(/\(\?P</g, '(?<');
  let flags = extraFlags;
  const lead = /^\(\?([ims]+)\)/.exec(p);
  if (lead) { flags += lead[1]!.replace(/[^ims]/g, ''); p = p.slice(lead[0].length); }
  try {
    return new RegExp(p, [...new Set(flags)].join(''));
  } catch (e) {
    throw new ConfigError('ERR_CFG_VALUE', undefined, `invalid regular expression '${pattern}': ${(e as Error).message}`);
  }
}

/** Go replacement template → JS replacement string. */
export function goReplacement(tpl: string): string {
  return tpl.replace(/\$\{(\w+)\}|\$(\d+)/g, (_m, a: string | undefined, b: string | undefined) => {
    const name = a ?? b!;
    return /^\d+$/.test(name) ? `$${name}` : `$<${name}>`;
  });
}
