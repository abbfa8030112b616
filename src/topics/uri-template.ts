/**
 * URI templates as topic selectors, parsed the way the Go hub does it:
 * yosida95/uritemplate v3.0.2's parser and `Template.Regexp()`.
 *
 * That regex is looser than RFC 6570 expansion (every expression optional,
 * variable names unchecked, prefix modifiers ignored) and those differences are
 * observable, so we reproduce it. We do not hand the regex to V8, though:
 * adjacent expressions (`{a}{b}{c}…`) make it ambiguous, and a backtracking
 * engine then takes exponential time on a topic that almost matches, while Go's
 * RE2 is linear. Selectors come from subscribers, so we compile the same
 * language to a small NFA and simulate it (Thompson/Pike style): O(topic ×
 * template), never worse (template-nfa.ts). `templateRegexpSource()` still
 * builds the Go regex text, for documentation and for the differential test.
 */

/** One `{…}` expression after parsing. */
export interface Expression {
  op: Operator;
  vars: { name: string; explode: boolean }[];
}
/** A parsed template: literal runs and expressions, in order. */
export type Part = string | Expression;

/** What an expression operator adds: prefix, separator, `=` for named ones, reserved characters. */
export interface Operator { first: string; sep: string; named: boolean; reserved: boolean }

// yosida95 expression.init(): prefix, separator, named (adds `=`), allowed class.
const OPERATORS: Record<string, Operator> = {
  '': { first: '', sep: ',', named: false, reserved: false },
  '+': { first: '', sep: ',', named: false, reserved: true },
  '#': { first: '#', sep: ',', named: false, reserved: true },
  '.': { first: '.', sep: '.', named: false, reserved: false },
  '/': { first: '/', sep: '/', named: false, reserved: false },
  ';': { first: ';', sep: ';', named: true, reserved: false },
  '?': { first: '?', sep: '&', named: true, reserved: false },
  '&': { first: '&', sep: '&', named: true, reserved: false },
};

/** RFC 3986 unreserved characters. */
export const UNRESERVED = '-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~';
/** RFC 3986 reserved characters (gen-delims and sub-delims). */
export const RESERVED = "!#$&'()*+,/:;=?@[]";
const RE_UNRESERVED = '\\x2d\\x2e\\x30-\\x39\\x41-\\x5a\\x5f\\x61-\\x7a\\x7e';
const RE_RESERVED = '\\x21\\x23\\x24\\x26-\\x2c\\x2f\\x3a\\x3b\\x3d\\x3f\\x40\\x5b\\x5d';

/** ASCII hex digit test on a char code. */
export const isHex = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
const isVarchar = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 95 || (c >= 97 && c <= 122);

/** rangeLiterals of v3.0.2: ASCII printable minus space " < > \ ^ ` { | }, plus ucschar/iprivate. */
function isLiteral(cp: number): boolean {
  if (cp < 0x80) {
    return cp === 0x21 || (cp >= 0x23 && cp <= 0x24) || (cp >= 0x26 && cp <= 0x3b) || cp === 0x3d ||
      (cp >= 0x3f && cp <= 0x5b) || cp === 0x5d || cp === 0x5f || (cp >= 0x61 && cp <= 0x7a) || cp === 0x7e;
  }
  if (cp <= 0xffff) {
    return (cp >= 0xa0 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfdcf) || (cp >= 0xfdf0 && cp <= 0xffef);
  }
  return (cp & 0xffff) <= 0xfffd && !(cp >= 0xe0000 && cp < 0xe1000);
}

/** Parses like yosida95 v3.0.2 `parseURITemplate`; undefined when the template is invalid. */
export function parseTemplate(raw: string): Part[] | undefined {
  const parts: Part[] = [];
  let literal = '';
  let i = 0;
  const triplet = (): boolean => {
    if (i + 2 >= raw.length) return false;
    if (!isHex(raw.charCodeAt(i + 1)) || !isHex(raw.charCodeAt(i + 2))) return false;
    i += 3;
    return true;
  };
  while (i < raw.length) {
    const cp = raw.codePointAt(i)!;
    if (cp === 0x7b) { // '{'
      if (literal) parts.push(literal);
      literal = '';
      const expr = parseExpression(raw, i + 1);
      if (!expr) return undefined;
      parts.push(expr.expression);
      i = expr.end;
    } else if (cp === 0x25) { // '%'
      const start = i;
      if (!triplet()) return undefined;
      literal += raw.slice(start, i);
    } else {
      if (cp >= 0xd800 && cp <= 0xdfff) return undefined; // lone surrogate: not valid UTF-8
      if (!isLiteral(cp)) return undefined;
      const size = cp > 0xffff ? 2 : 1;
      literal += raw.slice(i, i + size);
      i += size;
    }
  }
  if (literal) parts.push(literal);
  return parts;
}

