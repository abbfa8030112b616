/**
 * `http.matchers.expression`: a small subset of CEL, enough for what the
 * Caddyfile generates and simple hand-written conditions. NOT full CEL.
 * Supported: placeholders `{…}` (numeric text compares as a number), string,
 * int, bool and list literals, `== != < <= > >=`, `in`, `&& || !`, parens,
 * and the functions path(…), method(…), host(…), protocol(…) with string
 * arguments. Anything else is a config error at provision.
 * Example (handle_errors 404 410): `{http.error.status_code} in [404, 410]`.
 */
import type { ModuleContext } from '../../host/module.ts';
import { ConfigError } from '../../host/errors.ts';
import type { HttpContext, RequestMatcher } from '../handler.ts';

type Value = string | number | boolean | Value[];
type Node = (c: HttpContext) => Value;

const TOKEN = /\s*(?:(\{[^}]*\})|('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(\d+)|(==|!=|<=|>=|&&|\|\||[<>!()[\],])|([A-Za-z_]\w*))/y;

function tokenize(src: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(src);
    if (!m) throw new Error(`unexpected input at ${pos}: '${src.slice(pos, pos + 10)}'`);
    out.push(m[0].trim());
    pos = TOKEN.lastIndex;
  }
  return out;
}

const num = (v: Value): Value => (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v);
const eq = (a: Value, b: Value): boolean => {
  const x = num(a); const y = num(b);
  return typeof x === typeof y ? x === y : String(a) === String(b);
};

export type FunctionMatcher = (name: string, args: string[]) => Promise<RequestMatcher>;

class Parser {
  #t: string[];
  #i = 0;
  fns: { name: string; args: string[]; slot: { m?: RequestMatcher } }[] = [];
  constructor(tokens: string[]) { this.#t = tokens; }
  peek() { return this.#t[this.#i]; }
  take(expect?: string) {
    const t = this.#t[this.#i++];
    if (t === undefined || (expect && t !== expect)) throw new Error(`expected ${expect ?? 'more input'}, got ${t ?? 'end'}`);
    return t;
  }
  parse(): Node { const n = this.or(); if (this.peek() !== undefined) throw new Error(`unexpected '${this.peek()}'`); return n; }
  or(): Node { let l = this.and(); while (this.peek() === '||') { this.take(); const a = l; const b = this.and(); l = (c) => Boolean(a(c)) || Boolean(b(c)); } return l; }
  and(): Node { let l = this.cmp(); while (this.peek() === '&&') { this.take(); const a = l; const b = this.cmp(); l = (c) => Boolean(a(c)) && Boolean(b(c)); } return l; }
  cmp(): Node {
    const l = this.unary();
    const op = this.peek();
    if (!op || !['==', '!=', '<', '<=', '>', '>=', 'in'].includes(op)) return l;
    this.take();
    const r = this.unary();
    switch (op) {
      case '==': return (c) => eq(l(c), r(c));
      case '!=': return (c) => !eq(l(c), r(c));
      case 'in': return (c) => { const v = l(c); const list = r(c); return Array.isArray(list) && list.some((x) => eq(v, x)); };
      default: return (c) => {
        const a = Number(num(l(c))); const b = Number(num(r(c)));
        return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
      };
    }
  }
  unary(): Node {
    if (this.peek() === '!') { this.take(); const n = this.unary(); return (c) => !n(c); }
    return this.atom();
  }
  atom(): Node {
    const t = this.take();
    if (t === '(') { const n = this.or(); this.take(')'); return n; }
    if (t === '[') {
      const items: Node[] = [];
      while (this.peek() !== ']') { items.push(this.or()); if (this.peek() === ',') this.take(); }
      this.take(']');
      return (c) => items.map((n) => n(c));
    }
    if (t.startsWith('{')) return (c) => c.replace(t, true);
    if (t.startsWith("'") || t.startsWith('"')) { const s = t.slice(1, -1).replace(/\\(.)/g, '$1'); return () => s; }
    if (/^\d+$/.test(t)) { const n = Number(t); return () => n; }
    if (t === 'true' || t === 'false') { const b = t === 'true'; return () => b; }
    if (this.peek() === '(') {
      this.take('(');
      const args: string[] = [];
      while (this.peek() !== ')') {
        const a = this.take();
        if (!/^['"]/.test(a)) throw new Error(`${t}(): only string arguments are supported`);
        args.push(a.slice(1, -1));
        if (this.peek() === ',') this.take();
      }
      this.take(')');
      const slot: { m?: RequestMatcher } = {};
      this.fns.push({ name: t, args, slot });
      return (c) => slot.m!.match(c);
    }
    throw new Error(`unsupported token '${t}'`);
  }
}

const FUNCTIONS: Record<string, (args: string[]) => unknown> = {
  path: (a) => a, method: (a) => a, host: (a) => a, protocol: (a) => a[0],
};

export class ExpressionMatcher implements RequestMatcher {
  /** Lifecycle: nothing to check, release. */
  validate(): void {}
  cleanup(): void {}
  readonly expr: string;
  #node: Node | undefined;
  #parser: Parser | undefined;

  constructor(config: unknown) {
    const expr = typeof config === 'string' ? config : (config as { expr?: string })?.expr;
    if (typeof expr !== 'string') throw new ConfigError('ERR_CFG_JSON', undefined, 'expression matcher: expected a string');
    this.expr = expr;
    try {
      this.#parser = new Parser(tokenize(expr));
      this.#node = this.#parser.parse();
    } catch (e) {
      throw new ConfigError('ERR_CFG_VALUE', undefined, `expression matcher: '${expr}': ${(e as Error).message} (only a small CEL subset is supported)`);
    }
  }

  async provision(ctx: ModuleContext): Promise<void> {
    for (const f of this.#parser?.fns ?? []) {
      const make = FUNCTIONS[f.name];
      if (!make) throw new ConfigError('ERR_CFG_VALUE', undefined, `expression matcher: unsupported function ${f.name}()`);
      f.slot.m = await ctx.load<RequestMatcher>(`http.matchers.${f.name}`, make(f.args) as never);
    }
  }

  match(c: HttpContext): boolean { return Boolean(this.#node!(c)); }
}
