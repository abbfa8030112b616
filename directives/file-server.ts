/**
 * file_server [<matcher>] [browse] {
 *     root <path>
 *     hide <files...>
 *     index <filenames...>
 *     precompressed [<formats...>]     # default order br zstd gzip
 *     status <code>
 *     disable_canonical_uris
 *     pass_thru
 * }
 *
 * Directory listings (`browse`) are not supported and rejected. The
 * Caddyfile itself is always hidden. Compiles to `{ handler: "file_server", … }`.
 */
import type { FileServerConfig } from '../src/http/handlers/file-server.ts';
import type { Dispenser } from '../src/caddyfile/dispenser.ts';
import { unknownName } from '../src/host/errors.ts';
import { statusValue } from './respond.ts';

const SUBS = ['fs', 'root', 'hide', 'index', 'browse', 'precompressed', 'status', 'disable_canonical_uris', 'pass_thru', 'etag_file_extensions'];

export function parseFileServer(d: Dispenser): FileServerConfig {
  const out: FileServerConfig = { handler: 'file_server' };
  const browse = () => d.err('file_server: browse (directory listings) is not supported by this server', undefined, { code: 'ERR_CFG_VALUE' });
  const args = d.args(0, 1);
  if (args.length === 1) { if (args[0]!.text !== 'browse') throw d.argErr(); throw browse(); }
  for (const line of d.block()) {
    switch (line.name) {
      case 'root': out.root = line.string(); break;
      case 'hide': out.hide = [...(out.hide ?? []), ...line.strings(1, Infinity)]; break;
      case 'index': out.index_names = line.strings(1, Infinity); break;
      case 'browse': throw browse();
      case 'precompressed': {
        const order = line.strings(0, Infinity);
        const list = order.length ? order : ['br', 'zstd', 'gzip'];
        for (const f of list) if (!['br', 'zstd', 'gzip'].includes(f)) throw line.err(`unknown precompressed format '${f}'`, undefined, { expected: 'br, zstd or gzip' });
        out.precompressed = Object.fromEntries(list.map((f) => [f, {}]));
        out.precompressed_order = list;
        break;
      }
      case 'status': out.status_code = statusValue(line.string()); break;
      case 'disable_canonical_uris': line.args(0); out.canonical_uris = false; break;
      case 'pass_thru': line.args(0); out.pass_thru = true; break;
      case 'fs': case 'etag_file_extensions':
        throw line.err(`file_server: '${line.name}' is not supported by this server`);
      default: throw unknownName('subdirective in file_server', line.name, line.span, SUBS);
    }
  }
  const file = d.span.file;
  if (file && file !== '-' && !/^</.test(file)) {
    const hidden = file.includes('/') ? file : './' + file;
    if (!(out.hide ?? []).includes(hidden)) out.hide = [...(out.hide ?? []), hidden];
  }
  return out;
}
