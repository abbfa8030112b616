/**
 * header [<matcher>] [[+|-|?|>]<field> [<value>|<find>] [<replace>]] {
 *     [+|-|?|>]<field> [<value>|<find>] [<replace>]
 *     defer
 *     match { status <codes...>; header <field> [<value>] }
 * }
 *
 * `Field value` sets, `+Field` appends, `-Field` deletes (implies defer),
 * `?Field value` sets only when absent (its own handler with a `require`),
 * `>Field value` sets deferred, three tokens replace by regexp. A trailing
 * `:` on a field is dropped. Headers go on the first line or in the block.
 * Compiles to `{ handler: "headers", response: { set, add, delete, replace, deferred?, require? } }`.
 */
import type { HeaderOpsConfig } from '../src/http/header-ops.ts';
import type { HeadersConfig, ResponseMatcherConfig } from '../src/http/handlers/headers.ts';
import type { RouteConfig } from '../src/http/handler.ts';
import type { Dispenser } from '../src/caddyfile/dispenser.ts';
import type { ConfigValue, DirectiveHelper } from './registry.ts';

/** Go's CanonicalMIMEHeaderKey: `content-type` → `Content-Type` (left alone if it has odd characters). */
export function canonicalHeader(name: string): string {
  if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) return name;
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
}

type RespOps = HeaderOpsConfig & { deferred?: boolean; require?: ResponseMatcherConfig };

/** Applies one header operation line to ops (shared with request_header and reverse_proxy). */
export function applyHeaderOp(d: Dispenser, ops: RespOps, field: string, value: string, replacement: string | undefined, response: boolean): void {
  if (field.startsWith('+')) {
    const f = canonicalHeader(field.slice(1));
    (ops.add ??= {})[f] = [...(ops.add[f] ?? []), value];
  } else if (field.startsWith('-')) {
    (ops.delete ??= []).push(field.slice(1));
    if (response) ops.deferred = true;
  } else if (field.startsWith('?')) {
    if (!response) throw d.err(`${field}: the default header modifier ('?') can only be used on response headers; for conditional manipulation of request headers, use matchers`);
    const f = canonicalHeader(field.slice(1));
    ((ops.require ??= {}).headers ??= {})[f] = null;
    (ops.set ??= {})[f] = [value];
  } else if (replacement !== undefined) {
    if (field.startsWith('>') && response) ops.deferred = true;
    const f = canonicalHeader(field.replace(/^[+\-?>]+/, ''));
    (ops.replace ??= {})[f] = [...(ops.replace[f] ?? []), { search_regexp: value, replace: replacement }];
  } else if (field.startsWith('>')) {
    (ops.set ??= {})[canonicalHeader(field.slice(1))] = [value];
    if (response) ops.deferred = true;
  } else {
    (ops.set ??= {})[canonicalHeader(field)] = [value];
  }
}

/** Parses `match { status …; header … }` into a response matcher. */
export function parseResponseMatch(d: Dispenser): ResponseMatcherConfig {
  const m: ResponseMatcherConfig = {};
  for (const line of d.block()) {
    if (line.name === 'status') {
      for (const t of line.args(1, Infinity)) {
        const s = t.text.replace(/xx$/i, '');
        if (!/^\d+$/.test(s)) throw line.err(`invalid status code '${t.text}'`, t, { code: 'ERR_CFG_ARGS' });
        (m.status_code ??= []).push(Number(s));
      }
    } else if (line.name === 'header') {
      const [f, ...vals] = line.strings(1, Infinity);
      const neg = f!.startsWith('!');
      const name = canonicalHeader(neg ? f!.slice(1) : f!);
      (m.headers ??= {})[name] = neg ? null : [...(m.headers[name] ?? []), ...vals];
    } else throw line.err(`unrecognized response matcher '${line.name}'`, line.span, { code: 'ERR_CFG_UNKNOWN', expected: 'status or header' });
  }
  return m;
}

function isEmpty(o: RespOps): boolean { return Object.keys(o).length === 0; }

export function parseHeader(d: Dispenser, h: DirectiveHelper): ConfigValue[] {
  const match = h.matcher(d);
  const ops: RespOps = {};
  const withRequire: RespOps = {};
  const hasArgs = d.remainingCount() > 0;
  if (hasArgs) {
    const [f, v, r] = d.strings(1, 3);
    applyHeaderOp(d, ops, f!, v ?? '', r, true);
  }
  for (const line of d.block()) {
    if (line.name === 'defer') { line.args(0); ops.deferred = true; continue; }
    if (line.name === 'match') { ops.require = parseResponseMatch(line); continue; }
    if (hasArgs) throw line.err('cannot specify headers in both arguments and block');
    const field = line.name.replace(/:$/, '');
    const [v, r] = line.strings(0, 2);
    applyHeaderOp(line, field.startsWith('?') ? withRequire : ops, field, v ?? '', r, true);
  }
  const out: ConfigValue[] = [];
  for (const o of [ops, withRequire]) {
    if (isEmpty(o)) continue;
    const handler: HeadersConfig = { handler: 'headers', response: o, '@span': d.where };
    const route: RouteConfig = match ? { match, handle: [handler] } : { handle: [handler] };
    out.push({ class: 'route', value: route, directive: 'header', span: d.span });
  }
  if (!out.length) throw d.argErr();
  return out;
}
