/**
 * Table-driven subdirective parsing. A directive describes its block as a
 * table from subdirective name to arity and value kind; unknown names fail
 * with the list of known ones and a did-you-mean. Write a custom `parse` only
 * where the table cannot express the rule.
 */
import { unknownName } from '../host/errors.ts';
import { formatSpan, type Span } from '../../grammar/ast.ts';
import type { Dispenser } from './dispenser.ts';
import { parseBool, parseDuration, parseFloat10, parseInt10, parseSize } from './values.ts';

export type ValueKind = 'flag' | 'string' | 'strings' | 'int' | 'uint' | 'float' | 'duration' | 'bool' | 'size';

export interface SubSpec {
  /** Shorthand value parsers; `flag` takes no argument and yields true. */
  kind?: ValueKind;
  /** Custom parser: gets the line's dispenser (positioned after the name). */
  parse?: (d: Dispenser) => unknown;
  /** JSON key to store under; defaults to the subdirective name. */
  key?: string;
  /** May appear more than once: values are collected into an array (`strings` values are concatenated). */
  repeat?: boolean;
  /**
   * A `flag` read as the reference Mercure hub reads it: giving it twice is
   * harmless, and words after it on its line are ignored (a one-line
   * `MERCURE_EXTRA_DIRECTIVES='anonymous subscriptions'` sets only
   * `anonymous` there), with a warning naming what was ignored.
   */
  lenientFlag?: boolean;
}

/** Where parseBlock reports what it accepts but ignores. */
export type Warn = (span: Span, message: string) => void;

export type SubTable = Record<string, SubSpec>;

/** Parses one line's value by its spec. */
function parseValue(d: Dispenser, spec: SubSpec): unknown {
  if (spec.parse) return spec.parse(d);
  if (d.hasBlock()) d.noBlock();
  switch (spec.kind ?? 'string') {
    case 'flag': d.args(0); return true;
    case 'string': return d.string();
    case 'strings': return d.strings(1, Infinity);
    case 'int': return parseInt10(d.args(1)[0]!);
    case 'uint': return parseInt10(d.args(1)[0]!, 0);
    case 'float': return parseFloat10(d.args(1)[0]!);
    case 'duration': return parseDuration(d.args(1)[0]!);
    case 'bool': return d.remainingCount() === 0 ? true : parseBool(d.args(1)[0]!);
    case 'size': return parseSize(d.args(1)[0]!);
  }
}

/**
 * Parses every line of d's block against table, into a plain object.
 * `what` names the block in errors ("mercure", "transport bolt").
 * A repeated non-repeatable subdirective is an error, as silent overrides hide typos.
 */
export function parseBlock(d: Dispenser, table: SubTable, what: string, into: Record<string, unknown> = {}, warn?: Warn): Record<string, unknown> {
  const seen = new Map<string, string>();
  for (const line of d.block()) {
    const spec = table[line.name];
    if (!spec) throw unknownName(`subdirective in ${what}`, line.name, line.span, Object.keys(table));
    const key = spec.key ?? line.name;
    if (spec.lenientFlag) {
      if (line.hasBlock()) line.noBlock();
      const extra = line.remaining();
      if (extra.length) {
        const words = extra.map((t) => `'${t.text}'`).join(' ');
        warn?.(extra[0]!.span, `${words} after '${line.name}' ignored, as the reference hub ignores words after a flag; put each subdirective on its own line`);
      }
      into[key] = true;
      continue;
    }
    const value = parseValue(line, spec);
    if (spec.repeat) {
      const prev = (into[key] as unknown[] | undefined) ?? [];
      into[key] = spec.kind === 'strings' ? [...prev, ...(value as unknown[])] : [...prev, value];
    } else {
      const first = seen.get(key);
      if (first) throw line.err(`'${line.name}' is set twice in ${what} (first at ${first})`, line.span, { code: 'ERR_CFG_VALUE' });
      seen.set(key, formatSpan(line.span));
      into[key] = value;
    }
  }
  return into;
}
