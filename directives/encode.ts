/**
 * encode [<matcher>] [<formats...>] {
 *     gzip [<level>]
 *     zstd [<level>]        # fastest | default | better | best, or a number
 *     br [<level>]
 *     minimum_length <bytes>
 *     match { status <codes...>; header <field> [<value>] }
 * }
 *
 * No formats = `zstd gzip`. The preference order is the order written.
 * Compiles to `{ handler: "encode", encodings: { zstd: {}, gzip: {} }, prefer, minimum_length?, match? }`.
 */
import type { EncodeConfig } from '../src/http/handlers/encode.ts';
import type { Dispenser } from '../src/caddyfile/dispenser.ts';
import { parseResponseMatch } from './header.ts';
import { parseInt10 } from '../src/caddyfile/values.ts';

const FORMATS = ['gzip', 'zstd', 'br'];

export function parseEncode(d: Dispenser): EncodeConfig {
  const encodings: Record<string, { level?: number | string }> = {};
  const prefer: string[] = [];
  const add = (name: string, at: Dispenser | undefined, level?: number | string) => {
    if (!FORMATS.includes(name)) throw (at ?? d).err(`finding encoder module 'http.encoders.${name}': module not registered`, undefined, { code: 'ERR_CFG_UNKNOWN' });
    encodings[name] = level === undefined ? {} : { level };
    if (!prefer.includes(name)) prefer.push(name);
  };
  for (const t of d.remaining()) {
    if (!FORMATS.includes(t.text)) throw d.err(`finding encoder module 'http.encoders.${t.text}': module not registered`, t, { code: 'ERR_CFG_UNKNOWN' });
    add(t.text, undefined);
  }
  const out: EncodeConfig = { handler: 'encode' };
  for (const line of d.block()) {
    switch (line.name) {
      case 'minimum_length': out.minimum_length = parseInt10(line.args(1)[0]!, 0); break;
      case 'match': out.match = parseResponseMatch(line); break;
      default: {
        let level: number | string | undefined;
        const a = line.args(0, 1)[0];
        if (a) level = /^-?\d+$/.test(a.text) ? Number(a.text) : a.text;
        for (const sub of line.block()) {
          if (sub.name !== 'level') throw sub.err(`unrecognized subdirective '${sub.name}'`, sub.span, { code: 'ERR_CFG_UNKNOWN' });
          const v = sub.string();
          level = /^-?\d+$/.test(v) ? Number(v) : v;
        }
        add(line.name, line, level);
      }
    }
  }
  if (!prefer.length) { add('zstd', undefined); add('gzip', undefined); }
  out.encodings = encodings as EncodeConfig['encodings'];
  out.prefer = prefer;
  return out;
}
