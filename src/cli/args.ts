/**
 * Command-line flags, parsed as Caddy's CLI (pflag) parses them:
 * `--name value` and `--name=value`; a string flag takes the next argument
 * even when it starts with a dash (so `--key "-----BEGIN PRIVATE KEY-----…"`
 * works); `-x value` for a flag's short name; `--` ends the flags; `-h` and
 * `--help` ask for the command's help. Errors use pflag's words
 * (`unknown flag: --x`, `flag needs an argument: --x`).
 */
import { QsError } from '../host/errors.ts';

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Placeholder for the value in help (`F`, `ADDR`, …). */
  value?: string;
  /** One line for --help. */
  help: string;
}
export type FlagSpecs = Record<string, FlagSpec>;
export type Flags = Record<string, string | boolean | string[] | undefined>;

export interface Parsed { values: Flags; positionals: string[]; help: boolean }

export function parseFlags(args: string[], specs: FlagSpecs): Parsed {
  const values: Flags = {};
  const positionals: string[] = [];
  let help = false;
  const byShort = new Map(Object.entries(specs).filter(([, s]) => s.short).map(([n, s]) => [s.short!, n]));
  const set = (name: string, spec: FlagSpec, v: string | boolean) => {
    if (spec.multiple) values[name] = [...((values[name] as string[] | undefined) ?? []), String(v)];
    else values[name] = v;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') { positionals.push(...args.slice(i + 1)); break; }
    if (a === '-h' || a === '--help') { help = true; continue; }
    if (!a.startsWith('-') || a === '-') { positionals.push(a); continue; }
    const long = a.startsWith('--');
    const eq = a.indexOf('=');
    const key = long ? a.slice(2, eq < 0 ? undefined : eq) : a.slice(1, eq < 0 ? undefined : eq);
    const name = long ? key : byShort.get(key);
    const spec = name !== undefined ? specs[name] : undefined;
    if (!spec || name === undefined) {
      throw new QsError('ERR_CLI_USAGE', long ? `unknown flag: --${key}` : `unknown shorthand flag: '${key[0]}' in ${a}`);
    }
    const shown = long ? `--${name}` : `-${key}`;
    if (spec.type === 'boolean') {
      if (eq < 0) { set(name, spec, true); continue; }
      const v = a.slice(eq + 1);
      if (v !== 'true' && v !== 'false') throw new QsError('ERR_CLI_USAGE', `invalid argument "${v}" for "${shown}" flag: expected true or false`);
      set(name, spec, v === 'true');
      continue;
    }
    if (eq >= 0) { set(name, spec, a.slice(eq + 1)); continue; }
    if (i + 1 >= args.length) throw new QsError('ERR_CLI_USAGE', `flag needs an argument: ${shown}`);
    set(name, spec, args[++i]!);
  }
  return { values, positionals, help };
}

/** The flags part of a command's help. */
export function flagsHelp(specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([name, s]) => {
    const left = `${s.short ? `-${s.short}, ` : '    '}--${name}${s.type === 'string' ? ` ${s.value ?? 'string'}` : ''}`;
    return [left, s.help + (s.multiple ? ' (may be repeated)' : '')] as const;
  });
  rows.push(['-h, --help', 'help for this command']);
  const width = Math.max(...rows.map(([l]) => l.length));
  return rows.map(([l, h]) => `  ${l.padEnd(width)}   ${h}`).join('\n');
}
