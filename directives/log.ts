/**
 * log [<name>] {
 *     hostnames <hostnames...>
 *     no_hostname
 *     output stdout | stderr | discard | file <path> { roll_size …; roll_keep …; … }
 *     format json | console | filter {
 *         wrap <encoder>
 *         fields { <field> <filter> … }     # or the field lines directly
 *     }
 *     level DEBUG | INFO | WARN | ERROR
 * }
 *
 * Field filters: delete | replace <value> | hash | regexp <re> <value> |
 * ip_mask <v4bits> [<v6bits>] | ip_mask { ipv4 <bits>; ipv6 <bits> } |
 * query { replace|hash|delete <param> [<value>] } | cookie { … }.
 * Yields class `log`: an AccessLogConfig (`name`, `writer`, `encoder`, `level`,
 * and `hosts` when `hostnames` is given); the adapter adds the site's hosts.
 */
import type { AccessLogConfig, FieldFilterConfig, LogEncoderConfig, LogWriterConfig } from '../src/http/access-log.ts';
import { unknownName } from '../src/host/errors.ts';
import type { Dispenser } from '../src/caddyfile/dispenser.ts';
import type { ConfigValue } from './registry.ts';
import { parseEnum, parseInt10 } from '../src/caddyfile/values.ts';

function parseOutput(d: Dispenser): LogWriterConfig {
  const kind = d.nextArg();
  if (!kind) throw d.argErr();
  switch (kind.text) {
    case 'stdout': case 'stderr': case 'discard': d.done(); d.noBlock(); return { output: kind.text };
    case 'file': {
      const out: LogWriterConfig = { output: 'file', filename: d.string() };
      for (const line of d.block()) out[line.name] = line.remainingCount() ? line.strings(0, Infinity).join(' ') : true;
      return out;
    }
    default: throw d.err(`log output '${kind.text}' is not supported by this server`, kind, { expected: 'stdout, stderr, discard or file' });
  }
}

function parseFilter(d: Dispenser): FieldFilterConfig {
  const name = d.nextArg();
  if (!name) throw d.argErr();
  switch (name.text) {
    case 'delete': d.done(); return { filter: 'delete' };
    case 'hash': d.done(); return { filter: 'hash' };
    case 'replace': return { filter: 'replace', value: d.strings(0, 1)[0] ?? '' };
    case 'regexp': { const [re, v] = d.strings(2); return { filter: 'regexp', regexp: re, value: v }; }
    case 'ip_mask': {
      const out: FieldFilterConfig = { filter: 'ip_mask' };
      const a = d.args(0, 2);
      if (a[0]) out.ipv4_cidr = parseInt10(a[0], 0, 32);
      if (a[1]) out.ipv6_cidr = parseInt10(a[1], 0, 128);
      for (const line of d.block()) {
        if (line.name === 'ipv4') out.ipv4_cidr = parseInt10(line.args(1)[0]!, 0, 32);
        else if (line.name === 'ipv6') out.ipv6_cidr = parseInt10(line.args(1)[0]!, 0, 128);
        else throw unknownName('subdirective in ip_mask', line.name, line.span, ['ipv4', 'ipv6']);
      }
      return out;
    }
    case 'query': case 'cookie': {
      d.done();
      const actions: NonNullable<FieldFilterConfig['actions']> = [];
      for (const line of d.block()) {
        const type = parseEnum({ text: line.name, quote: '', span: line.span }, ['replace', 'hash', 'delete'] as const);
        const [p, v] = line.strings(1, type === 'replace' ? 2 : 1);
        const key = name.text === 'query' ? 'parameter' : 'name';
        actions.push({ type, [key]: p, ...(type === 'replace' ? { value: v ?? '' } : {}) });
      }
      return { filter: name.text, actions };
    }
    default: throw d.err(`unknown log field filter '${name.text}'`, name, { code: 'ERR_CFG_UNKNOWN', expected: 'delete, replace, hash, regexp, ip_mask, query or cookie' });
  }
}

function parseFormat(d: Dispenser): LogEncoderConfig {
  const kind = d.nextArg();
  if (!kind) throw d.argErr();
  if (kind.text === 'json' || kind.text === 'console') { d.done(); return { format: kind.text }; }
  if (kind.text !== 'filter') throw d.err(`log format '${kind.text}' is not supported by this server`, kind, { expected: 'json, console or filter' });
  d.done();
  const out: LogEncoderConfig = { format: 'filter', fields: {} };
  for (const line of d.block()) {
    if (line.name === 'wrap') { out.wrap = parseFormat(line); continue; }
    if (line.name === 'fields') {
      for (const f of line.block()) out.fields![f.name] = parseFilter(f);
      continue;
    }
    out.fields![line.name] = parseFilter(line);
  }
  return out;
}

export function parseLog(d: Dispenser): ConfigValue[] {
  const out: AccessLogConfig = {};
  const name = d.args(0, 1)[0];
  if (name) out.name = name.text;
  for (const line of d.block()) {
    switch (line.name) {
      case 'hostnames': out.hosts = line.strings(1, Infinity); break;
      case 'no_hostname': line.args(0); (out as Record<string, unknown>).no_hostname = true; break;
      case 'output': out.writer = parseOutput(line); break;
      case 'format': out.encoder = parseFormat(line); break;
      case 'level': out.level = parseEnum(line.args(1)[0]!, ['DEBUG', 'INFO', 'WARN', 'ERROR', 'debug', 'info', 'warn', 'error'] as const).toUpperCase(); break;
      default: throw unknownName('subdirective in log', line.name, line.span, ['hostnames', 'no_hostname', 'output', 'format', 'level']);
    }
  }
  return [{ class: 'log', value: out, directive: 'log', span: d.span }];
}