/** Parses the inside of `{…}` starting after the brace; returns the index after `}`. */
function parseExpression(raw: string, start: number): { expression: Expression; end: number } | undefined {
  let i = start;
  if (i >= raw.length) return undefined;
  const c0 = raw[i]!;
  if ('=,!@|'.includes(c0)) return undefined; // op-reserved
  let opKey = '';
  if ('+#./;?&'.includes(c0)) { opKey = c0; i++; }
  const vars: Expression['vars'] = [];
  for (;;) {
    // varname: varchars, %XX, single inner dots
    const nameStart = i;
    for (;;) {
      if (i >= raw.length) return undefined;
      const c = raw.charCodeAt(i);
      if (c === 0x25) {
        if (!(i + 2 < raw.length) || !isHex(raw.charCodeAt(i + 1)) || !isHex(raw.charCodeAt(i + 2))) return undefined;
        i += 3;
      } else if (c === 0x2e) {
        if (i === nameStart || raw.charCodeAt(i - 1) === 0x2e) return undefined;
        i++;
      } else if (isVarchar(c)) {
        i++;
      } else break;
    }
    const name = raw.slice(nameStart, i);
    if (name === '' || name.endsWith('.')) return undefined;
    let explode = false;
    const c = raw[i];
    if (c === '*') { explode = true; i++; }
    else if (c === ':') {
      // max-length in (0, 9999]; parsed, then ignored by the regex
      i++;
      let maxlen = 0;
      const digitsStart = i;
      while (i < raw.length && raw.charCodeAt(i) >= 48 && raw.charCodeAt(i) <= 57) {
        maxlen = maxlen * 10 + raw.charCodeAt(i) - 48;
        if (maxlen === 0 || maxlen > 9999) return undefined;
        i++;
      }
      if (i === digitsStart) return undefined;
    } else if (c !== ',' && c !== '}') return undefined;
    vars.push({ name, explode });
    const sep = raw[i];
    if (sep === ',') { i++; continue; }
    if (sep === '}') return { expression: { op: OPERATORS[opKey]!, vars }, end: i + 1 };
    return undefined;
  }
}

/** How many `sep body` repetitions follow the first body: -1 unbounded, 0 none. */
export function repetitions(e: Expression): number {
  if (e.vars.length === 1 && !e.vars[0]!.explode) return 0;
  return e.vars.some((v) => v.explode) ? -1 : e.vars.length - 1;
}

const quoteMeta = (s: string): string => s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');

function classSource(op: Operator, named: boolean): string {
  let s = '(?:(?:[';
  if (!op.reserved) s += named ? '\\x2c\\x3d' : '\\x2c';
  s += RE_UNRESERVED;
  if (op.reserved) s += RE_RESERVED;
  return s + ']|%[0-9A-Fa-f]{2})*)';
}

/** The regex yosida95 v3.0.2 builds for a template (Go syntax that JS reads the same way); undefined when invalid. */
export function templateRegexpSource(raw: string): string | undefined {
  const parts = parseTemplate(raw);
  if (!parts) return undefined;
  let s = '^';
  for (const p of parts) {
    if (typeof p === 'string') { s += `(?:${quoteMeta(p)})`; continue; }
    const { op, vars } = p;
    const max = repetitions(p);
    if (op.first) s += '(?:' + quoteMeta(op.first);
    s += '(' + classSource(op, op.named || vars[0]!.explode);
    if (max !== 0) s += `(?:${quoteMeta(op.sep)}${classSource(op, op.named || max < 0)})` + (max > 0 ? `{0,${max}}` : '*');
    s += ')';
    if (op.first) s += ')';
    s += '?';
  }
  return s + '$';
}
