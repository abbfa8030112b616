/**
 * Value parsers shared by directives: durations, sizes, numbers, booleans.
 * Each throws a positioned ConfigError naming what was expected.
 */
import type { Token } from '../../grammar/ast.ts';
import { ConfigError } from '../host/errors.ts';
import { formatDuration, parseDurationString } from '../host/duration.ts';

/**
 * A Caddy duration argument (`40s`, `1h30m`, `0`; a bare number other than 0
 * is an error, as in Caddy). Returns the normalised string for the JSON config,
 * so adapt output stays readable; modules read it with toMs().
 */
export function parseDuration(t: Token): string {
  const ms = parseDurationString(t.text);
  if (ms === undefined) {
    throw new ConfigError('ERR_CFG_ARGS', t.span, `invalid duration '${t.text}'`, { expected: 'a duration such as 40s, 10m, 1h30m or 0' });
  }
  return formatDuration(ms);
}

export function parseInt10(t: Token, min = -Infinity, max = Infinity): number {
  if (!/^[+-]?\d+$/.test(t.text)) throw new ConfigError('ERR_CFG_ARGS', t.span, `invalid integer '${t.text}'`, { expected: 'an integer' });
  const n = Number(t.text);
  if (n < min || n > max) {
    throw new ConfigError('ERR_CFG_VALUE', t.span, `${t.text} is out of range`, { expected: `an integer from ${min} to ${max}` });
  }
  return n;
}

export function parseFloat10(t: Token): number {
  const n = Number(t.text);
  if (t.text.trim() === '' || !Number.isFinite(n)) throw new ConfigError('ERR_CFG_ARGS', t.span, `invalid number '${t.text}'`, { expected: 'a number' });
  return n;
}

export function parseBool(t: Token): boolean {
  if (t.text === 'true' || t.text === 'on') return true;
  if (t.text === 'false' || t.text === 'off') return false;
  throw new ConfigError('ERR_CFG_ARGS', t.span, `invalid boolean '${t.text}'`, { expected: 'true or false' });
}

const SIZE: Record<string, number> = { '': 1, b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3 };

/** Byte sizes: `1024`, `10MB`, `1MiB`, `512kb`. */
export function parseSize(t: Token): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(t.text);
  const mult = m ? SIZE[m[2]!.toLowerCase()] : undefined;
  if (!m || mult === undefined) throw new ConfigError('ERR_CFG_ARGS', t.span, `invalid size '${t.text}'`, { expected: 'a size such as 1024, 512KB or 10MiB' });
  return Math.round(Number(m[1]) * mult);
}

export function parseEnum<T extends string>(t: Token, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(t.text)) return t.text as T;
  throw new ConfigError('ERR_CFG_ARGS', t.span, `invalid value '${t.text}'`, { expected: `one of ${allowed.join(', ')}` });
}
